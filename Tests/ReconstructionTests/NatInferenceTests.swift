import Foundation
import NetworkVocabulary
import Reconstruction
import StunWire
import Testing

/// BindingSessionTracker's NAT view: reflexive addresses per server, the
/// mapping behaviour (RFC 4787 section 4.1) and the filtering behaviour
/// (RFC 5780 section 4.4 / RFC 3489 tests II-III). Against the stun-rfc5780
/// and stun-classic truth files: the NAT routers' conntrack tables
/// (`nat.mappings`: inside, destination -> outside), the configured NAT and
/// what turnutils_natdiscovery / stun-client concluded (`stun.clients[]`);
/// and hand-made exchanges for each RFC rule.
@Suite("NAT inference")
struct NatInferenceTests {
    /// Captures on a client's own LAN: the inside address is on the wire.
    static let insideCaptures = [
        "stun-rfc5780.lan-port-preserving.pcap", "stun-rfc5780.lan-symmetric.pcap",
        "stun-classic.lan-port-preserving.pcap", "stun-classic.lan-symmetric.pcap",
    ]
    static let publicCaptures = ["stun-rfc5780.public.pcap", "stun-classic.public.pcap"]

    /// RFC 3489's "symmetric" is spelt with its RFC 4787 mapping in the truth.
    static func behavior(_ truth: String?) -> NatBehavior? {
        guard let truth else { return nil }
        return NatBehavior(rawValue: truth == "address-dependent (symmetric)" ? "address-dependent" : truth)
    }

    static func host(_ endpoint: String) -> String { String(endpoint[..<(endpoint.lastIndex(of: ":") ?? endpoint.endIndex)]) }

    @Test("the client's Binding session: its reflexive address and what the server said about itself",
          arguments: insideCaptures)
    func bindingSession(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let stun = truth["stun"], client = stun["clients"][0]
        let classic = capture.hasPrefix("stun-classic")
        let s = try #require(doc.bindings.first { $0.client == stun["client"].string && $0.server == stun["server"].string })
        #expect(s.reflexive == [stun["reflexive"].string ?? ""])
        #expect(s.classic == classic)
        #expect(doc.bindings.allSatisfy { $0.classic == classic })
        if classic {
            #expect(s.responseOrigin == client["sourceAddress"].string, "SOURCE-ADDRESS")
            #expect(s.changedAddress == client["changedAddress"].string, "CHANGED-ADDRESS")
        } else {
            #expect(s.responseOrigin == client["responseOrigin"].string, "RESPONSE-ORIGIN")
            #expect(s.otherAddress == client["otherAddress"].string, "OTHER-ADDRESS")
        }
    }

    @Test("every reflexive address observed is the NAT's conntrack mapping, and every answered mapping is observed",
          arguments: insideCaptures)
    func observationsAreConntrack(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let inside = Self.host(truth["stun"]["client"].string ?? "")
        let conntrack = truth["nat"]["mappings"].array
        let mine = doc.natMappings.filter { Self.host($0.local) == inside }
        #expect(!mine.isEmpty)
        var observed: Set<String> = []
        for n in mine {
            for o in n.observations {
                let entry = conntrack.first { $0["inside"].string == n.local && $0["destination"].string == o.server }
                #expect(entry?["outside"].string == o.reflexive, "\(n.local) -> \(o.server): saw \(o.reflexive)")
                observed.insert("\(n.local) \(o.server) \(o.reflexive)")
            }
        }
        let answered = Set(conntrack.filter { $0["replied"].bool == true }.map {
            "\($0["inside"].string ?? "") \($0["destination"].string ?? "") \($0["outside"].string ?? "")"
        })
        #expect(observed == answered)
    }

