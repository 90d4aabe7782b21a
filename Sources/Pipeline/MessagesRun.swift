import Renderers
import StunWire

/// `stunscope messages`: one line per STUN message or ChannelData frame, in capture order.
///
/// Several files are one timestamp-ordered stream through one decoder and one
/// dissector, whatever `--jobs` says: a TURN 5-tuple learned in one file makes
/// ChannelData recognisable in the next, an ICE password learnt from SIP in one
/// file verifies the checks seen in another, and a TCP segment captured at two
/// points is delivered once. (A worker per file gave different lines for these.)
public struct MessagesRun {
    public var input: CaptureInput
    public var format: MessagesFormat
    public var credentials: CredentialStore
    public var turnPorts: [UInt16]
    /// Capture problems as they are found (the CLI prints them on stderr).
    public var report: @Sendable (String) -> Void
    /// How far the reading has got, a few times a second and once at the end (the progress line).
    public var progress: ((RunProgress) -> Void)?

    public init(input: CaptureInput, format: MessagesFormat, credentials: CredentialStore, turnPorts: [UInt16],
                report: @escaping @Sendable (String) -> Void) {
        self.input = input
        self.format = format
        self.credentials = credentials
        self.turnPorts = turnPorts
        self.report = report
    }

    public struct Outcome: Sendable {
        public var exitCode: Int32
        /// What bounded tables forgot: some later messages may be missing.
        public var evictions: DissectionEvictions
    }

    /// One timestamp-ordered stream over all the files.
    public func run(to out: FileDescriptorOutput) -> Outcome {
        let report = self.report
        let stream = CaptureStream(input: input) { report($0.description) }
        guard stream.open() else { return Outcome(exitCode: 2, evictions: DissectionEvictions()) }
        let printer = MessagesPrinter(format: format, output: out, includeFileIndex: stream.readers.count > 1,
                                      colour: format == .text && out.isTerminal)
        let dissection = Dissection(consumer: printer, credentials: credentials, turnPorts: turnPorts)
        stream.run(into: dissection.decoder, progress: progress)
        dissection.finish()
        out.flush()
        return Outcome(exitCode: stream.exitCode, evictions: dissection.evictions)
    }
}
