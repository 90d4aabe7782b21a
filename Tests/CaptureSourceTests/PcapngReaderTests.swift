import Foundation
import Testing
@testable import CaptureSource

/// Builds pcapng files block by block, in either byte order.
struct PcapngBuilder {
    var bigEndian = false
    var bytes: [UInt8] = []

    func u16(_ v: UInt16) -> [UInt8] { let x = bigEndian ? v.bigEndian : v.littleEndian; return withUnsafeBytes(of: x) { Array($0) } }
    func u32(_ v: UInt32) -> [UInt8] { let x = bigEndian ? v.bigEndian : v.littleEndian; return withUnsafeBytes(of: x) { Array($0) } }

    mutating func block(_ type: UInt32, _ body: [UInt8]) {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let length = UInt32(12 + padded.count)
        bytes += u32(type) + u32(length) + padded + u32(length)
    }

    mutating func section() {
        block(0x0A0D_0D0A, u32(0x1A2B_3C4D) + u16(1) + u16(0) + [UInt8](repeating: 0xff, count: 8))
    }

    /// An interface; `tsresol` is the raw if_tsresol byte (nil: default microseconds).
    mutating func interface(linkType: UInt16, snaplen: UInt32 = 262_144, tsresol: UInt8? = nil) {
        var options: [UInt8] = []
        if let r = tsresol { options += u16(9) + u16(1) + [r, 0, 0, 0] }
        if !options.isEmpty { options += u16(0) + u16(0) }
        block(1, u16(linkType) + u16(0) + u32(snaplen) + options)
    }

    mutating func packet(interface: UInt32 = 0, timestamp: UInt64, _ data: [UInt8], originalLength: Int? = nil) {
        block(6, u32(interface) + u32(UInt32(timestamp >> 32)) + u32(UInt32(timestamp & 0xffff_ffff))
              + u32(UInt32(data.count)) + u32(UInt32(originalLength ?? data.count)) + data)
    }

    mutating func simplePacket(_ data: [UInt8]) { block(3, u32(UInt32(data.count)) + data) }

    func write() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sf-\(UUID().uuidString).pcapng").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

struct ReadResult {
    var frames: [(frame: Int, nanoseconds: Int64, link: Int32, bytes: [UInt8], original: Int)] = []
    var error: CaptureError?
}

func readAll(_ path: String) throws -> ReadResult {
    let reader = try PcapFileReader(path: path)
    var out = ReadResult()
    do {
        while let p = try reader.nextPacket() {
            out.frames.append((p.frameNumber, p.time.nanoseconds, p.linkType.dlt, [UInt8](p.bytes), p.originalLength))
        }
    } catch let e as CaptureError {
        out.error = e
    }
    return out
}

@Suite struct PcapngReaderTests {
    static let ip: [UInt8] = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]

    @Test(arguments: [false, true])
    func interfacesOfDifferentLinkTypes(bigEndian: Bool) throws {
        var b = PcapngBuilder(bigEndian: bigEndian)
        b.section()
        b.interface(linkType: 1)
        b.interface(linkType: 101)      // LINKTYPE_RAW: DLT_RAW
        b.interface(linkType: 276)
        b.packet(interface: 0, timestamp: 1_700_000_000_123_456, [UInt8](repeating: 1, count: 14) + Self.ip)
        b.packet(interface: 1, timestamp: 1_700_000_000_123_457, Self.ip)
        b.packet(interface: 2, timestamp: 1_700_000_000_123_458, [UInt8](repeating: 2, count: 20) + Self.ip, originalLength: 1000)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try PcapFileReader(path: path)
        #expect(reader.format == .pcapng && reader.linkType == .ethernet)
        let r = try readAll(path)
        #expect(r.error == nil)
        #expect(r.frames.map(\.link) == [1, 12, 276])
        #expect(r.frames.map(\.frame) == [1, 2, 3])
        #expect(r.frames[0].nanoseconds == 1_700_000_000_123_456_000)
        #expect(r.frames[1].bytes == Self.ip)
        #expect(r.frames[2].original == 1000)
    }

    @Test func timestampResolutions() throws {
        var b = PcapngBuilder()
        b.section()
        b.interface(linkType: 101, tsresol: 9)      // nanoseconds
        b.interface(linkType: 101, tsresol: 0x80 | 20)  // 2^-20 s
        b.interface(linkType: 101, tsresol: 3)      // milliseconds
        b.packet(interface: 0, timestamp: 1_700_000_000_123_456_789, Self.ip)
        b.packet(interface: 1, timestamp: (1_700_000_000 << 20) | (1 << 19), Self.ip)  // + 0.5 s
        b.packet(interface: 2, timestamp: 1_700_000_000_123, Self.ip)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try readAll(path)
        #expect(r.frames.map(\.nanoseconds) == [1_700_000_000_123_456_789, 1_700_000_000_500_000_000, 1_700_000_000_123_000_000])
    }

