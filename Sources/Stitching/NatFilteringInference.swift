import NetworkVocabulary

/// RFC 4787 filtering of one NAT, from what came in and what it dropped.
///
/// An inbound packet is judged against what the inside endpoint had sent
/// through the same outside endpoint before it arrived: from an endpoint it
/// had sent to, any NAT lets it in; from another port of an address it had
/// sent to, only address-dependent or endpoint-independent filtering does;
/// from another address, only endpoint-independent filtering does. Dropped
/// packets (seen outside, never inside: `PacketLoss` at this NAT) bound the
/// filtering from the other side.
public enum NatFilteringInference {
    public enum Filtering: String, Sendable {
        case endpointIndependent = "endpoint-independent"
        case addressDependent = "address-dependent"
        case addressAndPortDependent = "address-and-port-dependent"
        /// Drops only from addresses never contacted: address-dependent or address-and-port-dependent.
        case addressDependentOrStricter = "address-dependent or stricter"
        case notObserved = "not observed"
    }

    public struct Inbound {
        public var source: Endpoint
        public var outside: Endpoint
        public var time: Int64
        public var passed: Bool
        public var frame: Int
        public var vantage: Int

        public init(source: Endpoint, outside: Endpoint, time: Int64, passed: Bool, frame: Int, vantage: Int) {
            self.source = source
            self.outside = outside
            self.time = time
            self.passed = passed
            self.frame = frame
            self.vantage = vantage
        }
    }

    /// The verdict and the packet behind it.
    public static func classify(_ nat: NatBehaviour, inbound: [Inbound], vantageName: (Int) -> String) -> (Filtering, String) {
        var contacted: [Endpoint: [(destination: Endpoint, since: Int64)]] = [:]
        for t in nat.translations {
            if let first = t.firstOutbound { contacted[t.key.outside, default: []].append((t.key.destination, first)) }
        }
        var passedOtherAddress: String? = nil
        var passedOtherPort: String? = nil
        var droppedOtherPort: String? = nil
        var droppedOtherAddress: String? = nil
        for p in inbound.sorted(by: { $0.time < $1.time }) {
            let before = (contacted[p.outside] ?? []).filter { $0.since <= p.time }.map(\.destination)
            guard !before.isEmpty, !before.contains(p.source) else { continue }
            let where_ = "frame \(p.frame) at \(vantageName(p.vantage)): \(p.source) -> \(p.outside)"
            let sameAddress = before.contains { $0.address == p.source.address }
            switch (p.passed, sameAddress) {
            case (true, false): passedOtherAddress = passedOtherAddress ?? where_ + " came in from an address the inside endpoint had not sent to"
            case (true, true): passedOtherPort = passedOtherPort ?? where_ + " came in from a port the inside endpoint had not sent to"
            case (false, true): droppedOtherPort = droppedOtherPort ?? where_ + " was dropped: the inside endpoint had sent to that address, not that port"
            case (false, false): droppedOtherAddress = droppedOtherAddress ?? where_ + " was dropped: the inside endpoint had not sent to that address"
            }
        }
        if let e = passedOtherAddress { return (.endpointIndependent, e) }
        if let e = droppedOtherPort { return (.addressAndPortDependent, e) }
        if let e = passedOtherPort { return (.addressDependent, e) }
        if let e = droppedOtherAddress { return (.addressDependentOrStricter, e) }
        return (.notObserved, "no packet came to a mapping from an endpoint its inside host had not sent to")
    }
}
