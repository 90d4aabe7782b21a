import CPcap
import NetworkVocabulary

/// A BPF filter applied to packets from any source.
///
/// `pcap_setfilter` on a file handle would silently skip packets and so shift
/// frame numbers away from tshark's; evaluating the compiled program with
/// `pcap_offline_filter` keeps the numbering of the original file.
public final class PacketFilter {
    public let expression: String
    private var programs: [Int32: UnsafeMutablePointer<bpf_program>] = [:]

    public init(expression: String) { self.expression = expression }

    deinit {
        for (_, p) in programs {
            pcap_freecode(p)
            p.deallocate()
        }
    }

    /// Compiles for a link type; throws with libpcap's message on a bad expression.
    @discardableResult
    public func compile(for linkType: LinkType) throws -> UnsafeMutablePointer<bpf_program> {
        if let p = programs[linkType.dlt] { return p }
        guard let dead = pcap_open_dead_with_tstamp_precision(linkType.dlt, 262_144, UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            throw CaptureError.badFilter(expression: expression, reason: "pcap_open_dead failed")
        }
        defer { pcap_close(dead) }
        let prog = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        prog.initialize(to: bpf_program())
        if pcap_compile(dead, prog, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            let reason = String(cString: pcap_geterr(dead))
            prog.deallocate()
            throw CaptureError.badFilter(expression: expression, reason: reason)
        }
        programs[linkType.dlt] = prog
        return prog
    }

    public func matches(_ packet: CapturedPacket) throws -> Bool {
        let prog = try compile(for: packet.linkType)
        var hdr = pcap_pkthdr()
        hdr.caplen = UInt32(packet.bytes.count)
        hdr.len = UInt32(packet.originalLength)
        guard let base = packet.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        return pcap_offline_filter(prog, &hdr, base) != 0
    }
}
