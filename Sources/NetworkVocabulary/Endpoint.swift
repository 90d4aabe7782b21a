/// An IP address and port: `1.2.3.4:5` or `[2001:db8::1]:5`.
public struct Endpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    @inlinable public init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    public var description: String {
        address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// IPv4 endpoints hash as one word (address and port packed).
    @inlinable public func hash(into hasher: inout Hasher) {
        switch address {
        case let .v4(a): hasher.combine(UInt64(a) << 16 | UInt64(port))
        case let .v6(h, l):
            hasher.combine(h)
            hasher.combine(l)
            hasher.combine(port)
        }
    }

    public static func < (a: Endpoint, b: Endpoint) -> Bool {
        a.address != b.address ? a.address < b.address : a.port < b.port
    }

    /// Parses `ip:port` / `[ipv6]:port`.
    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":"), let port = UInt16(after.dropFirst()),
                  let addr = IPAddress(text[text.index(after: text.startIndex)..<close]) else { return nil }
            self.init(addr, port)
        } else {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
                  let addr = IPAddress(text[..<colon]) else { return nil }
            self.init(addr, port)
        }
    }
}

public enum TransportProtocol: UInt8, Sendable, CustomStringConvertible {
    case tcp = 6
    case udp = 17
    public var description: String { self == .udp ? "udp" : "tcp" }
}

/// Written `udp` / `tcp` (the JSON contract), not the protocol number.
extension TransportProtocol: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A directed transport 5-tuple (source -> destination).
public struct FiveTuple: Hashable, Sendable, CustomStringConvertible {
    public var source: Endpoint
    public var destination: Endpoint
    public var transport: TransportProtocol

    @inlinable public init(source: Endpoint, destination: Endpoint, transport: TransportProtocol) {
        self.source = source
        self.destination = destination
        self.transport = transport
    }

    /// Two words for IPv4 5-tuples: they key every per-flow table.
    @inlinable public func hash(into hasher: inout Hasher) {
        if case let .v4(s) = source.address, case let .v4(d) = destination.address {
            hasher.combine(UInt64(s) << 32 | UInt64(d))
            hasher.combine(UInt64(source.port) << 32 | UInt64(destination.port) << 8 | UInt64(transport.rawValue))
        } else {
            hasher.combine(source)
            hasher.combine(destination)
            hasher.combine(transport.rawValue)
        }
    }

    public var reversed: FiveTuple { FiveTuple(source: destination, destination: source, transport: transport) }

    /// Direction-free form (smaller endpoint first) for conversation keys.
    public var canonical: FiveTuple { source <= destination ? self : reversed }

    public var description: String { "\(transport) \(source) -> \(destination)" }
}
