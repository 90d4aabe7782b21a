import ArgumentParser
import Foundation
import Pipeline
import Renderers

/// `stunscope export`: the session model in formats other tools and people read.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export sessions as JSON, NDJSON, CSV, SQLite, a self-contained HTML report, or Mermaid diagrams.",
        discussion: """
        Each capture file is analysed on its own (as `analyze` would with that \
        one file) unless --merge is given, which analyses them together as one \
        capture set, as `analyze` does.

        Formats (docs/export.md):
          json     the analyze document (docs/schema/analysis-1.0.schema.json); \
        several captures give a JSON array of documents
          ndjson   one object per line with `type` and `capture` keys: capture, \
        allocation, binding, natMapping, iceSession, sipCall, finding, transaction
          csv      a directory with one RFC 4180 file per table
          sqlite   a database file; exporting into an existing one appends \
        (the same capture again replaces its rows)
          html     one self-contained file with ladder diagrams
          mermaid  Markdown with one sequenceDiagram per session

        --output - writes to stdout (json, ndjson, html, mermaid).

        While it reads, a progress line on stderr (a terminal only, after the \
        first second; --quiet, or its older name --no-progress, turns it off) \
        shows the bytes read of all the captures, the time left, packets/s and \
        the sessions alive; it is erased before anything else is written.

        Examples:
          stunscope export call.pcapng --format html --output report.html
          stunscope export a.pcap b.pcap --format sqlite --output sessions.db
          stunscope export server.pcap --format ndjson --output - | jq 'select(.type=="finding")'
        """
    )

    @OptionGroup var input: CaptureOptions

    @OptionGroup var parallel: JobsOption

    @Option(help: "Output format: json, ndjson, csv, sqlite, html or mermaid.")
    var format: ExportFormat

    @Option(name: [.short, .long], help: ArgumentHelp("Output file (directory for csv); - for stdout.", valueName: "path"))
    var output: String

    @Option(help: ArgumentHelp("Credentials file (user:realm:password or ufrag:password per line).", valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("sdp"), help: ArgumentHelp("Offer/answer SDP text from outside the capture (repeatable).", valueName: "file"))
    var sdp: [String] = []

    @Flag(help: "Analyse all captures together as one set (as analyze does) instead of one by one.")
    var merge = false

    @OptionGroup var progress: QuietOption

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case json, ndjson, csv, sqlite, html, mermaid
    }

    func validate() throws {
        try input.requireCaptures()
        if output == "-" && !format.rendererFormat.canWriteToStandardOutput {
            throw ValidationError("--format \(format.rawValue) cannot write to stdout: give a \(format == .csv ? "directory" : "database file") with --output")
        }
        if output.isEmpty { throw ValidationError("--output must not be empty") }
    }

    func run() throws {
        var run = ExportRun(input: input.captureInput, merge: merge, credentialsFile: credentials, sdpFiles: sdp,
                            jobs: parallel.count, report: StandardError.report)
        let line = progress.startProgressLine()
        if let line {
            let sum = ExportProgress(groups: run.groups.count, totalBytes: input.captureInput.totalBytes, line: line)
            run.progress = { group, progress in sum.update(group: group, progress) }
        }
        let (exports, status) = run.run()
        line?.finish()
        if exports.isEmpty { throw ExitCode(status) }

        do {
            try ExportWriter.write(exports, format: format.rendererFormat, to: output)
        } catch let e as ExportError {
            StandardError.report(e.description)
            throw ExitCode(1)
        } catch {
            StandardError.report("cannot write \(output): \(error)")
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension ExportCommand.ExportFormat {
    var rendererFormat: Renderers.ExportFormat {
        switch self {
        case .json: .json
        case .ndjson: .ndjson
        case .csv: .csv
        case .sqlite: .sqlite
        case .html: .html
        case .mermaid: .mermaid
        }
    }
}
