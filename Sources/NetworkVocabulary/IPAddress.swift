/// An IPv4 or IPv6 address as plain integers: hashable and free to copy,
/// so flow tables keyed by addresses allocate nothing per packet.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public var isIPv6: Bool { if case .v6 = self { return true } else { return false } }

    /// One or two words into the hasher (the synthesized hash adds the case tag
    /// and more calls): flow tables hash addresses several times per packet.
    @inlinable public func hash(into hasher: inout Hasher) {
        switch self {
        case let .v4(a): hasher.combine(UInt64(a))
        case let .v6(h, l):
            hasher.combine(h)
            hasher.combine(l)
        }
    }

    /// Not reachable from the Internet, as ICE and NAT inference read it: the
    /// RFC 1918 ranges (10/8, 172.16/12, 192.168/16), shared address space
    /// 100.64/10 (RFC 6598), link-local 169.254/16, loopback 127/8; IPv6 unique
    /// local fc00::/7, link-local fe80::/10 and ::1; IPv4-mapped IPv6 as its IPv4.
    public var isPrivate: Bool {
        switch self {
        case let .v4(a):
            return a >> 24 == 10 || a >> 20 == 0xAC1 || a >> 16 == 0xC0A8 || a >> 22 == (100 << 2 | 1)
                || a >> 16 == 0xA9FE || a >> 24 == 127
        case let .v6(hi, lo):
            if hi == 0, lo >> 32 == 0xFFFF { return IPAddress.v4(UInt32(truncatingIfNeeded: lo)).isPrivate }
            return hi >> 57 == 0x7E || hi >> 54 == 0x3FA || (hi == 0 && lo == 1)
        }
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case let (.v4(x), .v4(y)): return x < y
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case let (.v6(x1, x2), .v6(y1, y2)): return (x1, x2) < (y1, y2)
        }
    }

    /// Dotted quad, or RFC 5952 compressed IPv6.
    public var description: String {
        switch self {
        case let .v4(a):
            return "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).\(a & 0xff)"
        case let .v6(hi, lo):
            var groups = [UInt16](repeating: 0, count: 8)
            for i in 0..<4 {
                groups[i] = UInt16(truncatingIfNeeded: hi >> UInt64(48 - 16 * i))
                groups[4 + i] = UInt16(truncatingIfNeeded: lo >> UInt64(48 - 16 * i))
            }
            // IPv4-mapped addresses keep the dotted tail.
            if hi == 0, lo >> 32 == 0xffff {
                return "::ffff:" + IPAddress.v4(UInt32(truncatingIfNeeded: lo)).description
            }
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if groups[i] == 0 {
                    var j = i
                    while j < 8 && groups[j] == 0 { j += 1 }
                    if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            func hex(_ g: UInt16) -> String { String(g, radix: 16) }
            if bestStart < 0 { return groups.map(hex).joined(separator: ":") }
            let head = groups[0..<bestStart].map(hex).joined(separator: ":")
            let tail = groups[(bestStart + bestLen)...].map(hex).joined(separator: ":")
            return head + "::" + tail
        }
    }

    /// Parses dotted-quad or IPv6 text (used for user input and SDP, never on the packet path).
    public init?(_ text: Substring) {
        if text.contains(":") {
            var t = text
            if t.hasPrefix("["), t.hasSuffix("]") { t = t.dropFirst().dropLast() }
            if let pct = t.firstIndex(of: "%") { t = t[..<pct] }
            var tailV4: UInt32?
            if let lastColon = t.lastIndex(of: ":"), t[t.index(after: lastColon)...].contains(".") {
                guard case let .v4(v)? = IPAddress(t[t.index(after: lastColon)...]) else { return nil }
                tailV4 = v
                t = t[...lastColon]
                if t.hasSuffix(":") && !t.hasSuffix("::") { t = t.dropLast() }
            }
            let want = tailV4 == nil ? 8 : 6
            let parts = t.components(separatedBy: "::")
            guard parts.count <= 2 else { return nil }
            func parse(_ s: String) -> [UInt16]? {
                if s.isEmpty { return [] }
                var out: [UInt16] = []
                for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                    guard g.count >= 1, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                    out.append(v)
                }
                return out
            }
            guard let head = parse(parts[0]) else { return nil }
            var groups = head
            if parts.count == 2 {
                guard let tail = parse(parts[1]), head.count + tail.count < want else { return nil }
                groups += [UInt16](repeating: 0, count: want - head.count - tail.count) + tail
            }
            guard groups.count == want else { return nil }
            if let v4 = tailV4 { groups += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)] }
            var hi: UInt64 = 0, lo: UInt64 = 0
            for i in 0..<4 { hi = hi << 16 | UInt64(groups[i]) }
            for i in 4..<8 { lo = lo << 16 | UInt64(groups[i]) }
            self = .v6(hi, lo)
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, let o = UInt8(p) else { return nil }
            v = v << 8 | UInt32(o)
        }
        self = .v4(v)
    }

    public init?(_ text: String) { self.init(Substring(text)) }
}

import Foundation
