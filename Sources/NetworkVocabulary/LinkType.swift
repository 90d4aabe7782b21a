/// A data-link type: the DLT_ value libpcap reports for a live interface or a
/// pcap file (`pcap_datalink`), or the pcapng interface's link type.
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
        if let name = LinkType.libpcapNames[dlt] { return name }
        return "DLT_\(dlt)"
    }

    public var description: String { name }

    /// The names `pcap_datalink_val_to_name` returns in libpcap 1.10.3 (its
    /// `dlt_choices` table), so that naming a link type needs no libpcap.
    /// CaptureSourceTests checks every value against the linked libpcap.
    static let libpcapNames: [Int32: String] = [
        0: "NULL", 1: "EN10MB", 6: "IEEE802", 7: "ARCNET", 8: "SLIP", 9: "PPP", 10: "FDDI", 11: "ATM_RFC1483",
        12: "RAW", 15: "SLIP_BSDOS", 16: "PPP_BSDOS", 19: "ATM_CLIP", 50: "PPP_SERIAL", 51: "PPP_ETHER",
        99: "SYMANTEC_FIREWALL", 104: "C_HDLC", 105: "IEEE802_11", 107: "FRELAY", 108: "LOOP", 109: "ENC",
        113: "LINUX_SLL", 114: "LTALK", 117: "PFLOG", 119: "PRISM_HEADER", 122: "IP_OVER_FC", 123: "SUNATM",
        127: "IEEE802_11_RADIO", 129: "ARCNET_LINUX", 130: "JUNIPER_MLPPP", 131: "JUNIPER_MLFR", 132: "JUNIPER_ES",
        133: "JUNIPER_GGSN", 134: "JUNIPER_MFR", 135: "JUNIPER_ATM2", 136: "JUNIPER_SERVICES", 137: "JUNIPER_ATM1",
        138: "APPLE_IP_OVER_IEEE1394", 139: "MTP2_WITH_PHDR", 140: "MTP2", 141: "MTP3", 142: "SCCP", 143: "DOCSIS",
        144: "LINUX_IRDA", 163: "IEEE802_11_RADIO_AVS", 164: "JUNIPER_MONITOR", 165: "BACNET_MS_TP", 166: "PPP_PPPD",
        167: "JUNIPER_PPPOE", 168: "JUNIPER_PPPOE_ATM", 169: "GPRS_LLC", 170: "GPF_T", 171: "GPF_F",
        174: "JUNIPER_PIC_PEER", 175: "ERF_ETH", 176: "ERF_POS", 177: "LINUX_LAPD", 178: "JUNIPER_ETHER",
        179: "JUNIPER_PPP", 180: "JUNIPER_FRELAY", 181: "JUNIPER_CHDLC", 182: "MFR", 183: "JUNIPER_VP", 184: "A429",
        185: "A653_ICM", 186: "USB_FREEBSD", 187: "BLUETOOTH_HCI_H4", 188: "IEEE802_16_MAC_CPS", 189: "USB_LINUX",
        190: "CAN20B", 191: "IEEE802_15_4_LINUX", 192: "PPI", 193: "IEEE802_16_MAC_CPS_RADIO", 194: "JUNIPER_ISM",
        195: "IEEE802_15_4", 196: "SITA", 197: "ERF", 198: "RAIF1", 199: "IPMB_KONTRON", 200: "JUNIPER_ST",
        201: "BLUETOOTH_HCI_H4_WITH_PHDR", 202: "AX25_KISS", 209: "IPMB_LINUX", 215: "IEEE802_15_4_NONASK_PHY",
        216: "LINUX_EVDEV", 219: "MPLS", 220: "USB_LINUX_MMAPPED", 221: "DECT", 222: "AOS", 223: "WIHART",
        224: "FC_2", 225: "FC_2_WITH_FRAME_DELIMS", 226: "IPNET", 227: "CAN_SOCKETCAN", 228: "IPV4", 229: "IPV6",
        230: "IEEE802_15_4_NOFCS", 231: "DBUS", 232: "JUNIPER_VS", 233: "JUNIPER_SRX_E2E",
        234: "JUNIPER_FIBRECHANNEL", 235: "DVB_CI", 236: "MUX27010", 237: "STANAG_5066_D_PDU",
        238: "JUNIPER_ATM_CEMIC", 239: "NFLOG", 240: "NETANALYZER", 241: "NETANALYZER_TRANSPARENT", 242: "IPOIB",
        243: "MPEG_2_TS", 244: "NG40", 245: "NFC_LLCP", 246: "PFSYNC", 247: "INFINIBAND", 248: "SCTP", 249: "USBPCAP",
        250: "RTAC_SERIAL", 251: "BLUETOOTH_LE_LL", 253: "NETLINK", 254: "BLUETOOTH_LINUX_MONITOR",
        255: "BLUETOOTH_BREDR_BB", 256: "BLUETOOTH_LE_LL_WITH_PHDR", 257: "PROFIBUS_DL", 258: "PKTAP", 259: "EPON",
        260: "IPMI_HPM_2", 261: "ZWAVE_R1_R2", 262: "ZWAVE_R3", 263: "WATTSTOPPER_DLM", 264: "ISO_14443", 265: "RDS",
        266: "USB_DARWIN", 267: "OPENFLOW", 268: "SDLC", 269: "TI_LLN_SNIFFER", 271: "VSOCK", 272: "NORDIC_BLE",
        273: "DOCSIS31_XRA31", 274: "ETHERNET_MPACKET", 275: "DISPLAYPORT_AUX", 276: "LINUX_SLL2", 278: "OPENVIZSLA",
        279: "EBHSCR", 280: "VPP_DISPATCH", 281: "DSA_TAG_BRCM", 282: "DSA_TAG_BRCM_PREPEND", 283: "IEEE802_15_4_TAP",
        284: "DSA_TAG_DSA", 285: "DSA_TAG_EDSA", 286: "ELEE", 287: "Z_WAVE_SERIAL", 288: "USB_2_0", 289: "ATSC_ALP",
    ]
}
