import Foundation
import Reconstruction

/// Writes the `analyze --format json` document to a stream, byte for byte
/// what `JSONEncoder` with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`
/// produces for the whole document, without building it in one piece.
///
/// Encoding a document of thousands of allocations in one `encode` call
/// holds the whole intermediate JSON tree and the whole output in memory at
/// once (hundreds of MiB for a busy server's hour). Here the document is
/// encoded with its session arrays emptied (the "skeleton"), and each array
/// element is encoded on its own and written into its place, re-indented.
public enum AnalysisJSONWriter {
    public static func encoder() -> JSONEncoder { JSONExportRenderer.encoder(pretty: true) }

    /// Writes the document and a final newline.
    public static func write(_ doc: AnalysisDocument, to out: ByteOutput) throws {
        let encoder = encoder()
        var skeleton = doc
        skeleton.allocations = []
        skeleton.bindings = []
        skeleton.transactions = []
        skeleton.findings = []
        skeleton.iceSessions = []
        skeleton.natMappings = []
        let text = Array(try encoder.encode(skeleton))
        // Top-level keys are at indentation 2: `  "name" : [`.
        var streams: [(marker: [UInt8], write: () throws -> Void)] = []
        func add<T: Encodable>(_ name: String, _ items: [T]) {
            streams.append((Array("\n  \"\(name)\" : [".utf8), {
                try writeElements(items, encoder: encoder, to: out)
            }))
        }
        add("allocations", doc.allocations)
        add("bindings", doc.bindings)
        add("transactions", doc.transactions)
        add("findings", doc.findings)
        add("iceSessions", doc.iceSessions)
        add("natMappings", doc.natMappings)

        var position = 0
        while position < text.count {
            // The next streamed array in the skeleton, if any.
            var next: (start: Int, end: Int, index: Int)?
            for (k, s) in streams.enumerated() {
                guard let at = find(s.marker, in: text, from: position) else { continue }
                let open = at + s.marker.count
                guard let close = text[open...].firstIndex(of: UInt8(ascii: "]")) else { continue }
                if next == nil || at < next!.start { next = (open, close + 1, k) }
            }
            guard let n = next else {
                text[position...].withUnsafeBytes { out.write(bytes: $0) }
                break
            }
            text[position..<n.start].withUnsafeBytes { out.write(bytes: $0) }
            try streams[n.index].write()
            position = n.end
        }
        out.write("\n")
    }

