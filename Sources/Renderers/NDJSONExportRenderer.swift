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
        // JSONEncoder's compact bytes, with C1 controls and U+2028/U+2029 escaped: legal raw in
        // JSON, but line breaks for readers that split on Unicode line boundaries (Python's
        // splitlines, JavaScript), and a line must stay one record.
        let encoder = ByteJSONEncoder(options: .init(
            pretty: false, escapesSlashes: false,
            nonFiniteNumbers: .strings(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN"),
            escapesUnicodeLineBreaks: true))
        var object: [UInt8] = []
        var line: [UInt8] = []
        for c in captures {
            let prefix = try encoder.encode(c.file)
            func emit(_ type: String, _ value: any Encodable) throws {
                object.removeAll(keepingCapacity: true)
                try encoder.encode(value, depth: 0, into: &object)
                // Splice `"capture":...,"type":...` in front of the object's own keys.
                line.removeAll(keepingCapacity: true)
                line.append(contentsOf: #"{"capture":"#.utf8)
                line.append(contentsOf: prefix)
                line.append(contentsOf: #","type":""#.utf8)
                line.append(contentsOf: type.utf8)
                line.append(UInt8(ascii: "\""))
                if object.count > 2 { line.append(UInt8(ascii: ",")) }
                line.append(contentsOf: object[1...])
                line.append(0x0a)
                write(Data(line))
            }
            try Self.lines(of: c, emit)
        }
    }

    /// One capture's lines in order, each as its `type` and the value whose members follow
    /// `capture` and `type`: the capture line, then every session, finding and transaction.
    static func lines(of c: ExportCapture, _ line: (String, any Encodable) throws -> Void) rethrows {
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
