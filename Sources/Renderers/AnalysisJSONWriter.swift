import Reconstruction

/// Writes the `analyze --format json` document to a stream, byte for byte
/// what `JSONEncoder` with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`
/// produces for the whole document, without building it in one piece.
///
/// Encoding a document of thousands of allocations in one piece holds all of
/// its text at once (hundreds of MiB for a busy server's hour). Here the
/// document's members are written in key order, and each session array one
/// element at a time (`JSONObjectStream`), so a caller holding sessions as
/// they end can write them the same way.
public enum AnalysisJSONWriter {
    /// The options of the document: what `JSONExportRenderer.encoder(pretty: true)` was.
    public static func encoder() -> ByteJSONEncoder { JSONExportRenderer.encoder(pretty: true) }

    /// Writes the document and a final newline.
    public static func write(_ doc: AnalysisDocument, to out: ByteOutput) throws {
        let stream = JSONObjectStream(encoder: encoder(), to: out)
        // Every stored property of AnalysisDocument, in sorted key order (the golden
        // tests compare this with JSONEncoder's encoding of the whole document).
        try array("allocations", doc.allocations, stream)
        try array("bindings", doc.bindings, stream)
        try stream.member("captures", doc.captures)
        try array("findings", doc.findings, stream)
        try stream.member("generator", doc.generator)
        try array("iceSessions", doc.iceSessions, stream)
        try array("natMappings", doc.natMappings, stream)
        try stream.member("schemaVersion", doc.schemaVersion)
        try array("sipCalls", doc.sipCalls, stream)
        try stream.member("stats", doc.stats)
        try array("transactions", doc.transactions, stream)
        try stream.finish()
        out.write("\n")
    }

    static func array<T: Encodable>(_ key: String, _ items: [T], _ stream: JSONObjectStream) throws {
        try stream.beginArray(key)
        for item in items { try stream.element(item) }
        try stream.endArray()
    }
}
