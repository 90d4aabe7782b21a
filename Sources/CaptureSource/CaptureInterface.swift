import CPcap
import Foundation

/// A capture interface as libpcap lists it (pcap_findalldevs).
public struct CaptureInterface: Sendable {
    public var name: String
    public var description: String?
    public var addresses: [String]
    public var flags: [String]

    /// Every interface libpcap can open, with addresses and flags.
    public static func all() throws -> [CaptureInterface] {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0 else {
            throw CaptureError.interface(name: "*", reason: String(nulTerminated: errbuf))
        }
        defer { pcap_freealldevs(list) }
        var out: [CaptureInterface] = []
        var cursor = list
        while let dev = cursor {
            let d = dev.pointee
            var addresses: [String] = []
            var a = d.addresses
            while let addr = a {
                if let sa = addr.pointee.addr, let text = CaptureInterface.format(sa) { addresses.append(text) }
                a = addr.pointee.next
            }
            var flags: [String] = []
            let f = d.flags
            if f & UInt32(PCAP_IF_UP) != 0 { flags.append("up") }
            if f & UInt32(PCAP_IF_RUNNING) != 0 { flags.append("running") }
            if f & UInt32(PCAP_IF_LOOPBACK) != 0 { flags.append("loopback") }
            if f & UInt32(PCAP_IF_WIRELESS) != 0 { flags.append("wireless") }
            switch f & UInt32(PCAP_IF_CONNECTION_STATUS) {
            case UInt32(PCAP_IF_CONNECTION_STATUS_CONNECTED): flags.append("connected")
            case UInt32(PCAP_IF_CONNECTION_STATUS_DISCONNECTED): flags.append("disconnected")
            default: break
            }
            out.append(CaptureInterface(name: String(cString: d.name),
                                        description: d.description.map { String(cString: $0) },
                                        addresses: addresses, flags: flags))
            cursor = d.next
        }
        return out
    }

    static func format(_ sa: UnsafeMutablePointer<sockaddr>) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let length: socklen_t
        switch Int32(sa.pointee.sa_family) {
        case AF_INET: length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case AF_INET6: length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        default: return nil
        }
        guard getnameinfo(sa, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(nulTerminated: host)
    }
}
