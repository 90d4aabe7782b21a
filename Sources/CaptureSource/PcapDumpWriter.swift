import CPcap
import Foundation
import NetworkVocabulary

/// Writes raw packets to a pcap file while they are analysed (`live --write`),
/// optionally rotating by size through a ring of files like `tcpdump -C -W`:
/// FILE, FILE.1, ..., FILE.(N-1), then FILE again.
public final class PcapDumpWriter {
    public let path: String
    public let rotateBytes: Int64?
    public let rotateFiles: Int
    private let handle: OpaquePointer
    private var dumper: OpaquePointer?
    private var index = 0
    public private(set) var packetsWritten = 0
    public private(set) var filesWritten: [String] = []

    public init(handle: OpaquePointer, path: String, rotateMegabytes: Int? = nil, rotateFiles: Int = 1) throws {
        self.handle = handle
        self.path = path
        self.rotateBytes = rotateMegabytes.map { Int64($0) * 1_000_000 }
        self.rotateFiles = max(1, rotateFiles)
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
        // The live handle is opened with nanosecond precision, so the dump is a nanosecond pcap.
        hdr.ts.tv_usec = Int(p.time.nanoseconds % 1_000_000_000)
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

    deinit { close() }
}
