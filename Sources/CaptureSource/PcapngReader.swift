import Foundation
import NetworkVocabulary

/// A pcapng reader of our own, used for every pcapng file.
///
/// libpcap 1.10 refuses a pcapng whose interfaces have different link types
/// ("an interface has a type 276 different from the type of the first
/// interface"): `dumpcap -i eth0 -i any`, or a mergecap of an Ethernet and a
/// `tcpdump -i any` capture. Here every packet carries its own interface's
/// link type. Blocks are read with stdio (streaming: no mmap, so a file that
/// shrinks cannot SIGBUS us); a packet's bytes stay valid until the next call.
final class PcapngReader {
    struct Interface {
        var linkType: LinkType
        var snapLength: Int
        /// Timestamp units per second as (base, exponent): 10^-6 by default.
        var resolutionIsPowerOfTwo = false
        var resolutionExponent = 6
        var offsetSeconds: Int64 = 0
    }

    let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var bigEndian = false
    private(set) var interfaces: [Interface] = []
    /// The current block; packet views point into it until the next block is read.
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
    /// File offset where the next block starts: the end of the last block read.
    private(set) var offset: Int64 = 0
    private var finished = false

    /// Largest block accepted (libpcap's limit too): anything bigger is a corrupt length.
    static let maxBlockSize = 16 << 20

