import Foundation
import Reconstruction

/// `export --format ndjson`: one JSON object per line, for jq and log shippers
/// (Elastic, Loki, ClickHouse). Every line has `type` (`capture`,
/// `allocation`, `binding`, `natMapping`, `iceSession`, `sipCall`, `finding`,
/// `transaction`) and `capture` (the file) next to the object's own fields,
/// which are those of the JSON document.
public struct NDJSONExportRenderer {
    public init() {}

    public static let types = ["capture", "allocation", "binding", "natMapping", "iceSession", "sipCall", "finding", "transaction"]

    public func render(_ captures: [ExportCapture], into write: (Data) -> Void) throws {
        let encoder = JSONExportRenderer.encoder(pretty: false)
        for c in captures {
            let prefix = try encoder.encode(c.file)
            func line<T: Encodable>(_ type: String, _ value: T) throws {
                var object = try encoder.encode(value)
                // Splice `"capture":...,"type":...` in front of the object's own keys.
                var head = Data("{\"capture\":".utf8)
                head.append(prefix)
                head.append(contentsOf: Array(",\"type\":\"\(type)\"".utf8))
                object.removeFirst()   // "{"
                if object.first != UInt8(ascii: "}") { head.append(UInt8(ascii: ",")) }
                head.append(object)
                head.append(0x0a)
                write(head)
            }
            let doc = c.document
            var summary = c.summary
            summary.file = c.file
            try line("capture", CaptureLine(summary: summary, schemaVersion: doc.schemaVersion, stats: doc.stats))
            for a in doc.allocations { try line("allocation", a) }
            for b in doc.bindings { try line("binding", b) }
            for n in doc.natMappings { try line("natMapping", n) }
            for i in doc.iceSessions { try line("iceSession", i) }
            for s in doc.sipCalls { try line("sipCall", s) }
            for f in doc.findings { try line("finding", f) }
            for t in doc.transactions { try line("transaction", t) }
        }
    }

    public func render(_ captures: [ExportCapture]) throws -> Data {
        var out = Data()
        try render(captures) { out.append($0) }
        return out
    }

    /// The `capture` line: the file summary, the schema version and the stats.
    struct CaptureLine: Encodable {
        var summary: CaptureFileSummary
        var schemaVersion: String
        var stats: AnalysisStats

        enum Keys: String, CodingKey { case schemaVersion, stats }

        func encode(to encoder: Encoder) throws {
            try summary.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(schemaVersion, forKey: .schemaVersion)
            try c.encode(stats, forKey: .stats)
        }
    }
}
