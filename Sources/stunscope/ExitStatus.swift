import ArgumentParser

/// Exit statuses (documented in the README and in `stunscope --help`).
enum ExitStatus {
    static let captureError = ExitCode(2)
    static let liveCaptureError = ExitCode(3)
    static let internalError = ExitCode(70)
}