    @Test("mapping and filtering behaviour as natdiscovery / stun-client found them; nat.symmetric only behind the symmetric NAT",
          arguments: insideCaptures)
    func behaviour(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let stun = truth["stun"]
        let inside = Self.host(stun["client"].string ?? "")
        let mine = doc.natMappings.filter { Self.host($0.local) == inside }
        let mapping = try #require(Self.behavior(stun["mappingBehavior"].string))
        #expect(Set(mine.map(\.mappingBehavior)).subtracting([.unknown, .none]) == [mapping])
        if let filtering = Self.behavior(stun["filteringBehavior"].string) {
            #expect(Set(mine.compactMap(\.filteringBehavior)) == [filtering])
        }
        // The configured NAT: nftables `masquerade` (port preserving) or `masquerade fully-random` (symmetric).
        let symmetric = truth["nat"]["type"].string == "symmetric"
        #expect(symmetric == (mapping != .endpointIndependent))
        #expect(doc.findingCodes.contains(.natSymmetric) == symmetric)
    }

    @Test("CHANGE-REQUEST probes: sent, and their answers never reached the client behind the filtering NAT",
          arguments: insideCaptures)
    func changeRequestTests(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let inside = Self.host(truth["stun"]["client"].string ?? "")
        // A CHANGE-REQUEST without flags (RFC 3489 test I) is answered from where it went: not a probe.
        let tests = doc.bindings.filter { Self.host($0.client) == inside }.flatMap(\.natTests).filter { $0.changeIP || $0.changePort }
        #expect(tests.contains { $0.changeIP } && tests.contains { !$0.changeIP && $0.changePort })
        // Both NATs filter address- and port-dependently (conntrack): no answer from another address gets in
        // (stun-client's "test II": 0, "test III": 0).
        #expect(tests.allSatisfy { !$0.answered })
        if capture.hasPrefix("stun-classic") {
            let verdict = truth["stun"]["clients"][0]["tests"]
            #expect(verdict["test II"].int == 0 && verdict["test III"].int == 0)
        }
    }

