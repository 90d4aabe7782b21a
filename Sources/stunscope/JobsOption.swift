import ArgumentParser
import Pipeline

/// `--jobs` for the commands that read capture files for a document or lines.
struct JobsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Capture files processed in parallel (default: the number of cores). Above 1 with several files, each file is processed on its own and the results merged: a session does not continue from one file into the next. Use --jobs 1 for one timestamp-ordered stream over all files (rotated capture sets).",
                               valueName: "n"))
    var jobs: Int?

    var count: Int { jobs ?? ParallelRuns.defaultJobs }

    func validate() throws {
        if let j = jobs, j < 1 { throw ValidationError("--jobs must be at least 1") }
    }
}
