import Foundation

/// Buffered writes to stdout and one-line messages to stderr.
///
/// Output is built into a byte buffer and flushed in large writes: a
/// `print` per message would dominate the cost of `messages` on big files.
final class OutputStream {
    private var buffer: [UInt8] = []
    private let fd: Int32
    private let flushThreshold = 1 << 16

    init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(flushThreshold * 2)
    }

    static let standardOutput = OutputStream(fd: 1)

    var isTerminal: Bool { isatty(fd) == 1 }

    func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= flushThreshold { flush() }
    }

    func write(bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { flush() }
    }

    func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { flush() }
    }

    func flush() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

enum StandardError {
    /// One line on stderr, prefixed with the program name.
    static func report(_ message: String) {
        let line = "stunscope: " + message + "\n"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}