    @Test func simplePacketsAndSkippedBlocks() throws {
        var b = PcapngBuilder()
        b.section()
        b.interface(linkType: 101, snaplen: 10)
        b.block(4, [0, 0, 0, 0])            // name resolution: skipped
        b.simplePacket(Self.ip)             // cut to the snaplen
        b.block(5, [UInt8](repeating: 0, count: 20))  // interface statistics: skipped
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try readAll(path)
        #expect(r.frames.count == 1)
        #expect(r.frames[0].bytes == Array(Self.ip[0..<10]))
        #expect(r.frames[0].original == 20)
    }

    @Test func aNewSectionStartsNewInterfaces() throws {
        var b = PcapngBuilder()
        b.section()
        b.interface(linkType: 1)
        b.packet(timestamp: 1, [UInt8](repeating: 0, count: 34))
        b.bigEndian = true
        b.section()
        b.interface(linkType: 101)
        b.packet(timestamp: 2, Self.ip)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try readAll(path)
        #expect(r.error == nil)
        #expect(r.frames.map(\.link) == [1, 12])
    }

    func damaged(_ edit: (inout [UInt8], [Int]) -> Void) throws -> (ReadResult, [Int]) {
        var b = PcapngBuilder()
        b.section()
        b.interface(linkType: 101)
        var starts: [Int] = []
        for i in 0..<4 {
            starts.append(b.bytes.count)
            b.packet(timestamp: UInt64(i), Self.ip)
        }
        var bytes = b.bytes
        edit(&bytes, starts)
        b.bytes = bytes
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return (try readAll(path), starts)
    }

    @Test func truncatedBlockKeepsEarlierPackets() throws {
        let (r, starts) = try damaged { bytes, starts in bytes.removeLast(10) }
        #expect(r.frames.count == 3)
        guard case let .truncatedRecord(_, offset, _)? = r.error else { Issue.record("want truncated"); return }
        #expect(offset == Int64(starts[3]))
    }

    @Test func impossibleBlockLength() throws {
        let (r, starts) = try damaged { bytes, starts in
            bytes.replaceSubrange((starts[2] + 4)..<(starts[2] + 8), with: [0xf0, 0xff, 0xff, 0x7f])
        }
        #expect(r.frames.count == 2)
        guard case let .corruptRecord(_, offset, _)? = r.error else { Issue.record("want corrupt"); return }
        #expect(offset == Int64(starts[2]))
    }

    @Test func trailingLengthMismatch() throws {
        let (r, starts) = try damaged { bytes, starts in bytes[starts[2] - 1] ^= 0x40 }
        #expect(r.frames.count == 1)
        guard case let .corruptRecord(_, offset, _)? = r.error else { Issue.record("want corrupt"); return }
        #expect(offset == Int64(starts[1]))
    }

    @Test func packetOnUndeclaredInterface() throws {
        let (r, _) = try damaged { bytes, starts in bytes[starts[1] + 8] = 7 }
        #expect(r.frames.count == 1)
        guard case .corruptRecord? = r.error else { Issue.record("want corrupt"); return }
    }

    @Test func unsupportedFirstLinkType() throws {
        var b = PcapngBuilder()
        b.section()
        b.interface(linkType: 105)
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: CaptureError.self) { try PcapFileReader(path: path) }
    }

    @Test func noInterfaceDescription() throws {
        var b = PcapngBuilder()
        b.section()
        let path = try b.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: CaptureError.self) { try PcapFileReader(path: path) }
    }

    @Test func randomDamageNeverTraps() throws {
        var b = PcapngBuilder()
        b.section()
        b.interface(linkType: 1, tsresol: 9)
        b.interface(linkType: 101)
        for i in 0..<8 { b.packet(interface: UInt32(i % 2), timestamp: UInt64(i), Self.ip) }
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            return z ^ (z >> 27)
        }
        for _ in 0..<400 {
            var bytes = b.bytes
            for _ in 0..<(1 + next() % 4) {
                bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
            }
            if next() % 3 == 0 { bytes.removeLast(Int(next() % UInt64(bytes.count))) }
            var copy = b
            copy.bytes = bytes
            let path = try copy.write()
            defer { try? FileManager.default.removeItem(atPath: path) }
            if let r = try? readAll(path) { #expect(r.frames.count <= 8) }
        }
    }
}
