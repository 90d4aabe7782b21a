import ArgumentParser

/// `--quiet` for the commands that show a progress line while they work.
struct QuietOption: ParsableArguments {
    @Flag(name: [.short, .long], help: "No progress line on stderr (it is only ever drawn on a terminal, after the first second). Errors and notes are still printed.")
    var quiet = false

    /// export's older name for `--quiet`, still accepted by every command.
    @Flag(name: .customLong("no-progress"), help: .hidden)
    var noProgress = false

    /// Starts the progress line for this run: the shared line when it may be drawn (stderr
    /// is a terminal, no `--quiet`), nil otherwise.
    func startProgressLine() -> ProgressLine? {
        let line = ProgressLine.standardError
        line.start(quiet: quiet || noProgress)
        return line.isOn ? line : nil
    }
}
