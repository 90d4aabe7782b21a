import ArgumentParser
import FleetDatabase
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

        --stitch (or --vantage NAME=FILE): the files are vantage points of one \
        call, stitched as `analyze --stitch` does (docs/stitch.md): json is the \
        stitched document, html a page with the NATs, hops and a ladder with a \
        lane per vantage point and NAT, mermaid its sequence diagram.

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

    @Option(help: "Output format: json, ndjson, csv, sqlite, html, mermaid or postgres.")
    var format: ExportFormat

    @Option(name: [.short, .long], help: ArgumentHelp("Output file (directory for csv, postgresql://USER@HOST:PORT/DB for postgres); - for stdout.", valueName: "path"))
    var output: String

    @Option(help: ArgumentHelp("Credentials file (user:realm:password or ufrag:password per line).", valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("sdp"), help: ArgumentHelp("Offer/answer SDP text from outside the capture (repeatable).", valueName: "file"))
    var sdp: [String] = []

    @Flag(help: "Analyse all captures together as one set (as analyze does) instead of one by one.")
    var merge = false

    @Flag(help: "Each capture is one vantage point of the same traffic: export the stitched story (docs/stitch.md).")
    var stitch = false

    @Option(name: .customLong("vantage"), help: ArgumentHelp("A named vantage point for --stitch (repeatable; implies --stitch).", valueName: "NAME=FILE"))
    var vantages: [String] = []

    var stitching: Bool { stitch || !vantages.isEmpty }

    @OptionGroup var progress: QuietOption

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case json, ndjson, csv, sqlite, html, mermaid, postgres
    }

    @Option(help: ArgumentHelp("postgres: the name of this StunScope instance, stored on every row (default: the host name).", valueName: "name"))
    var node: String?

    @Option(help: ArgumentHelp("postgres: a file whose first line is the password (otherwise the URL's, or PGPASSWORD).", valueName: "file"))
    var passwordFile: String?

    func validate() throws {
        if stitching {
            if input.captures.isEmpty && vantages.isEmpty { throw ValidationError("give at least one capture file") }
            guard [.json, .html, .mermaid].contains(format) else {
                throw ValidationError("--stitch exports json, html or mermaid")
            }
            if output.isEmpty { throw ValidationError("--output must not be empty") }
            if let twice = StitchRun.duplicateName(in: StitchRun.vantageFiles(named: vantages, unnamed: input.captures)) {
                throw ValidationError("two vantage points are named '\(twice)': name them with --vantage NAME=FILE")
            }
            return
        }
        try input.requireCaptures()
        if format == .postgres {
            do { _ = try PostgresURL(output, passwordFile: passwordFile) } catch { throw ValidationError(error.description) }
            return
        }
        if output == "-" && !(format.rendererFormat?.canWriteToStandardOutput ?? false) {
            throw ValidationError("--format \(format.rawValue) cannot write to stdout: give a \(format == .csv ? "directory" : "database file") with --output")
        }
        if output.isEmpty { throw ValidationError("--output must not be empty") }
    }

    func run() throws {
        if stitching { return try runStitch() }
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
            if let rendererFormat = format.rendererFormat {
                try ExportWriter.write(exports, format: rendererFormat, to: output)
            } else {
                let url = try PostgresURL(output, passwordFile: passwordFile)
                _ = try PostgresExporter(url: url, node: node ?? PostgresExporter.defaultNode).writeBlocking(exports)
            }
        } catch let e as FleetDatabaseError {
            StandardError.report(e.description)
            throw ExitCode(1)
        } catch let e as ExportError {
            StandardError.report(e.description)
            throw ExitCode(1)
        } catch {
            StandardError.report("cannot write \(PostgresURL.redacted(output)): \(error)")
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension ExportCommand {
    private func runStitch() throws {
        let files = StitchRun.vantageFiles(named: vantages, unnamed: input.captures)
        let run = StitchRun(vantages: files, filter: input.filter, credentialsFile: credentials, report: StandardError.report)
        guard case let .stitched(doc, status) = run.run() else { throw ExitCode(2) }
        let bytes: [UInt8]
        switch format {
        case .json:
            let collector = ByteCollector()
            try StitchJSONWriter.write(doc, to: collector)
            bytes = collector.bytes
        case .html: bytes = Array(StitchHTMLRenderer().render(doc).utf8)
        default: bytes = Array(StitchMermaidRenderer().render(doc).utf8)
        }
        do {
            if output == "-" {
                let out = FileDescriptorOutput.standardOutput
                out.write(bytes: bytes)
                out.flush()
            } else {
                try Data(bytes).write(to: URL(fileURLWithPath: output))
            }
        } catch {
            StandardError.report("cannot write \(output): \(error)")
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension ExportCommand.ExportFormat {
    /// nil for postgres: a database, not a renderer's output.
    var rendererFormat: Renderers.ExportFormat? {
        switch self {
        case .json: .json
        case .ndjson: .ndjson
        case .csv: .csv
        case .sqlite: .sqlite
        case .html: .html
        case .mermaid: .mermaid
        case .postgres: nil
        }
    }
}
