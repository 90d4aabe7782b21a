import Foundation
import Reconstruction
import Testing

/// Peer-reflexive candidates and candidate types (IceSessionSummaryBuilder's
/// candidates) against aioice: `ice.agents[].prflxRemoteCandidates` (the
/// addresses an agent learnt from incoming checks), `candidates` (an agent's
/// own, with types), and the NAT each agent sat behind (`natType`).
@Suite("ICE peer-reflexive candidates")
struct IcePrflxTests {
    /// The addresses aioice learnt as peer-reflexive, with the agent that learnt each.
    static func learnt(_ truth: Truth) -> [String: String] {
        var out: [String: String] = [:]
        for agent in truth["ice"]["agents"].array {
            for address in agent["prflxRemoteCandidates"].strings { out[address] = agent["ufrag"].string }
        }
        return out
    }

    @Test("the prflx candidates are exactly those aioice learnt, where the checks that taught them pass",
          arguments: IceCorpus.captures)
    func prflxAddresses(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let ours = Set(s.candidates.filter { $0.type == .prflx }.map(\.address))
        let expected = IceCorpus.wireSelectedPair(truth) == nil ? [] : Set(Self.learnt(truth).keys)
        #expect(ours == expected)
        #expect(doc.findingCodes.contains(.iceCandidatePrflx) == !expected.isEmpty)
    }

    @Test("who owns a prflx candidate and who learnt it", arguments: IceCorpus.captures)
    func prflxOwnerAndLearner(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let learnt = Self.learnt(truth)
        for c in s.candidates where c.type == .prflx {
            let learner = try #require(learnt[c.address], "\(c.address): aioice learnt no such prflx")
            let owner = truth["ice"]["agents"].array.first { $0["ufrag"].string != learner }?["ufrag"].string
            #expect(c.learntBy == learner, "\(c.address)")
            #expect(c.agent == owner, "\(c.address)")
            #expect(c.source == .observed && c.checked, "\(c.address)")
            #expect(c.explanation?.isEmpty == false)
        }
    }

    /// ice-prflx-public: agent b sits behind nat-b, a symmetric NAT (nftables `masquerade
    /// fully-random`): its mapping toward a (the prflx address) differs from the one the
    /// STUN server saw (its srflx candidate), RFC 8445 section 7.2.5.3.1's case.
    @Test("ice-prflx-public: the prflx address comes from b's symmetric NAT",
          arguments: ["ice-prflx-public.host-a.pcap", "ice-prflx-public.public.pcap", "ice-prflx-public.lan-b.pcap"])
    func prflxReason(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let b = IceCorpus.agent(truth, "b")
        #expect(b["natType"].string == "symmetric")
        let inside = try #require(b["sockets"][0]["socket"].string)
        let aSocket = try #require(IceCorpus.agent(truth, "a")["sockets"][0]["socket"].string)
        let towardA = truth["nat"]["mappings"].array
            .first { $0["inside"].string == inside && $0["destination"].string == aSocket }?["outside"].string
        let c = try #require(s.candidates.first { $0.type == .prflx })
        #expect(c.address == towardA, "the prflx address is nat-b's mapping of b toward a (conntrack)")
        let srflxSeen = doc.bindings.contains { $0.reflexive.contains(b["candidates"].first(where: "type", is: "srflx")["address"].string ?? "-") }
        if srflxSeen {
            // b's srflx (what the STUN server saw) is on this wire and differs from the prflx.
            #expect(c.reason == .symmetricNat)
        } else {
            #expect(c.reason == .symmetricNat || c.reason == .unknownNat)
        }
        #expect(s.selectedPair?.remoteType == .prflx, "a selected the pair toward the prflx address")
    }

    @Test("candidate types: each typed candidate is one aioice had with that type", arguments: IceCorpus.captures)
    func candidateTypes(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        var mismatches: [String] = []
        for c in s.candidates where [.host, .srflx, .relay].contains(c.type) {
            guard let ufrag = c.agent else { continue }
            let owner = truth["ice"]["agents"].first(where: "ufrag", is: ufrag)
            let types = Set(owner["candidates"].array.filter { $0["address"].string == c.address }.compactMap { $0["type"].string })
            if types.isEmpty { continue }   // not a candidate of that agent (e.g. its TURN client socket)
            if !types.contains(c.type.rawValue) { mismatches.append("\(c.address) \(ufrag): \(c.type) (aioice: \(types.sorted()))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
