import Foundation
import Pipeline
import Renderers
import Stitching
import Testing

/// The streamed stitch document is the whole-document encoding, byte for byte, and
/// Foundation's JSONEncoder reads the same keys and values from it.
@Suite struct StitchJSONWriterTests {
    static let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("captures")

    @Test func streamedEqualsWholeDocument() throws {
        let files = ["lan-a", "public", "turn-server", "lan-b"].map {
            StitchRun.VantageFile(name: $0, path: Self.captures.appendingPathComponent("ice-relay-symmetric.\($0).pcap").path)
        }
        guard case let .stitched(doc, status) = StitchRun(vantages: files).run() else {
            Issue.record("the stitch failed")
            return
        }
        #expect(status == 0)
        #expect(doc.packets.count > 50 && !doc.natTranslations.isEmpty)
        let streamed = ByteCollector()
        try StitchJSONWriter.write(doc, to: streamed)
        let whole = try JSONExportRenderer.encoder(pretty: true).encode(doc) + Array("\n".utf8)
        #expect(streamed.bytes == whole)
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let a = try JSONSerialization.jsonObject(with: Data(streamed.bytes)) as? NSDictionary
        let b = try JSONSerialization.jsonObject(with: foundation.encode(doc)) as? NSDictionary
        #expect(a == b)
    }
}
