import CPcap
import Foundation
import NetworkVocabulary

/// Writes raw packets to a pcap file through libpcap's `pcap_dump`: the
/// packets of a live capture while they are analysed (`live --write`), or
/// packets made up by a tool (`stunscope-synth`). Optionally rotates by size
/// through a ring of files like `tcpdump -C -W`: FILE, FILE.1, ...,
/// FILE.(N-1), then FILE again.
public final class PcapDumpWriter {
    public let path: String
    public let rotateBytes: Int64?
    public let rotateFiles: Int
    private let handle: OpaquePointer
    /// True when the writer opened `handle` itself (a dead handle for a file of made-up packets).
    private let ownsHandle: Bool
    /// The handle's timestamp precision decides the file's: nanoseconds or microseconds.
    private let nanosecondTimestamps: Bool
    private var dumper: OpaquePointer?
    private var index = 0
    public private(set) var packetsWritten = 0
    public private(set) var filesWritten: [String] = []

    /// Writes what the live `handle` captures, in its link type, snapshot length and timestamp precision.
    public convenience init(handle: OpaquePointer, path: String, rotateMegabytes: Int? = nil, rotateFiles: Int = 1) throws {
        try self.init(handle: handle, ownsHandle: false, path: path, rotateMegabytes: rotateMegabytes, rotateFiles: rotateFiles)
    }

    /// A classic pcap file of `linkType` frames for packets that come from no
    /// capture handle. Microsecond timestamps (magic 0xa1b2c3d4) unless
    /// `nanosecondTimestamps`; the byte order is the host's.
    public convenience init(path: String, linkType: LinkType, snapLength: Int = 262_144, nanosecondTimestamps: Bool = false) throws {
        let precision = nanosecondTimestamps ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let dead = pcap_open_dead_with_tstamp_precision(linkType.dlt, Int32(snapLength), UInt32(precision)) else {
            throw CaptureError.cannotOpen(file: path, reason: "pcap_open_dead failed")
        }
        try self.init(handle: dead, ownsHandle: true, path: path, rotateMegabytes: nil, rotateFiles: 1)
    }

    private init(handle: OpaquePointer, ownsHandle: Bool, path: String, rotateMegabytes: Int?, rotateFiles: Int) throws {
        self.handle = handle
        self.ownsHandle = ownsHandle
        self.nanosecondTimestamps = pcap_get_tstamp_precision(handle) == PCAP_TSTAMP_PRECISION_NANO
        self.path = path
        self.rotateBytes = rotateMegabytes.map { Int64($0) * 1_000_000 }
        self.rotateFiles = max(1, rotateFiles)
        // Should this throw, `self` is complete, so deinit still closes an owned handle.
        try open()
    }

    private var currentPath: String { index == 0 ? path : "\(path).\(index)" }

    private func open() throws {
        guard let d = pcap_dump_open(handle, currentPath) else {
            throw CaptureError.cannotOpen(file: currentPath, reason: String(cString: pcap_geterr(handle)))
        }
        dumper = d
        if !filesWritten.contains(currentPath) { filesWritten.append(currentPath) }
    }

    public func write(_ p: CapturedPacket) throws {
        guard let d = dumper, let base = p.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var hdr = pcap_pkthdr()
        hdr.ts.tv_sec = Int(p.time.nanoseconds / 1_000_000_000)
        // The field holds the fraction in the file's unit, whatever its name says.
        let fraction = p.time.nanoseconds % 1_000_000_000
        hdr.ts.tv_usec = Int(nanosecondTimestamps ? fraction : fraction / 1000)
        hdr.caplen = UInt32(p.bytes.count)
        hdr.len = UInt32(p.originalLength)
        pcap_dump(UnsafeMutableRawPointer(d).assumingMemoryBound(to: UInt8.self), &hdr, base)
        packetsWritten += 1
        if let limit = rotateBytes, pcap_dump_ftell64(d) >= limit {
            pcap_dump_close(d)
            dumper = nil
            index = (index + 1) % rotateFiles
            try open()
        }
    }

    public func close() {
        if let d = dumper {
            pcap_dump_flush(d)
            pcap_dump_close(d)
        }
        dumper = nil
    }

    /// Flushes and closes, and throws if any write failed (a full disk):
    /// `pcap_dump` returns nothing, so this is where a failure shows.
    public func finish() throws {
        guard let d = dumper else { return }
        let flushFailed = pcap_dump_flush(d) != 0
        let streamFailed = pcap_dump_file(d).map { ferror($0) != 0 } ?? false
        let reason = String(cString: strerror(errno))
        pcap_dump_close(d)
        dumper = nil
        if flushFailed || streamFailed { throw CaptureError.writeFailed(file: currentPath, reason: reason) }
    }

    deinit {
        close()
        if ownsHandle { pcap_close(handle) }
    }
}
