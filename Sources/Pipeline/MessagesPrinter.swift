import Renderers
import WireEvents

/// `messages` output formats.
public enum MessagesFormat: String, CaseIterable, Sendable { case text, ndjson }

/// Prints the `messages` lines for each wire event as it arrives.
public final class MessagesPrinter: WireEventConsumer {
    private let format: MessagesFormat
    private let output: FileDescriptorOutput
    private let ndjson: MessagesNDJSON
    private let text: MessagesText
    private var writer = JSONByteWriter()

    public init(format: MessagesFormat, output: FileDescriptorOutput, includeFileIndex: Bool, colour: Bool) {
        self.format = format
        self.output = output
        self.ndjson = MessagesNDJSON(includeFileIndex: includeFileIndex)
        self.text = MessagesText(style: TerminalStyle(enabled: colour))
    }

    public func wireEvent(_ event: WireEvent) {
        switch format {
        case .ndjson:
            writer.reset()
            if ndjson.write(event, to: &writer) {
                writer.bytes.withUnsafeBytes { output.write(bytes: $0) }
            }
        case .text:
            if let line = text.line(event) { output.write(line + "\n") }
        }
    }
}
