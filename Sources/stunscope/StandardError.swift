enum StandardError {
    /// One line on stderr, prefixed with the program name (around the progress line, when one is shown).
    @Sendable static func report(_ message: String) {
        ProgressLine.standardError.print("stunscope: " + message + "\n")
    }
}
