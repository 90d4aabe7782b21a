import Foundation
import Reconstruction
import Testing

/// IceSessionTracker's candidate pairs and their states (RFC 8445 section
/// 6.1.2.6) against aioice's own check lists (`ice.agents[].checkList`: local,
/// remote, state, nominated, in that agent's terms). On an agent's own LAN its
/// checks leave its host socket unchanged and go to the address it checks, so
/// its check list names the wire pairs exactly.
@Suite("ICE pair states")
struct IcePairStateTests {
    /// Captures taken on an agent's own interface, and that agent.
    static let ownVantage: [(capture: String, agent: String)] = [
        ("ice-direct.lan-a.pcap", "a"), ("ice-direct.lan-b.pcap", "b"),
        ("ice-relay-symmetric.lan-a.pcap", "a"), ("ice-relay-symmetric.lan-b.pcap", "b"),
        ("ice-prflx-public.host-a.pcap", "a"), ("ice-prflx-public.lan-b.pcap", "b"),
        ("sip-ice-call.lan-a.pcap", "a"), ("sip-ice-call.lan-b.pcap", "b"),
    ]

    static func state(_ aioice: String) -> PairState? {
        switch aioice {
        case "SUCCEEDED": return .succeeded
        case "IN_PROGRESS": return .inProgress
        case "FAILED": return .failed
        default: return nil   // WAITING / FROZEN: no check on the wire
        }
    }

    @Test("each pair the agent checked from its host socket: the state and nomination aioice reached",
          arguments: zip(ownVantage.map(\.capture), ownVantage.map(\.agent)))
    func checkListStates(_ capture: String, _ name: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        let agent = IceCorpus.agent(truth, name)
        let controlling = truth["ice"]["controlling"].string == name
        let hostSockets = Set(agent["sockets"].array.filter { $0["type"].string == "host" }.compactMap { $0["socket"].string })
        let entries = agent["checkList"].array.filter { hostSockets.contains($0["local"].string ?? "") }
        #expect(!entries.isEmpty)
        for e in entries {
            guard let local = e["local"].string, let remote = e["remote"].string, let want = Self.state(e["state"].string ?? "") else { continue }
            let pair = try #require(s.pairs.first { Set([$0.local, $0.remote]) == [local, remote] }, "no pair \(local) <-> \(remote)")
            let where_ = "\(capture) \(name): \(local) -> \(remote)"
            // `local` is the controlling agent's side.
            #expect(controlling ? (pair.local == local && pair.remote == remote) : (pair.local == remote && pair.remote == local), "\(where_)")
            #expect(pair.state == want, "\(where_)")
            #expect(pair.nominated == (e["nominated"].bool ?? false), "\(where_)")
            #expect((controlling ? pair.checksFromLocal : pair.checksFromRemote) >= 1, "\(where_): its checks")
            let answered = controlling ? pair.responsesToLocal : pair.responsesToRemote
            #expect(want == .succeeded ? answered >= 1 : answered == 0, "\(where_): answers to its checks")
            #expect(pair.transport == .udp && pair.viaRelay == (e["remoteType"].string == "relay"), "\(where_)")
        }
    }

    @Test("the selected pair: both agents' checks and answers seen make the 4-way handshake", arguments: IceCorpus.captures)
    func selectedPairHandshake(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        guard let wire = IceCorpus.wireSelectedPair(truth) else { return }
        let pair = try #require(s.pairs.first { $0.local == wire.local && $0.remote == wire.remote })
        #expect(pair.state == .succeeded)
        // Both agents' checks of the selected pair travel here unencapsulated: all four steps are on this wire.
        let direct = Set(truth["ice"]["selectedPairChecks"].array.filter { $0["encapsulation"].string == "none" }.compactMap { $0["from"].string })
        if direct == ["a", "b"] {
            #expect(pair.handshake == [true, true, true, true])
            #expect(pair.handshakeFrames.count == 4 && pair.handshakeFrames.allSatisfy { $0 != nil })
            #expect(pair.checksFromLocal >= 1 && pair.checksFromRemote >= 1 && pair.responsesToLocal >= 1 && pair.responsesToRemote >= 1)
        }
    }

    @Test("the selected pair carries the data aioice exchanged, and nothing else does", arguments: IceCorpus.captures)
    func selectedPairMedia(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        guard let wire = IceCorpus.wireSelectedPair(truth) else { return }
        let pair = try #require(s.pairs.first { $0.local == wire.local && $0.remote == wire.remote })
        let data = truth["ice"]["dataPackets"]
        #expect(pair.mediaPackets == (data["aToB"].int ?? -1) + (data["bToA"].int ?? -1))
        #expect(s.pairs.filter { $0.local != wire.local || $0.remote != wire.remote }.allSatisfy { $0.mediaPackets == 0 })
        #expect(s.firstMediaTime != nil)
    }

    @Test("every check and answer verifies with the agents' ice-pwd (aioice's)", arguments: IceCorpus.captures)
    func integrity(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        #expect(s.integrity == .valid)
        #expect((s.integrityCounts["invalid"] ?? 0) == 0 && (s.integrityCounts["valid"] ?? 0) > 0)
        #expect(!doc.findingCodes.contains(.stunIntegrityInvalid))
    }

    @Test("behind port-preserving NATs only: no symmetric-NAT finding",
          arguments: IceCorpus.captures.filter { $0.hasPrefix("ice-direct") || $0.hasPrefix("sip-ice-call") })
    func noSymmetricNat(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        #expect(truth["ice"]["agents"].array.allSatisfy { $0["natType"].string == "port-preserving" })
        let doc = try Corpus.analyze(capture)
        #expect(!doc.findingCodes.contains(.iceRelayedSymmetricNat))
        #expect(!doc.findingCodes.contains(.natSymmetric))
    }

    @Test("no session failed: a pair succeeded in each", arguments: IceCorpus.captures)
    func noFailure(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let s = try IceCorpus.session(doc, truth)
        // aioice completed ICE in every run ("ICE completed" in both agents' events).
        for agent in truth["ice"]["agents"].array {
            #expect(agent["events"].array.contains { $0["event"].string == "ICE completed" })
        }
        #expect(!doc.findings.contains { $0.code == .iceFailed })
        if IceCorpus.wireSelectedPair(truth) != nil {
            #expect(s.pairs.contains { $0.state == .succeeded })
        }
    }
}
