import CPcap
import Foundation
import NetworkVocabulary
import Synchronization

/// Packets from a network interface (pcap_create / pcap_activate).
///
/// The handle is non-blocking and waited on with poll(2): on an idle
/// interface libpcap's read timeout never fires, so a blocking read could
/// hang a `--duration` run forever.
///
/// A `pcap_t` is not thread-safe: every call on it is made with `state`
/// locked, so the source can be handed from thread to thread (`live` reads it
/// on a capture thread, then reads its counters and closes it on the thread
/// that opened it).
public final class LiveCaptureSource: PacketSource, Sendable {
    public let interface: String
    public let linkType: LinkType
    private struct State {
        /// nil once closed.
        var handle: OpaquePointer?
        var frameNumber = 0
    }
    private let state: Mutex<State>
    /// Longest a single `nextPacket()` waits before returning nil so callers can check clocks and signals.
    public let pollMilliseconds: Int32 = 200

    public static let defaultFilter = "udp or tcp or icmp or icmp6 or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)"

    public init(interface: String, snapLength: Int32 = 262_144, bufferSize: Int32 = 8 << 20,
                filter: String? = nil) throws {
        self.interface = interface
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CaptureError.interface(name: interface, reason: String(nulTerminated: errbuf))
        }
        pcap_set_snaplen(h, snapLength)
        pcap_set_immediate_mode(h, 1)
        pcap_set_buffer_size(h, bufferSize)
        pcap_set_tstamp_precision(h, Int32(PCAP_TSTAMP_PRECISION_NANO))
        let rc = pcap_activate(h)
        if rc < 0 {
            let detail = String(cString: pcap_geterr(h))
            pcap_close(h)
            throw CaptureError.interface(name: interface, reason: LiveCaptureSource.explain(rc, detail, interface))
        }
        linkType = LinkType(pcap_datalink(h))
        let expression = filter ?? LiveCaptureSource.defaultFilter
        do {
            var prog = bpf_program()
            if pcap_compile(h, &prog, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
                let reason = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw CaptureError.badFilter(expression: expression, reason: reason)
            }
            defer { pcap_freecode(&prog) }
            if pcap_setfilter(h, &prog) != 0 {
                let reason = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw CaptureError.badFilter(expression: expression, reason: reason)
            }
        }
        pcap_setnonblock(h, 1, &errbuf)
        state = Mutex(State(handle: h))
    }

    static func explain(_ rc: Int32, _ detail: String, _ interface: String) -> String {
        switch rc {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return "no such interface (see `stunscope interfaces`)\(detail.isEmpty ? "" : ": \(detail)")"
        case PCAP_ERROR_PERM_DENIED:
            return "permission denied: live capture needs root or CAP_NET_RAW+CAP_NET_ADMIN; grant them with `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v stunscope)`\(detail.isEmpty ? "" : " (\(detail))")"
        case PCAP_ERROR_IFACE_NOT_UP:
            return "interface is down"
        default:
            return detail.isEmpty ? "pcap_activate failed (\(rc))" : detail
        }
    }

    deinit { close() }

    public func close() {
        state.withLock { s in
            if let h = s.handle { pcap_close(h) }
            s.handle = nil
        }
    }

    /// The next packet, or nil when none arrived within `pollMilliseconds`.
    public func nextPacket() throws -> CapturedPacket? {
        let (interface, linkType, pollMilliseconds) = (self.interface, self.linkType, self.pollMilliseconds)
        return try state.withLock { s -> CapturedPacket? in
            guard let h = s.handle else { return nil }
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            var rc = pcap_next_ex(h, &header, &data)
            if rc == 0 {
                var pfd = pollfd(fd: pcap_get_selectable_fd(h), events: Int16(POLLIN), revents: 0)
                _ = poll(&pfd, 1, pollMilliseconds)
                rc = pcap_next_ex(h, &header, &data)
            }
            switch rc {
            case 1:
                guard let hdr = header?.pointee, let data else { return nil }
                s.frameNumber &+= 1
                return CapturedPacket(frameNumber: s.frameNumber, fileIndex: 0,
                                      time: CaptureTime(seconds: Int64(hdr.ts.tv_sec), nanoseconds: Int64(hdr.ts.tv_usec)),
                                      linkType: linkType, originalLength: Int(hdr.len),
                                      bytes: UnsafeRawBufferPointer(start: data, count: Int(hdr.caplen)))
            case 0, -2:
                return nil
            default:
                throw CaptureError.interface(name: interface, reason: String(cString: pcap_geterr(h)))
            }
        }
    }

    /// libpcap's received / dropped counters.
    public func statistics() -> (received: UInt32, dropped: UInt32, interfaceDropped: UInt32)? {
        state.withLock { s in
            guard let h = s.handle else { return nil }
            var st = pcap_stat()
            guard pcap_stats(h, &st) == 0 else { return nil }
            return (st.ps_recv, st.ps_drop, st.ps_ifdrop)
        }
    }

    /// The libpcap handle, for `PcapDumpWriter(handle:)` (which only reads its link type,
    /// snapshot length and timestamp precision, fixed once the handle is active).
    public var rawHandle: OpaquePointer? { state.withLock { $0.handle } }
}
