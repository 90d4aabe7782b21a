import ArgumentParser
import Foundation
import Pipeline
import Reconstruction
import Renderers

/// `stunscope analyze`: the reconstruction, as text timelines or the JSON document.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Rebuild TURN allocations, Binding sessions, ICE sessions and findings, with a timeline per session.",
        discussion: """
        Text output: a summary, the findings (severity, stable code, a sentence \
        for a ticket, the frames behind it), then per session a timeline with \
        relative time, frame, direction, message, key attributes and RTT. \
        Colour is used when stdout is a terminal.

        JSON output (the machine contract, docs/analyze.md): top-level keys \
        schemaVersion, captures, stats, allocations, bindings, natMappings, \
        iceSessions, sipCalls, transactions, findings.

        While it reads, a progress line on stderr (a terminal only, after the \
        first second; --quiet turns it off) shows the bytes read of the total, \
        the time left, packets/s and the sessions alive; it is erased before \
        the output.

        Credentials file lines: `user:realm:password` (TURN long-term) or \
        `ufrag:password` (ICE short-term); they verify MESSAGE-INTEGRITY and are \
        never printed.

        Stitching (--stitch, or --vantage NAME=FILE): each file is one vantage \
        point of the same call (a client's LAN, a firewall's outside, the TURN \
        server). A datagram seen at several of them is one packet with several \
        sightings; the output gives each capture's clock offset (with its \
        uncertainty), the NAT translations and each NAT's mapping and \
        filtering behaviour, delay and loss per hop, and a timeline with one \
        lane per vantage point (docs/stitch.md). Formats: text, json, mermaid.

        Examples:
          stunscope analyze captures/turn-udp-channels.server.pcap
          stunscope analyze --format json --credentials creds.txt call.pcapng | jq .findings
          stunscope analyze --vantage lan=client.pcap --vantage server=turn.pcap
        """
    )

    @OptionGroup var input: CaptureOptions

    @OptionGroup var parallel: JobsOption

    @Option(help: "Output format: text or json.")
    var format: AnalyzeFormat = .text

    @Option(help: ArgumentHelp("Credentials file (user:realm:password or ufrag:password per line).", valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("sdp"), help: ArgumentHelp("Offer/answer SDP text from outside the capture (repeatable).", valueName: "file"))
    var sdp: [String] = []

    @Flag(help: "Each capture is one vantage point of the same traffic: stitch them into one story (docs/stitch.md).")
    var stitch = false

    @Option(name: .customLong("vantage"), help: ArgumentHelp("A named vantage point for --stitch (repeatable; implies --stitch). Unnamed captures are named after their file.", valueName: "NAME=FILE"))
    var vantages: [String] = []

    @Flag(help: "Never colour the text output.")
    var noColor = false

    @OptionGroup var progress: QuietOption

    enum AnalyzeFormat: String, ExpressibleByArgument { case text, json, mermaid }

    var stitching: Bool { stitch || !vantages.isEmpty }

    func validate() throws {
        if input.captures.isEmpty && vantages.isEmpty { throw ValidationError("give at least one capture file") }
        if format == .mermaid && !stitching { throw ValidationError("--format mermaid is for --stitch (export --format mermaid draws one capture's sessions)") }
        if stitching {
            if let twice = StitchRun.duplicateName(in: stitchVantages) {
                throw ValidationError("two vantage points are named '\(twice)': name them with --vantage NAME=FILE")
            }
        }
    }

    /// `--vantage NAME=FILE` first, then the positional captures (named after their files).
    var stitchVantages: [StitchRun.VantageFile] { StitchRun.vantageFiles(named: vantages, unnamed: input.captures) }

    func run() throws {
        if stitching { return try runStitch() }
        // Every file in one timestamp-ordered stream, whatever --jobs says (JobsOption).
        var pipeline = AnalysisPipeline(input: input.captureInput, credentialsFile: credentials, sdpFiles: sdp,
                                        report: StandardError.report)
        let line = progress.startProgressLine()
        pipeline.progress = line.map { $0.showReading }
        let (doc, status) = pipeline.run()
        line?.finish()
        if doc.captures.isEmpty && status != 0 { throw ExitCode(status) }
        let out = FileDescriptorOutput.standardOutput
        switch format {
        case .json:
            // Streamed: same bytes as one JSONEncoder call, without the whole document in memory twice.
            try AnalysisJSONWriter.write(doc, to: out)
        case .mermaid:
            break  // refused by validate()
        case .text:
            let style = TerminalStyle(enabled: out.isTerminal && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
            out.write(AnalysisTextRenderer(style: style).render(doc))
        }
        out.flush()
        if status != 0 { throw ExitCode(status) }
    }

    private func runStitch() throws {
        let run = StitchRun(vantages: stitchVantages, filter: input.filter, credentialsFile: credentials, report: StandardError.report)
        guard case let .stitched(doc, status) = run.run() else { throw ExitCode(2) }
        let out = FileDescriptorOutput.standardOutput
        switch format {
        case .json:
            try StitchJSONWriter.write(doc, to: out)
        case .mermaid:
            out.write(StitchMermaidRenderer().render(doc))
        case .text:
            let style = TerminalStyle(enabled: out.isTerminal && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
            out.write(StitchTextRenderer(style: style).render(doc))
        }
        out.flush()
        if status != 0 { throw ExitCode(status) }
    }
}
