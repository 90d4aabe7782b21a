import ArgumentParser
import Pipeline

/// `--jobs` for the commands that read capture files for a document or lines.
struct JobsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Workers for independent runs (default: the number of cores): export without --merge analyses up to n files at once, one document each. It never changes any output: analyze, messages and export --merge always read all files as one timestamp-ordered stream on one thread, so sessions continue across rotated files and the output is the same for every n.",
                               valueName: "n"))
    var jobs: Int?

    var count: Int { jobs ?? ParallelRuns.defaultJobs }

    func validate() throws {
        if let j = jobs, j < 1 { throw ValidationError("--jobs must be at least 1") }
    }
}
