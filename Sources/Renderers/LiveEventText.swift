import NetworkVocabulary
import Reconstruction

/// `live` output formats: events and the final summary as text or NDJSON.
public enum LiveFormat: String, CaseIterable, Sendable { case text, ndjson }

/// One live event as the line `live` prints: text
/// (`2024-05-01T10:00:00.123456789Z allocation.created ...`) or an NDJSON
/// object (`type`, `time`, `frame`, `kind`, `session`, `message`).
public enum LiveEventText {
    /// Completed transactions feed the RTT histogram only; they are not printed.
    public static func isPrinted(_ e: LiveEvent) -> Bool { e.kind != .transactionCompleted }

    /// The text line, newline included; the message is sanitised for a terminal.
    public static func line(_ e: LiveEvent) -> String {
        let t = CaptureTime(nanoseconds: Int64(e.time * 1e9)).iso8601
        return "\(t) \(e.kind.rawValue) \(TerminalText.sanitize(e.message))\n"
    }

    /// The NDJSON object, newline included.
    public static func ndjson(_ e: LiveEvent, into w: inout JSONByteWriter) {
        w.objectStart()
        w.key("type"); w.string("event")
        w.key("time"); w.epochSeconds(nanoseconds: Int64((e.time * 1e9).rounded()))
        w.key("frame"); w.int(e.frame)
        w.key("kind"); w.string(e.kind.rawValue)
        if let s = e.session { w.key("session"); w.string(s.description) }
        w.key("message"); w.string(e.message)
        w.objectEnd()
        w.newline()
    }
}

/// Prints live events as they happen (a line of text or an NDJSON object
/// each, flushed at once) and, at the end, the final summary of the capture.
public final class LiveEventPrinter: LiveEventObserver {
    public let format: LiveFormat
    public let output: FileDescriptorOutput

    public init(format: LiveFormat, output: FileDescriptorOutput) {
        self.format = format
        self.output = output
    }

    public func liveEvent(_ e: LiveEvent) {
        guard LiveEventText.isPrinted(e) else { return }
        switch format {
        case .text:
            output.write(LiveEventText.line(e))
        case .ndjson:
            var w = JSONByteWriter()
            LiveEventText.ndjson(e, into: &w)
            output.write(bytes: w.bytes)
        }
        output.flush()
    }

    /// The session model of the whole capture: `analyze`'s text after an
    /// empty line, or `export --format ndjson`'s lines with `capture` as the file.
    public func summary(_ doc: AnalysisDocument, capture: String) {
        switch format {
        case .text:
            output.write("\n")
            output.write(AnalysisTextRenderer(style: TerminalStyle(enabled: output.isTerminal)).render(doc))
        case .ndjson:
            if let data = try? NDJSONExportRenderer().render([ExportCapture(file: capture, document: doc)]) {
                output.write(String(decoding: data, as: UTF8.self))
            }
        }
        output.flush()
    }
}