    /// Opens the file and reads up to the first interface description.
    init(path: String) throws {
        self.path = path
        guard let fp = fopen(path, "rb") else {
            throw CaptureError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        file = fp
        // Fully initialised from here: a throw runs deinit, which closes the file.
        guard let first = try readBlock(), first.type == 0x0A0D_0D0A else {
            throw CaptureError.notACapture(file: path, reason: "pcapng file without a section header block")
        }
        try section(first)
        // The first interface description names the file's link type.
        while interfaces.isEmpty {
            guard let block = try readBlock() else {
                throw CaptureError.notACapture(file: path, reason: "pcapng file has no interface description block")
            }
            try handle(block)
        }
    }

    deinit {
        fclose(file)
        buffer.deallocate()
    }

    /// The link type of the first interface (the file's, for reporting and filters).
    var firstLinkType: LinkType? { interfaces.first?.linkType }
    var firstSnapLength: Int { interfaces.first?.snapLength ?? 0 }

    struct Packet {
        var time: CaptureTime
        var linkType: LinkType
        var originalLength: Int
        var range: Range<Int>
    }

    /// The next packet; its bytes are `buffer[range]` until the next call.
    func next() throws -> (Packet, UnsafeRawBufferPointer)? {
        while !finished {
            guard let block = try readBlock() else {
                finished = true
                return nil
            }
            if let p = try handle(block) {
                return (p, UnsafeRawBufferPointer(rebasing: buffer[p.range]))
            }
        }
        return nil
    }

    // MARK: Blocks

    private struct Block {
        var type: UInt32
        var start: Int64
        var body: Range<Int>
    }

    private func u16(_ at: Int) -> UInt16 {
        let v = UInt16(buffer[at]) | UInt16(buffer[at + 1]) << 8
        return bigEndian ? v.byteSwapped : v
    }

    private func u32(_ at: Int) -> UInt32 {
        let v = UInt32(buffer[at]) | UInt32(buffer[at + 1]) << 8 | UInt32(buffer[at + 2]) << 16 | UInt32(buffer[at + 3]) << 24
        return bigEndian ? v.byteSwapped : v
    }

    private func readExactly(_ count: Int, into start: Int) -> Int {
        if buffer.count < start + count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(start + count, buffer.count * 2), alignment: 8)
            bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
            buffer.deallocate()
            buffer = bigger
        }
        return fread(buffer.baseAddress! + start, 1, count, file)
    }

    /// Reads one whole block into `buffer`; nil at a clean end of file.
    private func readBlock() throws -> Block? {
        let start = offset
        let got = readExactly(8, into: 0)
        if got == 0 { return nil }
        guard got == 8 else {
            throw CaptureError.truncatedRecord(file: path, offset: start,
                                               reason: "block header cut short: \(got) of 8 bytes")
        }
        let rawType = UInt32(buffer[0]) | UInt32(buffer[1]) << 8 | UInt32(buffer[2]) << 16 | UInt32(buffer[3]) << 24
        if rawType == 0x0A0D_0D0A {
            // A section header sets the byte order for what follows, its own length included.
            guard readExactly(4, into: 8) == 4 else {
                throw CaptureError.truncatedRecord(file: path, offset: start, reason: "section header block cut short")
            }
            let magic = UInt32(buffer[8]) | UInt32(buffer[9]) << 8 | UInt32(buffer[10]) << 16 | UInt32(buffer[11]) << 24
            switch magic {
            case 0x1A2B_3C4D: bigEndian = false
            case 0x4D3C_2B1A: bigEndian = true
            default:
                throw CaptureError.corruptRecord(file: path, offset: start, reason: "bad byte-order magic in section header block")
            }
            let length = Int(u32(4))
            return try finishBlock(type: rawType, start: start, length: length, alreadyRead: 12)
        }
        return try finishBlock(type: u32(0), start: start, length: Int(u32(4)), alreadyRead: 8)
    }

    private func finishBlock(type: UInt32, start: Int64, length: Int, alreadyRead: Int) throws -> Block {
        guard length >= 12, length % 4 == 0, length <= PcapngReader.maxBlockSize, length >= alreadyRead + 4 else {
            throw CaptureError.corruptRecord(file: path, offset: start,
                                             reason: "block type 0x\(String(type, radix: 16)) has impossible length \(length)")
        }
        let rest = length - alreadyRead
        let got = readExactly(rest, into: alreadyRead)
        guard got == rest else {
            throw CaptureError.truncatedRecord(file: path, offset: start,
                                               reason: "block of \(length) bytes cut short after \(alreadyRead + got)")
        }
        guard Int(u32(length - 4)) == length else {
            throw CaptureError.corruptRecord(file: path, offset: start,
                                             reason: "block length \(length) does not match its trailing length \(u32(length - 4))")
        }
        offset = start + Int64(length)
        return Block(type: type, start: start, body: 8..<(length - 4))
    }

    @discardableResult
    private func handle(_ block: Block) throws -> Packet? {
        let b = block.body
        switch block.type {
        case 0x0A0D_0D0A:
            try section(block)
            return nil
        case 1: // interface description
            guard b.count >= 8 else { throw corrupt(block, "interface description block too short") }
            var interface = Interface(linkType: PcapngReader.dlt(forLinkType: u16(b.lowerBound)),
                                      snapLength: Int(u32(b.lowerBound + 4)))
            forEachOption(in: (b.lowerBound + 8)..<b.upperBound) { code, value in
                if code == 9, value.count >= 1 {
                    let v = buffer[value.lowerBound]
                    interface.resolutionIsPowerOfTwo = v & 0x80 != 0
                    interface.resolutionExponent = Int(v & 0x7f)
                } else if code == 14, value.count >= 8 {
                    let lo = UInt64(u32(value.lowerBound)), hi = UInt64(u32(value.lowerBound + 4))
                    interface.offsetSeconds = Int64(bitPattern: bigEndian ? (lo << 32 | hi) : (hi << 32 | lo))
                }
            }
            interfaces.append(interface)
            return nil
        case 6, 2: // enhanced packet; obsolete packet block (16-bit interface id, then the same layout)
            guard b.count >= 20 else { throw corrupt(block, block.type == 6 ? "enhanced packet block too short" : "packet block too short") }
            let id = block.type == 6 ? Int(u32(b.lowerBound)) : Int(u16(b.lowerBound))
            guard id < interfaces.count else { throw corrupt(block, "packet on undeclared interface \(id)") }
            let caplen = Int(u32(b.lowerBound + 12))
            guard caplen <= b.count - 20 else { throw corrupt(block, "captured length \(caplen) exceeds the block") }
            let ts = UInt64(u32(b.lowerBound + 4)) << 32 | UInt64(u32(b.lowerBound + 8))
            let start = b.lowerBound + 20
            return Packet(time: time(ts, interfaces[id]), linkType: interfaces[id].linkType,
                          originalLength: Int(u32(b.lowerBound + 16)), range: start..<(start + caplen))
        case 3: // simple packet: interface 0, no timestamp
            guard b.count >= 4 else { throw corrupt(block, "simple packet block too short") }
            guard let interface = interfaces.first else { throw corrupt(block, "packet before any interface description") }
            let original = Int(u32(b.lowerBound))
            var caplen = min(original, b.count - 4)
            if interface.snapLength > 0 { caplen = min(caplen, interface.snapLength) }
            let start = b.lowerBound + 4
            return Packet(time: CaptureTime(nanoseconds: 0), linkType: interface.linkType,
                          originalLength: original, range: start..<(start + caplen))
        default: // name resolution, statistics, secrets, custom: nothing for us
            return nil
        }
    }

    private func section(_ block: Block) throws {
        let b = block.body
        guard b.count >= 16 else { throw corrupt(block, "section header block too short") }
        let major = u16(b.lowerBound + 4)
        guard major == 1 else {
            throw CaptureError.notACapture(file: path, reason: "pcapng major version \(major) (only 1 exists)")
        }
        interfaces = []  // interface ids are per section
    }

    private func corrupt(_ block: Block, _ reason: String) -> CaptureError {
        .corruptRecord(file: path, offset: block.start, reason: reason)
    }

    private func forEachOption(in range: Range<Int>, _ body: (UInt16, Range<Int>) -> Void) {
        var at = range.lowerBound
        while at + 4 <= range.upperBound {
            let code = u16(at), length = Int(u16(at + 2))
            if code == 0 { return }
            let value = (at + 4)..<(at + 4 + length)
            guard value.upperBound <= range.upperBound else { return }
            body(code, value)
            at = value.upperBound + (4 - length % 4) % 4
        }
    }

    /// Nanoseconds since the epoch from a timestamp in the interface's units.
    private func time(_ ts: UInt64, _ i: Interface) -> CaptureTime {
        var ns: Int64
        if i.resolutionIsPowerOfTwo {
            let k = UInt64(i.resolutionExponent)
            if k <= 30 {
                let seconds = ts >> k, fraction = ts & ((1 << k) - 1)
                ns = Int64(truncatingIfNeeded: seconds &* 1_000_000_000 &+ (fraction &* 1_000_000_000) >> k)
            } else {
                ns = Int64(Double(ts) / pow(2.0, Double(k)) * 1e9)
            }
        } else {
            let k = i.resolutionExponent
            if k <= 9 {
                var scale: UInt64 = 1
                for _ in 0..<(9 - k) { scale &*= 10 }
                ns = Int64(truncatingIfNeeded: ts &* scale)
            } else {
                var scale: UInt64 = 1
                for _ in 0..<min(k - 9, 19) { scale &*= 10 }
                ns = Int64(truncatingIfNeeded: ts / scale)
            }
        }
        return CaptureTime(nanoseconds: ns &+ i.offsetSeconds &* 1_000_000_000)
    }

    /// pcapng holds LINKTYPE_ values; libpcap works in DLT_ values. They differ
    /// only for a few old types; for ours, LINKTYPE_RAW (101) is DLT_RAW (12).
    static func dlt(forLinkType linkType: UInt16) -> LinkType {
        linkType == 101 ? .raw : LinkType(Int32(linkType))
    }
}
