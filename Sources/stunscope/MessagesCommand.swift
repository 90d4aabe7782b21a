import ArgumentParser
import CaptureSource
import Foundation
import PacketDecoding
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
        default 3478 and 5349). Malformed messages are reported, never fatal.

        --credentials FILE checks MESSAGE-INTEGRITY: lines user:realm:password \
        (TURN long-term) or ufrag:password (ICE short-term); a ':' inside a field \
        is written '\\:'. Results are valid, invalid or unchecked (no key known); \
        keys and passwords are never printed.

        The NDJSON fields are documented in docs/messages.md.

        Examples:
          stunscope messages captures/turn-udp-channels.server.pcap
          stunscope messages --format ndjson --credentials creds.txt call.pcapng
        """
    )

    @OptionGroup var input: CaptureOptions

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
            help: ArgumentHelp("A TURN server port: ChannelData is accepted on it from the first packet. Repeatable; 3478 and 5349 always count.",
                               valueName: "port"))
    var turnPorts: [UInt16] = []

    enum MessagesFormat: String, ExpressibleByArgument, CaseIterable { case text, ndjson }

    func run() throws {
        let store: CredentialStore
        do {
            store = try credentials.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore()
            try SdpInput(paths: sdp).addCredentials(to: store)
        } catch {
            throw ValidationError("\(error)")
        }
        if parallel.count > 1 && input.captures.count > 1 {
            // --jobs: one worker per file, lines merged by capture time.
            let status = ParallelMessages.run(input, jobs: parallel.count, format: format, store: store,
                                              turnPorts: turnPorts, out: OutputStream.standardOutput)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let pipeline = CapturePipeline(options: input)
        guard pipeline.open() else { throw ExitStatus.captureError }

        let out = OutputStream.standardOutput
        let printer = MessagesPrinter(format: format, output: out, includeFileIndex: pipeline.readers.count > 1,
                                      colour: format == .text && out.isTerminal)
        var configuration = WireDissector.Configuration()
        configuration.turnServerPorts.formUnion(turnPorts)
        let dissector = WireDissector(consumer: printer, credentials: store, configuration: configuration)
        let decoder = PacketDecoder(sink: dissector)
        pipeline.run(into: decoder)
        dissector.finish()
        out.flush()

        let statistics = dissector.statistics
        let decoded = decoder.currentStatistics()
        let tcpStreams = statistics.tcpStreamsEvicted + decoded.tcpStreamsEvicted
        if statistics.turnFlowsEvicted > 0 || tcpStreams > 0 || statistics.integrityTransactionsEvicted > 0
            || decoded.fragmentDatagramsEvicted > 0 {
            StandardError.report("note: bounded tables forgot \(statistics.turnFlowsEvicted) TURN 5-tuples, "
                + "\(tcpStreams) TCP streams, \(decoded.fragmentDatagramsEvicted) incomplete IP datagrams and "
                + "\(statistics.integrityTransactionsEvicted) request keys; some later messages, ChannelData or "
                + "integrity results may be missing")
        }
        if pipeline.exitCode != 0 { throw ExitCode(pipeline.exitCode) }
    }
}
