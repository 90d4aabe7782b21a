import Foundation

/// Buffered writes to stdout and one-line messages to stderr.
///
/// Output is built into a byte buffer and flushed in large writes: a
/// `print` per message would dominate the cost of `messages` on big files.
/// Where renderers write bytes: a file descriptor (`FileDescriptorOutput`) or memory (`ByteCollector`).
public protocol ByteOutput: AnyObject {
    func write(_ s: String)
    func write(bytes: UnsafeRawBufferPointer)
    func write(bytes: [UInt8])
}

/// Output kept in memory (tests, documents written into a larger one).
public final class ByteCollector: ByteOutput {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ s: String) { bytes.append(contentsOf: s.utf8) }
    public func write(bytes b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
    public func write(bytes b: [UInt8]) { bytes.append(contentsOf: b) }
}

public final class FileDescriptorOutput: ByteOutput {
    private var buffer: [UInt8] = []
    private let fd: Int32
    private let flushThreshold = 1 << 16
    /// A line drawn on the same terminal (the progress line): each flush writes around it.
    public var statusLine: (any TerminalStatusLine)?

    public init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(flushThreshold * 2)
    }

    /// A new buffered writer on stdout: the buffer is not shared, so each use flushes
    /// its own (`flush()`, or when it is released).
    public static var standardOutput: FileDescriptorOutput { FileDescriptorOutput(fd: 1) }

    public var isTerminal: Bool { isatty(fd) == 1 }

    public func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= flushThreshold { flush() }
    }

    public func write(bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { flush() }
    }

    public func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { flush() }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        if let line = statusLine {
            line.withLineErased { writeBuffer() }
        } else {
            writeBuffer()
        }
    }

    private func writeBuffer() {
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
