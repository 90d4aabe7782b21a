/// Why a capture could not be (fully) read. Every case names the file; the
/// ones that happen mid-file name the byte offset of the damaged record, so a
/// user can cut the file there with `dd` or `editcap` and look.
public enum CaptureError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(file: String, reason: String)
    case notACapture(file: String, reason: String)
    case compressed(file: String)
    case unsupportedLinkType(file: String, linkType: String, dlt: Int32)
    case truncatedRecord(file: String, offset: Int64, reason: String)
    case corruptRecord(file: String, offset: Int64, reason: String)
    case badFilter(expression: String, reason: String)
    case interface(name: String, reason: String)
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason):
            return "\(file): cannot open: \(reason)"
        case let .notACapture(file, reason):
            return "\(file): not a pcap or pcapng capture: \(reason)"
        case let .compressed(file):
            return "\(file): gzip-compressed capture; decompress it first (gunzip -k \(file))"
        case let .unsupportedLinkType(file, name, dlt):
            return "\(file): unsupported link type \(name) (\(dlt)); supported: EN10MB (with 802.1Q/QinQ), LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6"
        case let .truncatedRecord(file, offset, reason):
            return "\(file): truncated record at byte offset \(offset): \(reason)"
        case let .corruptRecord(file, offset, reason):
            return "\(file): corrupt record at byte offset \(offset): \(reason)"
        case let .badFilter(expression, reason):
            return "bad filter '\(expression)': \(reason)"
        case let .interface(name, reason):
            return "interface \(name): \(reason)"
        case let .writeFailed(file, reason):
            return "\(file): write failed: \(reason)"
        }
    }

    /// True for damage found after some packets were read: the run reports what it read.
    public var isMidFile: Bool {
        switch self {
        case .truncatedRecord, .corruptRecord: return true
        default: return false
        }
    }
}
