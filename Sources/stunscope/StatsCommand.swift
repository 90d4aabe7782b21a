import ArgumentParser
import NetworkVocabulary
import Pipeline
import Renderers

/// `stunscope stats`: a capinfos-like overview of what the decoder sees.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Overview of captures: formats, link types, packet/protocol counts, flows, reassembly.",
        discussion: """
        Counts agree with capinfos (packets, bytes, first/last time) and tshark \
        (ip, ipv6, udp, tcp, icmp frames; tcp.stream count). For a reassembled \
        IP datagram UDP/TCP is counted once, at its last fragment, as tshark does.

        While it reads, a progress line on stderr (a terminal only, after the \
        first second; --quiet turns it off) shows the bytes read of the total, \
        the time left and packets/s; it is erased before the output.

        Examples:
          stunscope stats captures/turn-udp-channels.server.pcap
          stunscope stats --format json rotated-*.pcap
        """
    )

    @OptionGroup var input: CaptureOptions

    func validate() throws { try input.requireCaptures() }

    @Option(help: "Output format: text or json.")
    var format: StatsFormat = .text

    @OptionGroup var progress: QuietOption

    enum StatsFormat: String, ExpressibleByArgument { case text, json }

    func run() throws {
        var run = StatisticsRun(input: input.captureInput, report: StandardError.report)
        let line = progress.startProgressLine()
        run.progress = line.map { $0.showReading }
        let (report, status) = run.run()
        line?.finish()
        guard let report else { throw ExitStatus.captureError }
        let out = FileDescriptorOutput.standardOutput
        switch format {
        case .json: out.write(report.json() + "\n")
        case .text: out.write(report.text())
        }
        out.flush()
        if status != 0 { throw ExitCode(status) }
    }
}
