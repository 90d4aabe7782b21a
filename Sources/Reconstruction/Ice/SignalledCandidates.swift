import NetworkVocabulary

/// A candidate from SDP (SIP in the capture, or `--sdp FILE`).
struct SignalledCandidate {
    var address: String
    var endpoint: Endpoint?
    var type: CandidateType
    var transport: String
    var priority: UInt32
    var foundation: String
    var related: String?
    /// ICE-TCP (RFC 6544): `active` candidates are signalled with port 9 and connect from any port.
    var tcpType: String? = nil

    /// An ICE-TCP active candidate (RFC 6544 section 4.5): it connects from an ephemeral port of its address.
    var isActiveTcp: Bool { transport == "tcp" && tcpType == "active" }
}

/// One SDP's ICE information: whose ufrag, which candidates, from where.
struct SignalledDescription {
    var ufrag: String?
    var candidates: [SignalledCandidate]
    /// `SIP INVITE (frame 11)` or `--sdp offer.sdp`.
    var source: String
    var callId: String?
}

/// Every SDP of the capture (and `--sdp`), with each signalled address
/// looked up by endpoint.
struct SignalledCandidates {
    /// A signalled address: the candidate, the ufrag of the SDP that carried it, and that SDP.
    struct Entry {
        var candidate: SignalledCandidate
        var ufrag: String?
        var source: String

        /// Signalled by `owner`, or by an SDP without a ufrag (which could be anyone's).
        func mayBelong(to owner: String?) -> Bool { ufrag == nil || ufrag == owner }
    }

    let descriptions: [SignalledDescription]
    /// The first SDP that signalled each address.
    private let byAddress: [Endpoint: Entry]

    init(_ descriptions: [SignalledDescription]) {
        self.descriptions = descriptions
        var byAddress: [Endpoint: Entry] = [:]
        for d in descriptions {
            for c in d.candidates {
                guard let e = c.endpoint, byAddress[e] == nil else { continue }
                byAddress[e] = Entry(candidate: c, ufrag: d.ufrag, source: d.source)
            }
        }
        self.byAddress = byAddress
    }

    subscript(address: Endpoint) -> Entry? { byAddress[address] }

    /// The SDPs that carry `ufrag`'s candidates.
    func descriptions(of ufrag: String) -> [SignalledDescription] {
        descriptions.filter { $0.ufrag == ufrag }
    }

    /// A signalled ICE-TCP active candidate on this IP, of `owner` when given
    /// (RFC 6544 section 4.5: its port is 9, the wire shows an ephemeral one).
    func activeTcpCandidate(on ip: IPAddress, owner: String?) -> Entry? {
        for d in descriptions where owner == nil || d.ufrag == nil || d.ufrag == owner {
            if let c = d.candidates.first(where: { $0.isActiveTcp && $0.endpoint?.address == ip }) {
                return Entry(candidate: c, ufrag: d.ufrag, source: d.source)
            }
        }
        return nil
    }
}