    /// `[` is already written: the elements at indentation 4, then `\n  ]`
    /// (for an empty array, JSONEncoder's `\n\n  ]`).
    private static func writeElements<T: Encodable>(_ items: [T], encoder: JSONEncoder, to out: ByteOutput) throws {
        if items.isEmpty {
            out.write("\n\n  ]")
            return
        }
        var line: [UInt8] = []
        // Tens of thousands of transaction summaries: written directly (see TransactionJSON),
        // checked against JSONEncoder on the first ones.
        var fast = false
        if let first = items.first as? TransactionSummary { fast = TransactionJSON.fieldsKnown(first) }
        var checked = 0
        for (i, item) in items.enumerated() {
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: i == 0 ? Array("\n    ".utf8) : Array(",\n    ".utf8))
            if fast, let t = item as? TransactionSummary {
                let start = line.count
                if TransactionJSON.write(t, into: &line) {
                    if checked < TransactionJSON.verifiedElements {
                        checked += 1
                        var expected: [UInt8] = []
                        indent(Array(try encoder.encode(item)), into: &expected)
                        if Array(line[start...]) != expected {
                            fast = false
                            line.removeSubrange(start...)
                            line.append(contentsOf: expected)
                        }
                    }
                    out.write(bytes: line)
                    continue
                }
                line.removeSubrange(start...)
            }
            let data = try encoder.encode(item)
            // Blank lines (JSONEncoder's empty arrays) stay blank.
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for (k, byte) in raw.enumerated() {
                    line.append(byte)
                    if byte == 0x0a && k + 1 < raw.count && raw[k + 1] != 0x0a { line.append(contentsOf: [0x20, 0x20, 0x20, 0x20]) }
                }
            }
            out.write(bytes: line)
        }
        out.write("\n  ]")
    }

    /// JSONEncoder output of one element re-indented by 4 (blank lines stay blank).
    private static func indent(_ data: [UInt8], into line: inout [UInt8]) {
        for (k, byte) in data.enumerated() {
            line.append(byte)
            if byte == 0x0a && k + 1 < data.count && data[k + 1] != 0x0a { line.append(contentsOf: [0x20, 0x20, 0x20, 0x20]) }
        }
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = start
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == needle[0] {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

/// `TransactionSummary` as JSONEncoder (pretty, sorted keys, unescaped
/// slashes) writes it at indentation 4, without its reflection-based
/// machinery. Used only while the type's stored properties are the ones
/// listed here (checked once with Mirror) and after the first elements of a
/// run matched JSONEncoder byte for byte; a string that would need escaping
/// sends its element to JSONEncoder.
enum TransactionJSON {
    static let verifiedElements = 64
    static let fields: Set<String> = ["transactionId", "method", "client", "server", "transport", "firstRequest",
                                      "lastRequest", "requestFrames", "retransmissions", "retransmissionSpacing",
                                      "state", "responseFrame", "responseTime", "errorCode", "rtt", "nested"]

    /// True when the type's stored properties are exactly `fields`.
    static func fieldsKnown(_ sample: TransactionSummary) -> Bool {
        Set(Mirror(reflecting: sample).children.compactMap(\.label)) == fields
    }

    /// False (nothing useful written) when a string needs escaping.
    public static func write(_ t: TransactionSummary, into out: inout [UInt8]) -> Bool {
        out.append(contentsOf: "{\n      \"client\" : ".utf8)
        guard string(t.client, &out) else { return false }
        if let e = t.errorCode { key("errorCode", &out); out.append(contentsOf: String(e).utf8) }
        guard t.firstRequest.isFinite, t.lastRequest.isFinite, t.responseTime?.isFinite ?? true, t.rtt?.isFinite ?? true,
              t.retransmissionSpacing.allSatisfy(\.isFinite) else { return false }
        key("firstRequest", &out); number(t.firstRequest, &out)
        key("lastRequest", &out); number(t.lastRequest, &out)
        key("method", &out); guard string(t.method, &out) else { return false }
        key("nested", &out); out.append(contentsOf: (t.nested ? "true" : "false").utf8)
        key("requestFrames", &out); array(t.requestFrames.map { String($0) }, &out)
        if let f = t.responseFrame { key("responseFrame", &out); out.append(contentsOf: String(f).utf8) }
        if let r = t.responseTime { key("responseTime", &out); number(r, &out) }
        key("retransmissionSpacing", &out); array(t.retransmissionSpacing.map(numberText), &out)
        key("retransmissions", &out); out.append(contentsOf: String(t.retransmissions).utf8)
        if let r = t.rtt { key("rtt", &out); number(r, &out) }
        key("server", &out); guard string(t.server, &out) else { return false }
        key("state", &out); guard string(t.state.rawValue, &out) else { return false }
        key("transactionId", &out); guard string(t.transactionId, &out) else { return false }
        key("transport", &out); guard string(t.transport.description, &out) else { return false }
        out.append(contentsOf: "\n    }".utf8)
        return true
    }

    private static func key(_ k: String, _ out: inout [UInt8]) {
        out.append(contentsOf: ",\n      \"".utf8)
        out.append(contentsOf: k.utf8)
        out.append(contentsOf: "\" : ".utf8)
    }

    private static func string(_ v: String, _ out: inout [UInt8]) -> Bool {
        out.append(0x22)
        for b in v.utf8 {
            if b < 0x20 || b == 0x22 || b == 0x5c { return false }
            out.append(b)
        }
        out.append(0x22)
        return true
    }

    /// JSONEncoder writes a Double as its description without a trailing ".0".
    static func numberText(_ d: Double) -> String {
        var text = d.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    private static func number(_ d: Double, _ out: inout [UInt8]) {
        out.append(contentsOf: numberText(d).utf8)
    }

    private static func array(_ items: [String], _ out: inout [UInt8]) {
        if items.isEmpty {
            out.append(contentsOf: "[\n\n      ]".utf8)
            return
        }
        out.append(contentsOf: "[\n".utf8)
        for (i, v) in items.enumerated() {
            if i > 0 { out.append(contentsOf: ",\n".utf8) }
            out.append(contentsOf: "        ".utf8)
            out.append(contentsOf: v.utf8)
        }
        out.append(contentsOf: "\n      ]".utf8)
    }
}
