import CPcap
import NetworkVocabulary
import Testing

/// `LinkType.name` reads its own table so that naming a link type needs no
/// libpcap; it must say exactly what the linked libpcap says.
@Suite struct LinkTypeNameTests {
    @Test func namesAgreeWithLibpcap() {
        var mismatches: [String] = []
        for dlt in Int32(-2)...Int32(0xFFFF) {
            let libpcap = pcap_datalink_val_to_name(dlt).map { String(cString: $0) } ?? "DLT_\(dlt)"
            let ours = LinkType(dlt).name
            if ours != libpcap { mismatches.append("\(dlt): \(ours) != libpcap's \(libpcap)") }
        }
        #expect(mismatches.isEmpty, "update LinkType's name table: \(mismatches.prefix(10))")
    }

    @Test func namesOfTheDecodedLinkTypes() {
        #expect(LinkType.ethernet.name == "EN10MB")
        #expect(LinkType.linuxSLL2.description == "LINUX_SLL2")
        #expect(LinkType.rawLinktype.name == "DLT_101")
    }
}
