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
            let prefix = NDJSONExportRenderer.escapeLineBreaks(try encoder.encode(c.file))
            func line<T: Encodable>(_ type: String, _ value: T) throws {
                var object = NDJSONExportRenderer.escapeLineBreaks(try encoder.encode(value))
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

    /// JSONEncoder leaves C1 controls (NEL, U+0085) and U+2028/U+2029 raw: legal JSON,
    /// but line breaks for readers that split on Unicode line boundaries (Python's
    /// splitlines, JavaScript). Outside strings JSON is ASCII, so a byte-level
    /// rewrite to `\uXXXX` only touches string contents.
    static func escapeLineBreaks(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        guard bytes.contains(where: { $0 == 0xC2 || $0 == 0xE2 }) else { return data }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        func escape(_ v: Int) {
            out.append(contentsOf: Array(String(format: "\\u%04x", v).utf8))
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0xC2, i + 1 < bytes.count, bytes[i + 1] & 0xE0 == 0x80 {
                escape(Int(bytes[i + 1]))
                i += 2
            } else if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                escape(0x2000 + Int(bytes[i + 2]) - 0xA8 + 0x28)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return Data(out)
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
