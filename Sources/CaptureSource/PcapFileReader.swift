import CPcap
import Foundation
import NetworkVocabulary

/// Reads one pcap file through libpcap, with nanosecond timestamps, or one
/// pcapng file through `PcapngReader` (libpcap cannot read a pcapng whose
/// interfaces have different link types).
///
/// Tracks the byte offset of every record so that damage can be reported as
/// "file, offset" instead of libpcap's bare message.
public final class PcapFileReader: PacketSource {
    public let path: String
    public let fileIndex: Int
    public let format: CaptureFileFormat
    public let linkType: LinkType
    public let fileSize: Int64
    public private(set) var snapLength: Int

    private var handle: OpaquePointer?
    private var file: UnsafeMutablePointer<FILE>?
    private var pcapng: PcapngReader?
    /// Classic pcap records are read by `PcapClassicReader` once libpcap has validated the header.
    private var classic: PcapClassicReader?
    private var frameNumber = 0
    /// `bytesRead` once the reader is closed (the readers that counted it are gone then).
    private var bytesReadWhenClosed: Int64 = 0

    public static let supportedLinkTypes: Set<Int32> = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]

    public init(path: String, fileIndex: Int = 0) throws {
        self.path = path
        self.fileIndex = fileIndex
        self.format = try CaptureFileFormat.sniff(path: path)
        var st = stat()
        self.fileSize = stat(path, &st) == 0 ? Int64(st.st_size) : 0
        if format == .pcapng {
            let reader = try PcapngReader(path: path)
            let first = reader.firstLinkType ?? LinkType(-1)
            linkType = first
            snapLength = reader.firstSnapLength
            guard PcapFileReader.supportedLinkTypes.contains(first.dlt) else {
                throw CaptureError.unsupportedLinkType(file: path, linkType: first.name, dlt: first.dlt)
            }
            pcapng = reader
            return
        }
        guard let fp = fopen(path, "rb") else {
            throw CaptureError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_fopen_offline_with_tstamp_precision(fp, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            fclose(fp)
            let reason = String(nulTerminated: errbuf)
            throw CaptureError.notACapture(file: path, reason: reason)
        }
        handle = h
        file = fp
        let dlt = pcap_datalink(h)
        linkType = LinkType(dlt)
        snapLength = Int(pcap_snapshot(h))
        guard PcapFileReader.supportedLinkTypes.contains(dlt) else {
            pcap_close(h)
            handle = nil
            throw CaptureError.unsupportedLinkType(file: path, linkType: LinkType(dlt).name, dlt: dlt)
        }
        classic = try PcapClassicReader(path: path, snapLength: snapLength, swapped: pcap_is_swapped(h) != 0,
                                        nanoseconds: format == .pcapNanoseconds)
        pcap_close(h)
        handle = nil
        file = nil
    }

    deinit { close() }

    public func close() {
        bytesReadWhenClosed = bytesRead
        if let h = handle { pcap_close(h) }  // also closes the FILE
        handle = nil
        file = nil
        pcapng = nil
        classic = nil
    }

    /// Byte offset where the next record (pcapng: block) starts. libpcap reads
    /// the FILE with fread only, so its position is the end of the last record read.
    private var currentOffset: Int64 {
        guard let fp = file else { return -1 }
        return Int64(ftell(fp))
    }

    public func nextPacket() throws -> CapturedPacket? {
        if let reader = pcapng {
            let next: (PcapngReader.Packet, UnsafeRawBufferPointer)?
            do { next = try reader.next() } catch {
                close()
                throw error
            }
            guard let (p, bytes) = next else { return nil }
            frameNumber &+= 1
            return CapturedPacket(frameNumber: frameNumber, fileIndex: fileIndex, time: p.time,
                                  linkType: p.linkType, originalLength: p.originalLength, bytes: bytes)
        }
        if let reader = classic {
            let next: (time: CaptureTime, originalLength: Int, bytes: UnsafeRawBufferPointer)?
            do { next = try reader.next() } catch {
                close()
                throw error
            }
            guard let (time, originalLength, bytes) = next else {
                close()
                return nil
            }
            frameNumber &+= 1
            return CapturedPacket(frameNumber: frameNumber, fileIndex: fileIndex, time: time,
                                  linkType: linkType, originalLength: originalLength, bytes: bytes)
        }
        guard let h = handle else { return nil }
        let recordOffset = currentOffset
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let rc = pcap_next_ex(h, &header, &data)
        switch rc {
        case 1:
            guard let hdr = header?.pointee, let data else { return nil }
            let caplen = Int(hdr.caplen)
            // libpcap silently cuts a classic-pcap record whose caplen exceeds the
            // file's snapshot length (and skips the rest); the record header is corrupt.
            if format != .pcapng, recordOffset >= 0 {
                let claimed = currentOffset &- recordOffset &- 16
                if claimed > Int64(caplen) {
                    close()
                    throw CaptureError.corruptRecord(file: path, offset: recordOffset,
                        reason: "record length \(claimed) is larger than the snapshot length \(snapLength)")
                }
            }
            frameNumber &+= 1
            let time = CaptureTime(seconds: Int64(hdr.ts.tv_sec), nanoseconds: Int64(hdr.ts.tv_usec))
            return CapturedPacket(frameNumber: frameNumber, fileIndex: fileIndex, time: time,
                                  linkType: linkType, originalLength: Int(hdr.len),
                                  bytes: UnsafeRawBufferPointer(start: data, count: caplen))
        case -2:
            close()
            return nil
        default:
            let message = String(cString: pcap_geterr(h))
            close()
            if message.contains("truncated") {
                throw CaptureError.truncatedRecord(file: path, offset: recordOffset, reason: message)
            }
            throw CaptureError.corruptRecord(file: path, offset: recordOffset, reason: message)
        }
    }

    /// Packets read so far (the last frame number handed out).
    public var packetsRead: Int { frameNumber }

    /// Bytes of the file read so far, headers included, up to the end of the last
    /// record (pcapng: block) read: a progress line's numerator, `fileSize` at the end
    /// of an undamaged file.
    public var bytesRead: Int64 {
        if let reader = classic { return reader.offset }
        if let reader = pcapng { return reader.offset }
        if handle != nil { return max(currentOffset, 0) }
        return bytesReadWhenClosed
    }
}
