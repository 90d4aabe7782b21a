import Renderers
import WireEvents

/// Prints the `messages` lines for each wire event as it arrives.
final class MessagesPrinter: WireEventConsumer {
    private let format: MessagesCommand.MessagesFormat
    private let output: OutputStream
    private let ndjson: MessagesNDJSON
    private let text: MessagesText
    private var writer = JSONByteWriter()

    init(format: MessagesCommand.MessagesFormat, output: OutputStream, includeFileIndex: Bool, colour: Bool) {
        self.format = format
        self.output = output
        self.ndjson = MessagesNDJSON(includeFileIndex: includeFileIndex)
        self.text = MessagesText(style: TerminalStyle(enabled: colour))
    }

    func wireEvent(_ event: WireEvent) {
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
