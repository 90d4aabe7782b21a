import Foundation

/// The container format of a capture file, recognised from its first bytes.
public enum CaptureFileFormat: String, Sendable {
    case pcapMicroseconds = "pcap"
    case pcapNanoseconds = "pcap-ns"
    case pcapng = "pcapng"

    /// Sniffs the magic number; libpcap would say only "unknown file format".
    static func sniff(path: String) throws -> CaptureFileFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw CaptureError.cannotOpen(file: path, reason: reason)
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4)) ?? Data()
        guard head.count == 4 else {
            throw CaptureError.notACapture(file: path, reason: "file is \(head.count) bytes long, shorter than any capture header")
        }
        let b = [UInt8](head)
        if b[0] == 0x1f && b[1] == 0x8b { throw CaptureError.compressed(file: path) }
        switch (b[0], b[1], b[2], b[3]) {
        case (0xa1, 0xb2, 0xc3, 0xd4), (0xd4, 0xc3, 0xb2, 0xa1): return .pcapMicroseconds
        case (0xa1, 0xb2, 0x3c, 0x4d), (0x4d, 0x3c, 0xb2, 0xa1): return .pcapNanoseconds
        case (0x0a, 0x0d, 0x0d, 0x0a): return .pcapng
        default:
            let hex = b.map { String(format: "%02x", $0) }.joined()
            throw CaptureError.notACapture(file: path, reason: "unknown magic number 0x\(hex)")
        }
    }
}
