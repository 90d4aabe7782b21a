import Foundation
import NetworkVocabulary

/// Reads the records of a classic pcap file (microsecond or nanosecond,
/// either byte order) with large `read(2)` calls into one buffer, handing out
/// each packet as a view into it: no copy, no per-packet call into libpcap
/// (whose `pcap_next_ex` costs ~4x more per packet) and no seek to learn
/// record offsets, which are counted instead.
///
/// Streaming reads (not mmap) so a file that shrinks while read cannot raise
/// SIGBUS. Errors name the file and the byte offset of the damaged record,
/// with libpcap's wording. The file header is validated by libpcap before
/// this reader is made (`PcapFileReader`).
final class PcapClassicReader {
    let path: String
    let snapLength: Int
    private let fd: Int32
    private let swapped: Bool
    private let nanoseconds: Bool
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// Valid bytes are buffer[start..<end].
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// File offset of buffer[start]: the end of the last record handed out.
    private(set) var offset: Int64

    /// libpcap's upper bound on a record's captured length.
    static let maxCaptureLength = 262_144

    init(path: String, snapLength: Int, swapped: Bool, nanoseconds: Bool) throws {
        self.path = path
        self.snapLength = snapLength
        self.swapped = swapped
        self.nanoseconds = nanoseconds
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CaptureError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        capacity = 1 << 20
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        offset = 24
        guard lseek(fd, 24, SEEK_SET) == 24 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            buffer.deallocate()
            throw CaptureError.cannotOpen(file: path, reason: reason)
        }
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Makes at least `count` bytes available from `start` unless the file ends first.
    private func fill(_ count: Int) throws {
        if end &- start >= count || atEOF { return }
        if start > 0 {
            if end > start { memmove(buffer, buffer + start, end &- start) }
            end &-= start
            start = 0
        }
        if count > capacity {
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
            bigger.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = bigger
            capacity = count
        }
        while end < count && !atEOF {
            let n = read(fd, buffer + end, capacity &- end)
            if n > 0 {
                end &+= n
            } else if n == 0 {
                atEOF = true
            } else if errno != EINTR {
                throw CaptureError.corruptRecord(file: path, offset: offset,
                                                 reason: "read error: \(String(cString: strerror(errno)))")
            }
        }
    }

    @inline(__always) private func field(_ at: Int) -> UInt32 {
        let v = buffer.loadUnaligned(fromByteOffset: start &+ at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }

    /// The next record: (time, original length, bytes), nil at the end. The
    /// bytes stay valid until the next call.
    func next() throws -> (time: CaptureTime, originalLength: Int, bytes: UnsafeRawBufferPointer)? {
        try fill(16)
        let available = end &- start
        if available == 0 { return nil }
        let recordOffset = offset
        guard available >= 16 else {
            throw CaptureError.truncatedRecord(file: path, offset: recordOffset,
                reason: "truncated dump file; tried to read 16 header bytes, only got \(available)")
        }
        let seconds = Int64(field(0))
        let fraction = Int64(field(4))
        let caplen = Int(field(8))
        let length = Int(field(12))
        if caplen > PcapClassicReader.maxCaptureLength {
            throw CaptureError.corruptRecord(file: path, offset: recordOffset,
                reason: "invalid packet capture length \(caplen), bigger than maximum of \(PcapClassicReader.maxCaptureLength)")
        }
        if caplen > snapLength {
            throw CaptureError.corruptRecord(file: path, offset: recordOffset,
                reason: "record length \(caplen) is larger than the snapshot length \(snapLength)")
        }
        try fill(16 &+ caplen)
        guard end &- start >= 16 &+ caplen else {
            throw CaptureError.truncatedRecord(file: path, offset: recordOffset,
                reason: "truncated dump file; tried to read \(caplen) captured bytes, only got \(end &- start &- 16)")
        }
        let bytes = UnsafeRawBufferPointer(start: buffer + (start &+ 16), count: caplen)
        start &+= 16 &+ caplen
        offset &+= 16 &+ Int64(caplen)
        let time = CaptureTime(seconds: seconds, nanoseconds: nanoseconds ? fraction : fraction &* 1000)
        return (time, length, bytes)
    }
}
