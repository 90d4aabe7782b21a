import ArgumentParser
import Foundation
import NetworkVocabulary
import Pipeline
import Renderers
import StunWire
import WireEvents

/// `stunscope messages`: one line per STUN message or ChannelData frame.
struct MessagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "One line per STUN message or ChannelData frame, in capture order.",
        discussion: """
        STUN is found on any UDP port by heuristics (RFC 5389 magic cookie with an \
        exact length and a consistent attribute walk; classic RFC 3489 only for \
        known types), over TCP with stream framing (TURN over TCP, RFC 4571 \
        ICE-TCP), inside ChannelData frames and DATA attributes (shown with their \
        carrier) and quoted in ICMP errors. ChannelData is recognised on 5-tuples \
        already seen carrying TURN, or with a TURN server port (--turn-port, \
        default \(WellKnownPorts.stun) and \(WellKnownPorts.stuns)). Malformed messages are reported, never fatal.

        --credentials FILE checks MESSAGE-INTEGRITY: lines user:realm:password \
        (TURN long-term) or ufrag:password (ICE short-term); a ':' inside a field \
        is written '\\:'. Results are valid, invalid or unchecked (no key known); \
        keys and passwords are never printed.

        The NDJSON fields are documented in docs/messages.md.

        While it reads, a progress line on stderr (a terminal only, after the \
        first second; --quiet turns it off) shows the bytes read of the total, \
        the time left and packets/s; lines written to the same terminal scroll \
        above it, and it is erased at the end.

        Examples:
          stunscope messages captures/turn-udp-channels.server.pcap
          stunscope messages --format ndjson --credentials creds.txt call.pcapng
        """
    )

    @OptionGroup var input: CaptureOptions

    func validate() throws { try input.requireCaptures() }

    @OptionGroup var parallel: JobsOption

    @Option(help: "Output format: text or ndjson.")
    var format: MessagesFormat = .text

    @Option(help: ArgumentHelp("Passwords for MESSAGE-INTEGRITY checks (user:realm:password or ufrag:password per line).",
                               valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("sdp"),
            help: ArgumentHelp("Offer/answer SDP text from outside the capture (repeatable): its ice-ufrag/ice-pwd verify the ICE checks.",
                               valueName: "file"))
    var sdp: [String] = []

    @Option(name: .customLong("turn-port"),
            help: ArgumentHelp("A TURN server port: ChannelData is accepted on it from the first packet. Repeatable; \(WellKnownPorts.stun) and \(WellKnownPorts.stuns) always count.",
                               valueName: "port"))
    var turnPorts: [UInt16] = []

    @OptionGroup var progress: QuietOption

    enum MessagesFormat: String, ExpressibleByArgument, CaseIterable { case text, ndjson }

    func run() throws {
        let store: CredentialStore
        do {
            store = try credentials.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore()
            try SdpInput(paths: sdp).addCredentials(to: store)
        } catch {
            throw ValidationError("\(error)")
        }
        var run = MessagesRun(input: input.captureInput, format: format.pipelineFormat, credentials: store, turnPorts: turnPorts,
                              report: StandardError.report)
        let out = FileDescriptorOutput.standardOutput
        let line = progress.startProgressLine()
        run.progress = line.map { $0.showReading }
        if out.isTerminal { out.statusLine = line }
        let outcome = run.run(to: out)
        line?.finish()
        let e = outcome.evictions
        if !e.isEmpty {
            StandardError.report("note: bounded tables forgot \(e.turnFiveTuples) TURN 5-tuples, "
                + "\(e.tcpStreams) TCP streams, \(e.ipFragments) incomplete IP datagrams and "
                + "\(e.integrityRequestKeys) request keys; some later messages, ChannelData or "
                + "integrity results may be missing")
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

extension MessagesCommand.MessagesFormat {
    var pipelineFormat: Pipeline.MessagesFormat { self == .text ? .text : .ndjson }
}
