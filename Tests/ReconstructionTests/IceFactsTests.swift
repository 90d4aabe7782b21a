import Foundation
import Reconstruction
import Renderers
import Testing

/// ICE facts that must hold at every vantage point of the corpus (issue 14,
/// items 2, 3, 5): RTTs without retransmission artefacts, one candidate type
/// per (agent, address) in every output, one root cause per relayed session.
@Suite("ICE facts at every vantage point")
struct IceFactsTests {
    /// The corpus runs in network namespaces on one host: no path adds delay. A
    /// response to a retransmitted check (0.5 s after the first send) must give
    /// no RTT sample (Karn's rule), so every pair's RTT stays far below 50 ms.
    @Test("every pair RTT under 50 ms (Karn's rule: no sample from a retransmitted check)", arguments: IceCorpus.captures)
    func pairRtt(_ capture: String) throws {
        let doc = try Corpus.analyze(capture)
        for s in doc.iceSessions {
            for p in s.pairs {
                if let r = p.rtt { #expect(r.max < 0.05, "\(capture) \(p.local) -> \(p.remote): rtt max \(r.max)") }
            }
        }
        for t in doc.transactions where t.retransmissions > 0 { #expect(t.rtt == nil, "\(t.transactionId)") }
    }

    @Test("retransmitted checks are in the ICE timeline and their answers carry no RTT")
    func retransmissionsInTimeline() throws {
        let doc = try Corpus.analyze("ice-direct.lan-b.pcap")
        let s = try #require(doc.iceSessions.first)
        let retx = s.timeline.filter { $0.kind == .iceRetransmission }
        #expect(retx.count == s.pairs.reduce(0) { $0 + $1.retransmissions })
        #expect(!retx.isEmpty)
        #expect(s.timeline.contains { $0.detail.contains("Karn") && $0.rtt == nil })
    }

    /// Item 3: the pair's four types equal the candidate list's type for the
    /// address each one is about, for that agent.
    @Test("pair types equal candidate-list types per (agent, address)", arguments: IceCorpus.captures)
    func oneClassification(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let controlling = try #require(s.controllingUfrag), controlled = try #require(s.controlledUfrag)
        func listed(_ agent: String, _ address: String?) -> CandidateType? {
            guard let address else { return nil }
            return s.candidates.first { $0.agent == agent && $0.address == address }?.type
        }
        var checked = 0
        for p in s.pairs {
            let sides: [(String, String?, CandidateType?)] = [
                (controlling, p.localCandidate, p.localType), (controlled, p.remoteCandidate, p.remoteType),
                (controlled, p.controlledLocalCandidate, p.controlledLocalType), (controlling, p.controlledRemoteCandidate, p.controlledRemoteType),
            ]
            for (agent, address, type) in sides {
                guard let address, let type, type != .unknown else { continue }
                let want = try #require(listed(agent, address), "\(capture): \(agent) \(address) is not in the candidate list")
                #expect(type == want, "\(capture) pair \(p.local) -> \(p.remote): \(agent) \(address) is \(type) in the pair, \(want) in the candidate list")
                checked += 1
            }
        }
        #expect(checked > 0)
        if let sel = s.selectedPair, let p = s.pairs.first(where: { $0.local == sel.local && $0.remote == sel.remote }) {
            #expect(sel.localType == p.localType && sel.remoteType == p.remoteType)
            #expect(sel.controlledLocalType == p.controlledLocalType && sel.controlledRemoteType == p.controlledRemoteType)
            #expect(sel.localLabel == p.localLabel && sel.remoteLabel == p.remoteLabel)
        }
    }

    /// Item 3: text, HTML and Mermaid say what the JSON says: the selected pair's
    /// labels, and each ladder lane's type is the candidate list's for that agent and address.
    @Test("text, HTML and Mermaid labels equal the JSON's", arguments: IceCorpus.captures)
    func labelsAgree(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let text = AnalysisTextRenderer(style: TerminalStyle(enabled: false)).render(doc)
        let html = HTMLReportRenderer(nonce: "n").render([ExportCapture(file: capture, document: doc)])
        let mermaid = MermaidExportRenderer().render([ExportCapture(file: capture, document: doc)])
        if let sel = s.selectedPair {
            let label = "\(sel.localLabel) -> \(sel.remoteLabel)"
            #expect(text.contains("selected pair: " + label), "\(capture): text lacks \(label)")
            #expect(html.contains(HTMLText.escape("\(sel.localLabel) ↔ \(sel.remoteLabel)")), "\(capture): HTML lacks the selected pair")
            #expect(mermaid.contains(MermaidText.escape("selected pair: \(sel.localLabel) <-> \(sel.remoteLabel)")), "\(capture): Mermaid lacks the selected pair")
        }
        let ladder = LadderBuilder.ice(s)
        let localAgent = s.controllingUfrag, remoteAgent = s.controlledUfrag
        let locals = Set(s.pairs.map(\.local))
        for lane in ladder.lanes where lane.kind == .agent {
            let agent = locals.contains(lane.address) ? localAgent : remoteAgent
            guard let c = s.candidates.first(where: { $0.agent == agent && $0.address == lane.address }) else { continue }
            #expect(lane.role.hasSuffix(" " + c.type.rawValue), "\(capture): lane \(lane.role) \(lane.address), JSON \(c.type)")
            #expect(mermaid.contains(MermaidText.escape(lane.role + " " + lane.address)))
        }
    }

    /// Item 5: one root cause per session whose selected pair is relayed, and
    /// never the removed `ice.srflx.symmetric-nat`.
    @Test("a relayed selected pair gets exactly one root-cause finding", arguments: IceCorpus.captures)
    func relayRootCause(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let causes: Set<FindingCode> = [.iceRelayedSymmetricNat, .iceRelayedRelayOnly, .iceRelayedDirectFailed, .iceRelayOverDirect]
        let raised = doc.findings.filter { causes.contains($0.code) && $0.session == .ice(s.id) }
        if s.selectedPair?.viaRelay == true {
            #expect(raised.count == 1, "\(capture): \(raised.map(\.code))")
            #expect(raised.allSatisfy { $0.severity == ($0.code == .iceRelayOverDirect ? .warning : .info) })
            // The scenario's root cause (truth `expectedFindings`, written from what the generator
            // ran): symmetric NAT B in ice-relay-symmetric, relay-only policy in ice-relay-only, at
            // every vantage point, on the agents' LANs too (there by elimination).
            let required = truth["expectedFindings"]["required"].array.compactMap { $0["code"].string.flatMap(FindingCode.init(rawValue:)) }
            let want = required.filter(causes.contains)
            #expect(want.count == 1, "\(capture): the truth names one root cause, \(want)")
            #expect(raised.first?.code == want.first, "\(capture): raised \(raised.map(\.code)), scenario \(want)")
            if want.first == .iceRelayedSymmetricNat {
                #expect(raised.first?.message.description.contains("agent " + (IceCorpus.agent(truth, "b")["ufrag"].string ?? "-")) == true)
            }
        } else {
            #expect(raised.isEmpty, "\(capture): \(raised.map(\.code))")
        }
        #expect(!doc.findings.contains { $0.code.rawValue == "ice.srflx.symmetric-nat" })
    }

    /// Item 14: each check response's XOR-MAPPED-ADDRESS is a NAT observation; in
    /// ice-prflx-public b's host socket is seen as one port by the STUN server and as
    /// another by a (conntrack's mappings), so the NAT view says address-dependent.
    @Test("NAT view from check responses: b's symmetric NAT on its own LAN")
    func natFromCheckResponses() throws {
        let capture = "ice-prflx-public.lan-b.pcap"
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let inside = try #require(IceCorpus.agent(truth, "b")["candidates"].first(where: "type", is: "host")["address"].string)
        let nat = try #require(doc.natMappings.first { $0.local == inside })
        #expect(nat.mappingBehavior == .addressDependent || nat.mappingBehavior == .addressAndPortDependent)
        let outsides = Set(truth["nat"]["mappings"].array.filter { $0["inside"].string == inside }.compactMap { $0["outside"].string })
        #expect(Set(nat.observations.map(\.reflexive)) == outsides)
        // The call works (truth `expectedFindings`): the NAT view says it, no warning does.
        #expect(!doc.findings.contains { $0.severity == .warning || $0.severity == .error })
    }

    /// Items 5 and 14: where the symmetric NAT is in evidence (b's checks pass), the NAT view
    /// names b's host socket with the mappings conntrack recorded (truth
    /// `nat.routers.nat-b.addressDependentMappings`), agreeing with `ice.relayed.symmetric-nat`.
    @Test("NAT view agrees with the relay root cause: b's symmetric mappings as conntrack saw them",
          arguments: ["ice-relay-symmetric.public.pcap", "ice-relay-symmetric.turn-server.pcap"])
    func natViewAgrees(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let inside = try #require(IceCorpus.agent(truth, "b")["candidates"].first(where: "type", is: "host")["address"].string)
        let conntrack = truth["nat"]["routers"]["nat-b"]["addressDependentMappings"][inside]
        let nat = try #require(doc.natMappings.first { $0.local == inside })
        #expect(nat.mappingBehavior == .addressDependent)
        #expect(nat.observations.count >= 2)
        for o in nat.observations { #expect(conntrack[o.server].string == o.reflexive, "\(o.server) saw \(o.reflexive)") }
        #expect(doc.findingCodes.contains(.iceRelayedSymmetricNat))
    }
}
