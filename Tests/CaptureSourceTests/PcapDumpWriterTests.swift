import NetworkVocabulary
import Foundation
import Testing
@testable import CaptureSource

@Suite struct PcapDumpWriterTests {
    static let frame: [UInt8] = Array(0..<60)

    func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID().uuidString)\(suffix)").path
    }

    func write(_ writer: PcapDumpWriter, nanoseconds: Int64, _ bytes: [UInt8], originalLength: Int? = nil) throws {
        try bytes.withUnsafeBytes { raw in
            try writer.write(CapturedPacket(frameNumber: 1, fileIndex: 0, time: CaptureTime(nanoseconds: nanoseconds),
                                            linkType: .ethernet, originalLength: originalLength ?? raw.count, bytes: raw))
        }
    }

    func littleEndian(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    @Test func microsecondFileIsClassicPcapByteForByte() throws {
        let path = temporaryPath(".pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PcapDumpWriter(path: path, linkType: .ethernet)
        try write(writer, nanoseconds: 1_735_689_600_123_456_789, Self.frame)
        try write(writer, nanoseconds: 1_735_689_601_000_000_999, Array(Self.frame.prefix(42)), originalLength: 100)
        try writer.finish()
        #expect(writer.packetsWritten == 2)

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Magic, version 2.4, zone 0, sigfigs 0, snapshot length, LINKTYPE_ETHERNET.
        let header = littleEndian([0xA1B2_C3D4]) + [2, 0, 4, 0] + littleEndian([0, 0, 262_144, 1])
        let first = littleEndian([1_735_689_600, 123_456, 60, 60]) + Self.frame
        let second = littleEndian([1_735_689_601, 0, 42, 100]) + Array(Self.frame.prefix(42))
        #expect(bytes == header + first + second)

        let read = try readAll(path)
        #expect(read.error == nil)
        #expect(read.frames.map(\.nanoseconds) == [1_735_689_600_123_456_000, 1_735_689_601_000_000_000])
        #expect(read.frames.map(\.original) == [60, 100])
        #expect(read.frames.first?.bytes == Self.frame)
    }

    @Test func nanosecondFileKeepsNanoseconds() throws {
        let path = temporaryPath(".pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PcapDumpWriter(path: path, linkType: .ethernet, nanosecondTimestamps: true)
        try write(writer, nanoseconds: 1_735_689_600_123_456_789, Self.frame)
        try writer.finish()
        let read = try readAll(path)
        #expect(read.frames.map(\.nanoseconds) == [1_735_689_600_123_456_789])
    }

    @Test func aFailedWriteIsReported() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let writer = try PcapDumpWriter(path: "/dev/full", linkType: .ethernet)
        try write(writer, nanoseconds: 0, Self.frame)
        #expect(throws: CaptureError.self) { try writer.finish() }
    }

    @Test func anUncreatableFileIsReported() {
        #expect(throws: CaptureError.self) { try PcapDumpWriter(path: "/nonexistent-dir/x.pcap", linkType: .ethernet) }
    }
}
