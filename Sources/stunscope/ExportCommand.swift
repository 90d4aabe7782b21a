import ArgumentParser
import Foundation
import Pipeline
import Reconstruction
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
        if output == "-" && (format == .csv || format == .sqlite) {
            throw ValidationError("--format \(format.rawValue) cannot write to stdout: give a \(format == .csv ? "directory" : "database file") with --output")
        }
        if output.isEmpty { throw ValidationError("--output must not be empty") }
    }

    func run() throws {
        let groups: [[String]] = merge ? [input.captures] : input.captures.map { [$0] }
        let progress = ProgressBar.forGroups(groups, enabled: !noProgress)
        var exports: [ExportCapture] = []
        var status: Int32 = 0
        // --jobs: captures exported one by one are analysed in parallel (no progress bar then).
        let jobs = merge || groups.count < 2 ? 1 : parallel.count
        let runs = ParallelRuns.map(groups.count, jobs: jobs) { i -> (document: AnalysisDocument, exitCode: Int32) in
            var run = AnalysisPipeline(input: CaptureInput(captures: groups[i], filter: input.filter), credentialsFile: credentials,
                                       sdpFiles: sdp, report: StandardError.report)
            run.progress = jobs > 1 ? nil : progress.map { bar in { bytes in bar.update(file: i, bytes: bytes) } }
            let result = run.run()
            if jobs <= 1 { progress?.finish(file: i) }
            return result
        }
        for (i, files) in groups.enumerated() {
            var (doc, code) = runs[i]
            if code != 0 { status = code }
            if doc.captures.isEmpty { continue }
            ExportSupport.complete(&doc)
            exports.append(ExportCapture(file: files.joined(separator: " + "), document: doc))
        }
        progress?.close()
        if exports.isEmpty { throw ExitCode(status == 0 ? 2 : status) }

        do {
            switch format {
            case .json:
                try emit(JSONExportRenderer().render(exports))
            case .ndjson:
                try emit(NDJSONExportRenderer().render(exports))
            case .html:
                try emit(Data(HTMLReportRenderer().render(exports).utf8))
            case .mermaid:
                try emit(Data(MermaidExportRenderer().render(exports).utf8))
            case .csv:
                try CSVExportRenderer().write(exports, toDirectory: output)
            case .sqlite:
                try SQLiteExportRenderer().write(exports, toFile: output)
            }
        } catch let e as ExportError {
            StandardError.report(e.description)
            throw ExitCode(1)
        } catch {
            StandardError.report("cannot write \(output): \(error)")
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }

    func emit(_ data: Data) throws {
        if output == "-" {
            let out = FileDescriptorOutput.standardOutput
            data.withUnsafeBytes { out.write(bytes: $0) }
            out.flush()
        } else {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
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
