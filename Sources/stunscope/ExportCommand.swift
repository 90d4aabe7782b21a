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

    @Flag(help: "Never show a progress bar.")
    var noProgress = false

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case json, ndjson, csv, sqlite, html, mermaid
    }

    func validate() throws {
        if output == "-" && !format.rendererFormat.canWriteToStandardOutput {
            throw ValidationError("--format \(format.rawValue) cannot write to stdout: give a \(format == .csv ? "directory" : "database file") with --output")
        }
        if output.isEmpty { throw ValidationError("--output must not be empty") }
    }

    func run() throws {
        var run = ExportRun(input: input.captureInput, merge: merge, credentialsFile: credentials, sdpFiles: sdp,
                            jobs: parallel.count, report: StandardError.report)
        let progress = ProgressBar.forGroups(run.groups, enabled: !noProgress)
        // --jobs: captures exported one by one are analysed in parallel (no progress then; the bar is only cleared).
        if let bar = progress, !run.runsInParallel {
            run.progress = { group, bytes in bar.update(file: group, bytes: bytes) }
            run.groupFinished = { group in bar.finish(file: group) }
        }
        let (exports, status) = run.run()
        progress?.close()
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

/// A one-line progress bar on stderr, only when stderr is a terminal and the
/// captures are large enough to wait for.
final class ProgressBar {
    static let threshold: Int64 = 4 << 20

    private let sizes: [Int64]
    private let total: Int64
    private var done: Int64 = 0
    private var current: Int64 = 0
    private var lastDrawn = -1
    private var lastTime = Date.distantPast

    /// `sizes`: bytes of each group of files analysed together.
    init(sizes: [Int64]) {
        self.sizes = sizes
        total = max(sizes.reduce(0, +), 1)
    }

    static func forGroups(_ groups: [[String]], enabled: Bool) -> ProgressBar? {
        guard enabled, isatty(2) == 1 else { return nil }
        let sizes = groups.map { files in
            files.reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? NSNumber)?.int64Value ?? 0) }
        }
        guard sizes.reduce(0, +) > threshold else { return nil }
        return ProgressBar(sizes: sizes)
    }

    /// Bytes read so far in group `file` (an estimate: record sizes).
    func update(file: Int, bytes: Int64) {
        current = file < sizes.count ? min(bytes, sizes[file]) : bytes
        draw()
    }

    func finish(file: Int) {
        done += file < sizes.count ? sizes[file] : current
        current = 0
        draw(force: true)
    }

    private func draw(force: Bool = false) {
        let fraction = min(1, Double(done + current) / Double(total))
        let percent = Int(fraction * 100)
        let now = Date()
        guard force || (percent != lastDrawn && now.timeIntervalSince(lastTime) > 0.1) else { return }
        lastDrawn = percent
        lastTime = now
        let width = 40
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "\rstunscope: reading [\(bar)] \(percent)% "
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    func close() {
        FileHandle.standardError.write("\r\u{1b}[K".data(using: .utf8)!)
    }
}
