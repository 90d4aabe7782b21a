import Stitching

/// Writes the `analyze --stitch --format json` document to a stream, byte for
/// byte what `JSONExportRenderer.encoder(pretty: true)` gives for the whole
/// document, one array element at a time: the per-packet sightings are most
/// of a stitch's memory when the text is built in one piece.
public enum StitchJSONWriter {
    public static func write(_ doc: StitchDocument, to out: ByteOutput) throws {
        let stream = JSONObjectStream(encoder: AnalysisJSONWriter.encoder(), to: out)
        // Every stored property of StitchDocument, in sorted key order (a test compares
        // this with the encoder's encoding of the whole document).
        try AnalysisJSONWriter.array("conversations", doc.conversations, stream)
        try stream.member("generator", doc.generator)
        try AnalysisJSONWriter.array("hops", doc.hops, stream)
        try AnalysisJSONWriter.array("natTranslations", doc.natTranslations, stream)
        try AnalysisJSONWriter.array("nats", doc.nats, stream)
        try AnalysisJSONWriter.array("notes", doc.notes, stream)
        try AnalysisJSONWriter.array("packets", doc.packets, stream)
        try stream.member("reference", doc.reference)
        try stream.member("schemaVersion", doc.schemaVersion)
        try AnalysisJSONWriter.array("transactions", doc.transactions, stream)
        try AnalysisJSONWriter.array("vantages", doc.vantages, stream)
        try stream.finish()
        out.write("\n")
    }
}
