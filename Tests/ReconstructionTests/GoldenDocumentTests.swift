import Foundation
import Pipeline
import Reconstruction
import Renderers
import Testing

/// The `analyze --format json` document of every capture in captures/, byte
/// for byte, against the committed golden files: any change to what the
/// session model holds or how it is written shows up here as a diff to review.
///
/// Regenerate after an intended change with
/// `STUNSCOPE_UPDATE_GOLDEN=1 swift test --filter GoldenDocumentTests`
/// and read the diff before committing it.
@Suite("Golden analysis documents")
struct GoldenDocumentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static var captureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("captures").path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }

    /// The document as `stunscope analyze --format json --jobs 1 captures/NAME` writes it.
    static func document(_ name: String) -> [UInt8] {
        let path = repository.appendingPathComponent("captures").appendingPathComponent(name).path
        var (doc, _) = AnalysisPipeline(input: CaptureInput(captures: [path])).run()
        for i in doc.captures.indices { doc.captures[i].file = "captures/" + name }
        let out = ByteCollector()
        try? AnalysisJSONWriter.write(doc, to: out)
        return out.bytes
    }

    @Test("the corpus is there")
    func corpusPresent() {
        #expect(GoldenDocumentTests.captureNames.count >= 70)
    }

    @Test("analyze JSON equals the golden file", arguments: GoldenDocumentTests.captureNames)
    func matchesGolden(_ name: String) throws {
        let produced = GoldenDocumentTests.document(name)
        let golden = GoldenDocumentTests.goldenDirectory.appendingPathComponent(name + ".json")
        if ProcessInfo.processInfo.environment["STUNSCOPE_UPDATE_GOLDEN"] != nil {
            try Data(produced).write(to: golden)
            return
        }
        let expected = try [UInt8](Data(contentsOf: golden))
        if produced != expected {
            let a = String(decoding: produced, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let b = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            Issue.record("""
                \(name): differs from its golden file at line \(line + 1)
                  produced: \(line < a.count ? String(a[line]) : "<end>")
                  golden:   \(line < b.count ? String(b[line]) : "<end>")
                """)
        }
    }

    /// Dictionary and set order changes from one process to the next (and within one):
    /// the document must not depend on it.
    @Test("the same capture twice gives the same bytes", arguments: ["ice-relay-symmetric.public.pcap", "sip-ice-call.public.pcap",
                                                                       "turn-udp-channels.server.pcap", "stun-rfc5780.public.pcap"])
    func byteStable(_ name: String) {
        #expect(GoldenDocumentTests.document(name) == GoldenDocumentTests.document(name))
    }
}
