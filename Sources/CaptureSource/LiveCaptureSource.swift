import CPcap
import Foundation
import NetworkVocabulary
import Synchronization

/// Packets from a network interface (pcap_create / pcap_activate), read in
/// batches with `pcap_dispatch`.
///
/// The handle is non-blocking and waited on with poll(2): on an idle
/// interface libpcap's read timeout never fires, so a blocking read could
/// hang a `--duration` run forever.
///
/// Buffered (the default) or immediate delivery: on Linux these are two
/// different kernel rings. Buffered mode is TPACKET_V3: packets are packed
/// one after another into blocks, so a 64 MiB buffer holds some 250,000
/// packets of 150 bytes, and a block reaches the reader when it is full or
/// `blockTimeoutMilliseconds` after its first packet. Immediate mode is
/// TPACKET_V2: every packet is its own slot sized for the largest packet the
/// interface can deliver (about 64 KiB on `lo` or any interface with
/// segmentation offload), so the same buffer holds about a thousand packets
/// and a short stall of the reader makes the kernel drop.
///
/// A `pcap_t` is not thread-safe: every call on it is made with `state`
/// locked, so the source can be handed from thread to thread (`live` reads it
/// on a capture thread, then reads its counters and closes it on the thread
/// that opened it).
public final class LiveCaptureSource: Sendable {
    public let interface: String
    public let linkType: LinkType
    /// The kernel buffer libpcap was asked for, in bytes.
    public let bufferSize: Int
    public let immediate: Bool
    private struct State {
        /// nil once closed.
        var handle: OpaquePointer?
        var frameNumber = 0
    }
    private let state: Mutex<State>

    public static let defaultFilter = "udp or tcp or icmp or icmp6 or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)"
    public static let defaultBufferSize = 64 << 20
    /// How long a partly filled block waits in buffered mode before the kernel hands it over:
    /// the longest a packet on a quiet link waits before analysis sees it.
    public static let blockTimeoutMilliseconds: Int32 = 50

    public init(interface: String, snapLength: Int32 = 262_144, bufferSize: Int = LiveCaptureSource.defaultBufferSize,
                immediate: Bool = false, filter: String? = nil) throws {
        self.interface = interface
        self.bufferSize = bufferSize
        self.immediate = immediate
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CaptureError.interface(name: interface, reason: String(nulTerminated: errbuf))
        }
        pcap_set_snaplen(h, snapLength)
        if immediate {
            pcap_set_immediate_mode(h, 1)
        } else {
            pcap_set_timeout(h, LiveCaptureSource.blockTimeoutMilliseconds)
        }
        pcap_set_buffer_size(h, Int32(clamping: bufferSize))
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

    /// Hands `body` every packet the kernel has ready, at most `maxPackets`, without waiting;
    /// returns how many. Each packet's bytes point into the kernel ring and are valid only
    /// during its call. In buffered mode one call reads at most one block.
    public func dispatch(maxPackets: Int, _ body: (CapturedPacket) -> Void) throws -> Int {
        let (interface, linkType) = (self.interface, self.linkType)
        return try withoutActuallyEscaping(body) { body in
            var context = DispatchContext(frameNumber: 0, linkType: linkType, body: body)
            return try withUnsafeMutablePointer(to: &context) { c in
                // The context (and `body`) never leaves this thread: libpcap calls the callback on
                // it, before pcap_dispatch returns. The region checker would tie the context to the
                // lock's state once both go into one call; passed as an address, it cannot.
                let address = UInt(bitPattern: c)
                return try state.withLock { s -> Int in
                    guard let h = s.handle else { return 0 }
                    guard let context = UnsafeMutablePointer<DispatchContext>(bitPattern: address) else { return 0 }
                    context.pointee.frameNumber = s.frameNumber
                    let rc = pcap_dispatch(h, Int32(clamping: max(1, maxPackets)), dispatchCallback,
                                           UnsafeMutableRawPointer(context).assumingMemoryBound(to: UInt8.self))
                    s.frameNumber = context.pointee.frameNumber
                    switch rc {
                    case 0...: return Int(rc)
                    case PCAP_ERROR_BREAK: return 0
                    default: throw CaptureError.interface(name: interface, reason: String(cString: pcap_geterr(h)))
                    }
                }
            }
        }
    }

    /// Waits up to `milliseconds` for the kernel to have packets ready (or for an error to report).
    public func waitForPackets(milliseconds: Int32) {
        let fd = state.withLock { s -> Int32 in s.handle.map { pcap_get_selectable_fd($0) } ?? -1 }
        guard fd >= 0 else { return }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, milliseconds)
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

/// What `pcap_dispatch` hands its C callback through the `user` pointer.
private struct DispatchContext {
    var frameNumber: Int
    let linkType: LinkType
    let body: (CapturedPacket) -> Void
}

/// Wraps each packet as a `CapturedPacket` (no copy) and passes it on. A closure literal
/// that captures nothing, so it converts to the C function pointer libpcap wants.
private let dispatchCallback: pcap_handler = { user, header, data in
    guard let user, let header, let data else { return }
    let context = UnsafeMutableRawPointer(user).assumingMemoryBound(to: DispatchContext.self)
    context.pointee.frameNumber &+= 1
    let hdr = header.pointee
    // With nanosecond precision requested, libpcap puts nanoseconds in the field named tv_usec.
    context.pointee.body(CapturedPacket(
        frameNumber: context.pointee.frameNumber, fileIndex: 0,
        time: CaptureTime(seconds: Int64(hdr.ts.tv_sec), nanoseconds: Int64(hdr.ts.tv_usec)),
        linkType: context.pointee.linkType, originalLength: Int(hdr.len),
        bytes: UnsafeRawBufferPointer(start: data, count: Int(hdr.caplen))))
}
