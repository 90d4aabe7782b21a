/// Builds IPv4/IPv6/UDP/TCP packets and link-layer frames for tests: the
/// decoder's, and the fuzz harness's seeds. Checksums are zero, as in
/// captures taken with checksum offload; the decoder does not check them.
public enum Build {
    public static func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    public static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    public static func udp(_ sport: Int, _ dport: Int, _ payload: [UInt8]) -> [UInt8] {
        be16(sport) + be16(dport) + be16(8 + payload.count) + [0, 0] + payload
    }

    public static func tcp(_ sport: Int, _ dport: Int, seq: UInt32, flags: UInt8, _ payload: [UInt8] = []) -> [UInt8] {
        be16(sport) + be16(dport) + be32(seq) + be32(0) + [0x50, flags] + be16(65535) + [0, 0, 0, 0] + payload
    }

    /// IPv4 header (+ options) around an upper-layer payload, or one fragment of it.
    public static func ipv4(src: UInt32 = 0x0a00_0001, dst: UInt32 = 0x0a00_0002, proto: UInt8 = 17, id: Int = 1,
                            fragmentOffset: Int = 0, moreFragments: Bool = false, options: [UInt8] = [],
                            _ payload: [UInt8]) -> [UInt8] {
        let ihl = (20 + options.count) / 4
        let flags = (moreFragments ? 0x2000 : 0) | (fragmentOffset / 8)
        return [UInt8(0x40 | ihl), 0] + be16(20 + options.count + payload.count) + be16(id) + be16(flags)
            + [64, proto, 0, 0] + be32(src) + be32(dst) + options + payload
    }

    public static let v6a: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    public static let v6b: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

    /// IPv6 header around `rest`, which starts with the header named by `next`.
    public static func ipv6(next: UInt8, _ rest: [UInt8], src: [UInt8] = v6a, dst: [UInt8] = v6b) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(rest.count) + [next, 64] + src + dst + rest
    }

    /// An 8-byte extension header (hop-by-hop / destination options with PadN).
    public static func extHeader(next: UInt8) -> [UInt8] { [next, 0, 1, 4, 0, 0, 0, 0] }

    public static func fragmentHeader(next: UInt8, offset: Int, more: Bool, id: UInt32) -> [UInt8] {
        [next, 0] + be16(offset | (more ? 1 : 0)) + be32(id)
    }

    public static let mac1: [UInt8] = [2, 0, 0, 0, 0, 1]
    public static let mac2: [UInt8] = [2, 0, 0, 0, 0, 2]

    public static func ethernet(_ ethertype: Int, _ ip: [UInt8], tags: [(tpid: Int, vid: Int)] = []) -> [UInt8] {
        var f = mac2 + mac1
        for t in tags { f += be16(t.tpid) + be16(t.vid) }
        return f + be16(ethertype) + ip
    }

    public static func sll(_ ethertype: Int, _ ip: [UInt8]) -> [UInt8] {
        [0, 0] + be16(1) + be16(6) + mac1 + [0, 0] + be16(ethertype) + ip
    }

    public static func sll2(_ ethertype: Int, _ ip: [UInt8]) -> [UInt8] {
        be16(ethertype) + [0, 0] + be32(2) + be16(1) + [0, 6] + mac1 + [0, 0] + ip
    }
}
