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
enum AnalysisJSONWriter {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Writes the document and a final newline.
    static func write(_ doc: AnalysisDocument, to out: OutputStream) throws {
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
    private static func writeElements<T: Encodable>(_ items: [T], encoder: JSONEncoder, to out: OutputStream) throws {
        if items.isEmpty {
            out.write("\n\n  ]")
            return
        }
        var line: [UInt8] = []
        for (i, item) in items.enumerated() {
            let data = try encoder.encode(item)
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: i == 0 ? Array("\n    ".utf8) : Array(",\n    ".utf8))
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
