import CPcap

/// A libpcap data-link type (DLT_ value as returned by `pcap_datalink`).
public struct LinkType: Hashable, Sendable, CustomStringConvertible {
    public let dlt: Int32
    public init(_ dlt: Int32) { self.dlt = dlt }

    public static let null = LinkType(0)
    public static let ethernet = LinkType(1)
    public static let raw = LinkType(12)          // DLT_RAW on Linux (LINKTYPE_RAW 101 in files)
    public static let rawOpenBSD = LinkType(14)
    public static let loop = LinkType(108)
    public static let rawLinktype = LinkType(101)
    public static let linuxSLL = LinkType(113)
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    public static let linuxSLL2 = LinkType(276)

    /// libpcap's name (`EN10MB`, `LINUX_SLL2`, ...), or `DLT_<n>` when it has none.
    public var name: String {
        if let p = pcap_datalink_val_to_name(dlt) { return String(cString: p) }
        return "DLT_\(dlt)"
    }

    public var description: String { name }
}
