import Reconstruction
import Renderers

/// `stunscope export`: the session model of each capture file on its own
/// (as `analyze` would with that one file), or of all of them as one
/// timestamp-ordered set with `merge`, ready for `ExportWriter`.
public struct ExportRun {
    public var input: CaptureInput
    public var merge: Bool
    public var credentialsFile: String?
    public var sdpFiles: [String]
    /// Files analysed in parallel when they are exported one by one.
    public var jobs: Int
    /// Capture and set-up problems as they are found (the CLI prints them on stderr).
    public var report: @Sendable (String) -> Void
    /// How far the reading of a group has got, a few times a second and once when it is read;
    /// from the worker analysing it when groups run in parallel.
    public var progress: (@Sendable (_ group: Int, _ progress: RunProgress) -> Void)?

    public init(input: CaptureInput, merge: Bool, credentialsFile: String?, sdpFiles: [String], jobs: Int,
                report: @escaping @Sendable (String) -> Void) {
        self.input = input
        self.merge = merge
        self.credentialsFile = credentialsFile
        self.sdpFiles = sdpFiles
        self.jobs = jobs
        self.report = report
    }

    /// The files analysed together: one group per file, or one group of all with `merge`.
    public var groups: [[String]] { merge ? [input.captures] : input.captures.map { [$0] } }

    /// Several groups on several workers.
    public var runsInParallel: Bool { !merge && groups.count >= 2 && jobs > 1 }

    /// One export per group that could be read (its name is the group's files joined
    /// with " + "; sha256 and times filled in), and the exit status: 2 when a capture
    /// could not be fully read, and when nothing could be read at all.
    public func run() -> (exports: [ExportCapture], exitCode: Int32) {
        let groups = self.groups
        let filter = input.filter, credentialsFile = credentialsFile, sdpFiles = sdpFiles, report = report,
            progress = progress
        let runs = ParallelRuns.map(groups.count, jobs: runsInParallel ? jobs : 1) { i in
            var pipeline = AnalysisPipeline(input: CaptureInput(captures: groups[i], filter: filter),
                                            credentialsFile: credentialsFile, sdpFiles: sdpFiles, report: report)
            pipeline.progress = progress.map { progress in { progress(i, $0) } }
            return pipeline.run()
        }
        var exports: [ExportCapture] = []
        var status: Int32 = 0
        for (files, run) in zip(groups, runs) {
            var doc = run.document
            if run.exitCode != 0 { status = run.exitCode }
            if doc.captures.isEmpty { continue }
            ExportSupport.complete(&doc)
            exports.append(ExportCapture(file: files.joined(separator: " + "), document: doc))
        }
        if exports.isEmpty && status == 0 { status = 2 }
        return (exports, status)
    }
}
