import Renderers
import WireEvents

/// `messages` output formats.
public enum MessagesFormat: String, CaseIterable, Sendable { case text, ndjson }

/// One `messages` line per wire event, in the chosen format: the one place the
/// single-stream printer and the `--jobs` workers render lines.
struct MessageLineRenderer {
    private let format: MessagesFormat
    private let ndjson: MessagesNDJSON
    private let text: MessagesText
    private var writer = JSONByteWriter()

    init(format: MessagesFormat, includeFileIndex: Bool, colour: Bool) {
        self.format = format
        self.ndjson = MessagesNDJSON(includeFileIndex: includeFileIndex)
        self.text = MessagesText(style: TerminalStyle(enabled: colour))
    }

    /// Appends the event's line (with its newline) to `bytes`; false when the event has none.
    mutating func append(_ event: WireEvent, to bytes: inout [UInt8]) -> Bool {
        switch format {
        case .ndjson:
            writer.reset()
            guard ndjson.write(event, to: &writer) else { return false }
            bytes.append(contentsOf: writer.bytes)
        case .text:
            guard let line = text.line(event) else { return false }
            bytes.append(contentsOf: line.utf8)
            bytes.append(0x0a)
        }
        return true
    }
}

/// Prints the `messages` lines for each wire event as it arrives.
public final class MessagesPrinter: WireEventConsumer {
    private let output: FileDescriptorOutput
    private var renderer: MessageLineRenderer
    private var line: [UInt8] = []

    public init(format: MessagesFormat, output: FileDescriptorOutput, includeFileIndex: Bool, colour: Bool) {
        self.output = output
        renderer = MessageLineRenderer(format: format, includeFileIndex: includeFileIndex, colour: colour)
    }

    public func wireEvent(_ event: WireEvent) {
        line.removeAll(keepingCapacity: true)
        if renderer.append(event, to: &line) { output.write(bytes: line) }
    }
}
