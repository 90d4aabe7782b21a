import NetworkVocabulary

/// Where the network layer starts in a frame, per link type.
enum LinkLayer {
    enum Result {
        case ipv4(offset: Int, vlanTagged: Bool)
        case ipv6(offset: Int, vlanTagged: Bool)
        case notIP(String)
        case truncated(String)
    }

    static func locateNetworkLayer(_ b: UnsafeRawBufferPointer, linkType: LinkType) -> Result {
        switch linkType.dlt {
        case 1: // Ethernet, with any number of 802.1Q / 802.1ad / QinQ tags
            guard b.count >= 14 else { return .truncated("truncated Ethernet header") }
            return afterEthertype(b, b.loadBE16(12), 14)
        case 113: // LINUX_SLL: protocol at 14, header 16
            guard b.count >= 16 else { return .truncated("truncated LINUX_SLL header") }
            // libpcap re-inserts a VLAN tag the kernel took out of the frame after
            // the protocol field (tcpdump -i any -y LINUX_SLL on a tagged interface).
            return afterEthertype(b, b.loadBE16(14), 16)
        case 276: // LINUX_SLL2: protocol at 0, header 20
            guard b.count >= 20 else { return .truncated("truncated LINUX_SLL2 header") }
            return afterEthertype(b, b.loadBE16(0), 20)
        case 0, 108: // NULL (host byte order) / LOOP (network byte order) address family
            guard b.count >= 4 else { return .truncated("truncated NULL/LOOP header") }
            let be = b.loadBE32(0)
            let family = linkType.dlt == 108 ? be : (be > 0xffff ? be.byteSwapped : be)
            switch family {
            case 2: return .ipv4(offset: 4, vlanTagged: false)
            case 10, 24, 28, 30: return .ipv6(offset: 4, vlanTagged: false)
            default: return .notIP("address family \(family)")
            }
        case 12, 14, 101: // RAW: version nibble decides
            return byVersion(b, 0)
        case 228:
            return .ipv4(offset: 0, vlanTagged: false)
        case 229:
            return .ipv6(offset: 0, vlanTagged: false)
        default:
            return .notIP("link type \(linkType.name)")
        }
    }

    /// Skips VLAN tags (802.1Q, 802.1ad, the old 0x9100/0x9200 QinQ TPIDs) that
    /// follow an ethertype at `offset`, then dispatches on the inner ethertype.
    private static func afterEthertype(_ b: UnsafeRawBufferPointer, _ first: UInt16, _ start: Int) -> Result {
        var ethertype = first
        var offset = start
        var tags = 0
        while ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100 || ethertype == 0x9200 {
            guard b.count >= offset &+ 4, tags < 8 else { return .truncated("truncated VLAN tag") }
            ethertype = b.loadBE16(offset &+ 2)
            offset &+= 4
            tags &+= 1
        }
        return byEthertype(ethertype, offset, tags > 0)
    }

    private static func byEthertype(_ ethertype: UInt16, _ offset: Int, _ tagged: Bool) -> Result {
        switch ethertype {
        case 0x0800: return .ipv4(offset: offset, vlanTagged: tagged)
        case 0x86dd: return .ipv6(offset: offset, vlanTagged: tagged)
        default:
            let hex = String(ethertype, radix: 16)
            return .notIP("ethertype 0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex)
        }
    }

    private static func byVersion(_ b: UnsafeRawBufferPointer, _ offset: Int) -> Result {
        guard b.count > offset else { return .truncated("empty raw IP packet") }
        switch b[offset] >> 4 {
        case 4: return .ipv4(offset: offset, vlanTagged: false)
        case 6: return .ipv6(offset: offset, vlanTagged: false)
        default: return .notIP("IP version \(b[offset] >> 4)")
        }
    }
}
