import Foundation

enum StandardError {
    /// One line on stderr, prefixed with the program name.
    @Sendable static func report(_ message: String) {
        let line = "stunscope: " + message + "\n"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}