    @Test("outside the NATs: only what the NAT tests show from outside is claimed", arguments: publicCaptures)
    func publicVantage(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        #expect(!doc.natMappings.isEmpty)
        // NAT B maps per destination (conntrack): its client's request to the alternate address
        // arrives here from another public port than the one to the primary (RFC 3489 I(2) /
        // RFC 5780 4.3). NAT A keeps one mapping: nothing about it can be claimed from here.
        let symmetricHosts = Set(truth["stun"]["clients"].array.filter { $0["natType"].string == "symmetric" }
            .compactMap { $0["natPublicAddress"].string })
        #expect(!symmetricHosts.isEmpty)
        let outside = Set(truth["nat"]["mappings"].array.compactMap { $0["outside"].string })
        for n in doc.natMappings {
            let host = Endpoint(n.local)?.address.description ?? n.local
            if symmetricHosts.contains(host) {
                #expect(n.mappingBehavior == .addressDependent, "\(n.local): \(n.mappingBehavior)")
            } else {
                #expect(n.mappingBehavior == .none || n.mappingBehavior == .unknown, "\(n.local): \(n.mappingBehavior)")
            }
            // Every local here is a NAT's public side (conntrack's outside address).
            #expect(outside.contains(n.local), "\(n.local)")
        }
        let claimed = doc.findings.filter { $0.code == .natSymmetric }
        #expect(claimed.count == symmetricHosts.count)
        #expect(claimed.allSatisfy { f in symmetricHosts.contains { "\(f.message)".hasPrefix($0 + " ") } })
        // The CHANGE-REQUEST answers pass this wire and are dropped behind it: filtering cannot be
        // read here. If it is claimed anyway, it must at least be the NATs' (both address-and-port-dependent).
        let filtering = Set(truth["stun"]["clients"].array.compactMap { Self.behavior($0["filteringBehavior"].string) })
        for n in doc.natMappings {
            if let f = n.filteringBehavior { #expect(filtering.contains(f), "\(n.local): \(f)") }
        }
        // The truth: the probes were answered (from the server's other address) and the answers dropped
        // by the NATs, behind this segment ("answered from 203.0.113.21:3478 ... dropped by both NATs";
        // "whose answer comes from the OTHER-ADDRESS and is dropped by the NAT"): every request has
        // its answer on this wire, with its transaction id.
        #expect(doc.transactions.allSatisfy { $0.state == .success || $0.state == .error })
        #expect(!doc.findingCodes.contains(.stunRequestUnanswered))
        #expect(!doc.findingCodes.contains(.stunServerUnreachable))
    }

    @Test("TURN clients behind the masquerading NAT: the Allocate's XOR-MAPPED-ADDRESS is conntrack's mapping",
          arguments: ["turn-udp-channels.client-lan.pcap", "turn-udp-send.client-lan.pcap", "turn-expiry.client-lan.pcap"])
    func allocateMapping(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        for m in truth["nat"]["mappings"].array where m["remote"].string == truth["turn"]["server"].string {
            let lan = try #require(m["lan"].string)
            let n = try #require(doc.natMappings.first { $0.local == lan }, "\(lan)")
            #expect(n.observations.map(\.reflexive) == [m["public"].string ?? ""])
            #expect(n.observations.map(\.server) == [m["remote"].string ?? ""])
            #expect(n.mappingBehavior == .unknown, "one server only")
            if let a = doc.allocation(client: lan) { #expect(a.mapped == m["public"].string) }
        }
        #expect(!doc.findingCodes.contains(.natSymmetric))
    }

    // MARK: Hand-made: the RFC rules one by one

    static let local = "10.0.0.5:5000"
    static let primary = "198.51.100.1:3478"
    static let alternateIP = "198.51.100.2:3478"
    static let alternatePort = "198.51.100.1:3479"
    static let alternate = "198.51.100.2:3479"

    static func ask(_ t: inout HandMadeTraffic, _ server: String, id: UInt8, at: Double, sees reflexive: String) {
        t.udp(local, server, at: at, stun(.binding, .request, id: id))
        t.udp(server, local, at: at + 0.01, stun(.binding, .success, id: id) {
            $0.address(.xorMappedAddress, reflexive)
            $0.address(.responseOrigin, server, xor: false)
            $0.address(.otherAddress, alternate, xor: false)
        })
    }

    @Test("two servers, one reflexive address: endpoint-independent mapping")
    func endpointIndependent() throws {
        var t = HandMadeTraffic()
        Self.ask(&t, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        Self.ask(&t, Self.alternateIP, id: 2, at: 1, sees: "203.0.113.5:5000")
        let doc = t.document()
        let n = try #require(doc.natMappings.first { $0.local == Self.local })
        #expect(n.mappingBehavior == .endpointIndependent)
        #expect(n.observations.map(\.server) == [Self.primary, Self.alternateIP])
        #expect(!doc.findingCodes.contains(.natSymmetric))
    }

    @Test("another server IP, another mapping: address-dependent (symmetric)")
    func addressDependent() throws {
        var t = HandMadeTraffic()
        Self.ask(&t, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        Self.ask(&t, Self.alternateIP, id: 2, at: 1, sees: "203.0.113.5:6000")
        let doc = t.document()
        let n = try #require(doc.natMappings.first { $0.local == Self.local })
        #expect(n.mappingBehavior == .addressDependent)
        #expect(doc.findings.contains { $0.code == .natSymmetric && $0.frames == [2, 4] })
    }

    @Test("another port of the same server IP, another mapping: address-and-port-dependent")
    func addressAndPortDependent() throws {
        var t = HandMadeTraffic()
        Self.ask(&t, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        Self.ask(&t, Self.alternatePort, id: 2, at: 1, sees: "203.0.113.5:6000")
        let n = try #require(t.document().natMappings.first { $0.local == Self.local })
        #expect(n.mappingBehavior == .addressAndPortDependent)
    }

    @Test("one server only: unknown; seen as itself: no NAT")
    func unknownAndNone() throws {
        var one = HandMadeTraffic()
        Self.ask(&one, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        #expect(one.document().natMappings.first?.mappingBehavior == .unknown)
        var open = HandMadeTraffic()
        Self.ask(&open, Self.primary, id: 1, at: 0, sees: Self.local)
        Self.ask(&open, Self.alternateIP, id: 2, at: 1, sees: Self.local)
        let doc = open.document()
        #expect(doc.natMappings.first?.mappingBehavior == NatBehavior.none)
        #expect(!doc.findingCodes.contains(.natSymmetric))
    }

    /// CHANGE-REQUEST flags (RFC 5780 section 7.2): 0x04 change IP, 0x02 change port.
    static func probe(_ t: inout HandMadeTraffic, id: UInt8, at: Double, changeIP: Bool, changePort: Bool, answeredFrom: String?) {
        let flags: UInt32 = (changeIP ? 4 : 0) | (changePort ? 2 : 0)
        t.udp(local, primary, at: at, stun(.binding, .request, id: id) { $0.add(.changeRequest, uint32: flags) })
        if let from = answeredFrom {
            t.udp(from, local, at: at + 0.01, stun(.binding, .success, id: id) {
                $0.address(.xorMappedAddress, "203.0.113.5:5000")
                $0.address(.responseOrigin, from, xor: false)
                $0.address(.otherAddress, alternate, xor: false)
            })
        }
    }

    /// RFC 5780 section 4.4: "the client sends a Binding Request to the primary address ... with
    /// the 'change IP' and 'change port' flags set ... If the client receives a response, the
    /// current behavior is endpoint-independent filtering" (the answer comes from the alternate
    /// address and port, section 7.2); test III: only "change port" answered, address-dependent.
    @Test("a change-IP-and-port probe answered from the alternate address: endpoint-independent filtering")
    func endpointIndependentFiltering() throws {
        var t = HandMadeTraffic()
        Self.ask(&t, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        Self.probe(&t, id: 2, at: 1, changeIP: true, changePort: true, answeredFrom: Self.alternate)
        Self.probe(&t, id: 3, at: 2, changeIP: false, changePort: true, answeredFrom: Self.alternatePort)
        let doc = t.document()
        let tests = doc.bindings.flatMap(\.natTests)
        #expect(tests.count == 2)
        let n = try #require(doc.natMappings.first { $0.local == Self.local })
        #expect(tests.allSatisfy { $0.answered })
        #expect(tests.first?.responseOrigin == Self.alternate)
        #expect(n.filteringBehavior == .endpointIndependent)
    }

    @Test("only the change-port probe answered: address-dependent filtering")
    func addressDependentFiltering() throws {
        var t = HandMadeTraffic()
        Self.ask(&t, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        Self.probe(&t, id: 2, at: 1, changeIP: true, changePort: true, answeredFrom: nil)
        Self.probe(&t, id: 3, at: 2, changeIP: false, changePort: true, answeredFrom: Self.alternatePort)
        let n = try #require(t.document().natMappings.first { $0.local == Self.local })
        #expect(n.filteringBehavior == .addressDependent)
    }

    @Test("neither probe answered: address-and-port-dependent filtering")
    func addressAndPortDependentFiltering() throws {
        var t = HandMadeTraffic()
        Self.ask(&t, Self.primary, id: 1, at: 0, sees: "203.0.113.5:5000")
        Self.probe(&t, id: 2, at: 1, changeIP: true, changePort: true, answeredFrom: nil)
        Self.probe(&t, id: 3, at: 2, changeIP: false, changePort: true, answeredFrom: nil)
        let doc = t.document()
        let n = try #require(doc.natMappings.first { $0.local == Self.local })
        #expect(n.filteringBehavior == .addressAndPortDependent)
        #expect(doc.bindings.flatMap(\.natTests).map(\.answered) == [false, false])
    }
}
