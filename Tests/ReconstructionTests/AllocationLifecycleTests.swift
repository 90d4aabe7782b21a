import Foundation
import Reconstruction
import StunWire
import Testing

/// TurnAllocationTracker: an allocation's life (created, refreshed, deleted,
/// expired, closed, failed), its errors, permissions and channels. Against
/// coturn's own log in the TURN captures' truth files (`turn.allocations[]`:
/// client, relayed, outcome, lifetimes, errors, permissions, channels,
/// counters), and hand-made sequences for the rules a capture cannot isolate.
@Suite("Allocation lifecycle")
struct AllocationLifecycleTests {
    static let turnCaptures = Corpus.turnCaptures

    // MARK: Against coturn's log

    @Test("the corpus has its TURN captures")
    func corpusPresent() {
        #expect(Self.turnCaptures.count == 46)
    }

    @Test("every allocation coturn logged is reported, at its client address, and no other", arguments: turnCaptures)
    func sameAllocations(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let expected = truth["turn"]["allocations"].array.compactMap { $0["client"].string }
        // turn-alternate-server: the Allocate the redirecting server answered 300 (truth `redirect`)
        // is not an allocation in coturn's terms; it is reported as a failed attempt there, with
        // exactly that answer.
        var reported = doc.allocations
        let redirect = truth["turn"]["redirect"]
        if let client = redirect["client"].string, let r = reported.firstIndex(where: { $0.client == client }) {
            let attempt = reported.remove(at: r)
            #expect(attempt.server == redirect["server"].string && attempt.outcome == .failed)
            #expect(attempt.errors.map { [$0.code, $0.count] } == [[redirect["answer"]["code"].int ?? -1, 1]])
        }
        #expect(reported.map(\.client).sorted() == expected.sorted())
        for a in reported {
            #expect(a.server == truth["turn"]["server"].string, "allocation \(a.id)")
            #expect(a.transport.description == truth["turn"]["transport"].string, "allocation \(a.id)")
        }
    }

    @Test("outcome, relayed address and credentials as coturn logged them", arguments: turnCaptures)
    func outcomeAndRelayed(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client), "no allocation for \(client)")
            #expect(a.outcome.rawValue == t["outcome"].string, "\(client)")
            #expect(a.relayed == t["relayed"].strings, "\(client)")
            if let user = t["username"].string {
                #expect(a.username == user && a.realm == t["realm"].string, "\(client)")
            }
            if t["outcome"].string == "failed" {
                #expect(a.lifetime == nil && a.expiresAt == nil, "\(client): never granted")
            }
        }
    }

    @Test("error codes and counts as coturn logged them; one auth round trip per 401", arguments: turnCaptures)
    func errors(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            var expected: [Int: Int] = [:]
            for e in t["errors"].array { expected[e["code"].int ?? -1] = e["count"].int }
            let ours = Dictionary(uniqueKeysWithValues: a.errors.map { ($0.code, $0.count) })
            #expect(ours == expected, "\(client)")
            #expect(a.authRoundTrips == (expected[401] ?? 0), "\(client)")
        }
        var total: [String: Int] = [:]
        for e in truth["turn"]["errorsTotal"].array { total[String(e["code"].int ?? -1)] = e["count"].int }
        // The redirecting server's 300 (truth `redirect`) is outside coturn's session counts.
        if let code = truth["turn"]["redirect"]["answer"]["code"].int { total[String(code), default: 0] += 1 }
        #expect(doc.stats.errorCodes == total)
    }

    @Test("lifetimes granted: the last one, and every Refresh grant in order", arguments: turnCaptures)
    func lifetimes(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array where !t["lifetimes"].array.isEmpty {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            let granted = t["lifetimes"].ints     // the Allocate's grant, then each Refresh's
            #expect(a.lifetime == granted.last, "\(client)")
            #expect(a.refreshes == Array(granted.dropFirst()), "\(client)")
        }
    }

    @Test("permissions and channels as coturn and uclient logged them", arguments: turnCaptures)
    func permissionsAndChannels(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            #expect(Set(a.permissions.map(\.peer)) == Set(t["permissions"].strings), "\(client)")
            #expect(a.permissions.count == t["permissions"].array.count, "\(client): one entry per peer address")
            let channels = a.channels.map { "\($0.number) \($0.peer)" }.sorted()
            let expected = t["channels"].array.map { "\($0["number"].int ?? -1) \($0["peer"].string ?? "")" }.sorted()
            #expect(channels == expected, "\(client)")
            for c in a.channels {
                #expect((0x4000...0x7FFF).contains(c.number), "channel \(c.number) outside RFC 8656's range")
            }
        }
    }

    @Test("client-leg packets and bytes equal coturn's usage counters", arguments: turnCaptures)
    func clientLegCounters(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        guard truth["turn"]["legsVisible"].strings.contains("client") else { return }
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array where !t["counters"].isNull {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            // A Refresh after the allocation expired reaches a later coturn session on the same
            // 5-tuple (truth laterSessions, turn-refresh-late): the client leg is the sum.
            let legs = [t["counters"]["clientLeg"]] + t["laterSessions"].array.map { $0["counters"]["clientLeg"] }
            // turn-client-misuse: what the client sent after coturn freed the deleted allocation is in
            // no coturn counter, but it is on this 5-tuple and counted here (truth misuse.afterDeletion).
            let misuse = truth["turn"]["misuse"]
            let after = misuse["deletion"]["client"].string == client ? misuse["afterDeletion"].array : []
            func sum(_ k: String) -> Int {
                legs.reduce(0) { $0 + ($1[k].int ?? 0) }
                    + (k == "rp" ? after.count : k == "rb" ? after.reduce(0) { $0 + ($1["udpPayloadBytes"].int ?? 0) } : 0)
            }
            #expect(a.traffic.clientToServer == sum("rp"), "\(client): packets coturn received")
            #expect(a.traffic.serverToClient == sum("sp"), "\(client): packets coturn sent")
            if truth["turn"]["transport"].string == "udp" {
                #expect(a.traffic.clientToServerBytes == sum("rb"), "\(client): bytes coturn received")
                #expect(a.traffic.serverToClientBytes == sum("sb"), "\(client): bytes coturn sent")
            }
        }
    }

    // MARK: Scenarios, with the findings that must and must not appear

    /// What a run with nothing wrong in it (every error a 401 challenge) must not report.
    static let failureCodes: [FindingCode] = [
        .turnAuthWrongCredentials, .turnAllocationFailed, .turnAuthStaleNonce, .turnAuthStaleNonceLoop, .turnQuotaReached,
        .turnPeerForbidden, .turnAllocationMismatch, .turnPermissionMissing, .turnChannelUnbound, .turnChannelConflict,
        .turnAllocationUsedAfterEnd, .turnRefreshLate, .turnRelayNotForwarded, .turnServerCapacity, .turnUnsupported,
        .turnBadRequest, .stunIntegrityInvalid, .stunFingerprintInvalid,
    ]

    static let healthyCaptures = [
        "turn-udp-channels.server.pcap", "turn-udp-channels.server-pcapng.pcapng", "turn-udp-channels.server-sll2.pcap",
        "turn-udp-channels.server-nano.pcap", "turn-udp-channels.client-lan.pcap", "turn-udp-channels.public.pcap",
        "turn-udp-send.server.pcap", "turn-udp-send.client-lan.pcap", "turn-tcp.server.pcap", "turn-tcp.client-lan.pcap",
        "turn-tcp.public.pcap", "turn-ipv6.server.pcap", "turn-ipv6.client-lan.pcap", "turn-ipv6.public.pcap",
        "turn-xss-strings.server.pcap", "turn-xss-strings.client-lan.pcap", "turn-tcp-relay.server.pcap",
        "turn-tcp-relay.client-lan.pcap",
    ]

    @Test("a healthy run: one 401 challenge per allocation and no failure finding", arguments: healthyCaptures)
    func healthyRun(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        #expect(truth["turn"]["errorsTotal"].array.allSatisfy { $0["code"].int == 401 }, "the truth says only 401 challenges")
        let doc = try Corpus.analyze(capture)
        for code in Self.failureCodes {
            #expect(!doc.findingCodes.contains(code), "\(code) on \(capture)")
        }
        for a in doc.allocations {
            #expect(a.finalError == nil, "allocation \(a.id)")
        }
    }

    @Test("wrong password: 32 Allocates answered 401, a failed allocation, wrong credentials",
          arguments: ["turn-wrong-password.server.pcap", "turn-wrong-password.client-lan.pcap"])
    func wrongPassword(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let t = truth["turn"]["allocations"][0]
        let doc = try Corpus.analyze(capture)
        let a = try #require(doc.allocation(client: t["client"].string ?? ""))
        #expect(a.outcome == .failed)
        #expect(a.finalError?.code == 401 && a.finalError?.count == t["errors"][0]["count"].int)
        #expect(a.relayed.isEmpty && a.refreshes.isEmpty)
        #expect(doc.findings.contains { $0.code == .turnAuthWrongCredentials && $0.session == .allocation(a.id) && $0.severity == .error })
        // One problem, one finding: the failed allocation and the integrity failures under the
        // server's password (the client signed with truth config.clientPassword) are its consequences.
        #expect(truth["config"]["clientPassword"].string == "wrong-password")
        #expect(!doc.findingCodes.contains(.turnAllocationFailed))
        #expect(!doc.findingCodes.contains(.stunIntegrityInvalid))
        for code in [FindingCode.turnQuotaReached, .turnAuthStaleNonce, .turnAuthStaleNonceLoop, .turnPeerForbidden,
                     .turnAllocationMismatch, .turnChannelUnbound, .turnPermissionMissing] {
            #expect(!doc.findingCodes.contains(code), "\(code)")
        }
    }

    @Test("quota: the probe stays active, the second Allocate fails with 486",
          arguments: ["turn-quota.server.pcap", "turn-quota.client-lan.pcap"])
    func quota(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let failedClient = try #require(truth["turn"]["allocations"].array.first { $0["outcome"].string == "failed" }?["client"].string)
        let failed = try #require(doc.allocation(client: failedClient))
        #expect(failed.finalError?.code == 486)
        #expect(doc.findings.contains { $0.code == .turnQuotaReached && $0.session == .allocation(failed.id) && $0.severity == .error })
        // The 486 says why the allocation failed: turn.allocation.failed would say it again.
        #expect(doc.findings(.turnAllocationFailed).isEmpty)
        // Its 401 was the challenge to an unauthenticated Allocate, not a credentials failure.
        #expect(!doc.findingCodes.contains(.turnAuthWrongCredentials))
        #expect(!doc.findingCodes.contains(.turnPeerForbidden))
        #expect(!doc.findingCodes.contains(.turnAuthStaleNonce))
    }

    @Test("forbidden peer: ChannelBind answered 403, no permission, no channel, allocations left active",
          arguments: ["turn-forbidden-peer.server.pcap", "turn-forbidden-peer.client-lan.pcap"])
    func forbiddenPeer(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let t = try #require(truth["turn"]["allocations"].array.first { $0["errors"].array.contains { $0["code"].int == 403 } })
        let a = try #require(doc.allocation(client: t["client"].string ?? ""))
        #expect(a.outcome == .active && a.permissions.isEmpty && a.channels.isEmpty)
        let forbidden = doc.findings(.turnPeerForbidden)
        #expect(forbidden.count == 1 && forbidden.first?.session == .allocation(a.id))
        let refused = doc.transactions.filter { $0.errorCode == 403 }
        #expect(refused.count == 1 && refused.first?.method == "ChannelBind")
        #expect(forbidden.first?.frames == refused.compactMap(\.responseFrame))
        for code in [FindingCode.turnAllocationFailed, .turnAuthWrongCredentials, .turnPermissionMissing, .turnQuotaReached] {
            #expect(!doc.findingCodes.contains(code), "\(code)")
        }
    }

    @Test("stale nonce: three 438s with a new NONCE, the Refresh retried, the allocation alive then deleted",
          arguments: ["turn-stale-nonce.server.pcap", "turn-stale-nonce.client-lan.pcap"])
    func staleNonce(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let t = try #require(truth["turn"]["allocations"].array.first { $0["errors"].array.contains { $0["code"].int == 438 } })
        let a = try #require(doc.allocation(client: t["client"].string ?? ""))
        #expect(a.outcome == .deleted)
        let stale = doc.transactions.filter { $0.errorCode == 438 }
        #expect(stale.map(\.method).sorted() == ["ChannelBind", "CreatePermission", "Refresh"])
        #expect(doc.findings.contains { $0.code == .turnAuthStaleNonce && $0.session == .allocation(a.id) })
        for code in [FindingCode.turnAuthWrongCredentials, .turnAllocationFailed, .turnAllocationUsedAfterEnd,
                     .turnChannelUnbound, .turnPermissionMissing] {
            #expect(!doc.findingCodes.contains(code), "\(code)")
        }
        // The truth: the three 438s came at one moment (the nonce aged past --stale-nonce=20) and the
        // one request uclient retried (the Refresh) succeeded with the new NONCE: not a loop.
        #expect(!doc.findingCodes.contains(.turnAuthStaleNonceLoop))
    }

    @Test("expiry: both allocations expired 12 s (--max-allocate-lifetime) after their last grant, not deleted",
          arguments: ["turn-expiry.server.pcap", "turn-expiry.client-lan.pcap"])
    func expiry(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        for t in truth["turn"]["allocations"].array {
            let client = try #require(t["client"].string)
            let a = try #require(doc.allocation(client: client))
            let lifetime = try #require(t["lifetimes"].ints.last)
            #expect(lifetime == 12)
            #expect(a.outcome == .expired, "\(client)")
            #expect(!a.refreshes.contains(0), "\(client): never deleted")
            // The last successful Allocate/Refresh answer on this 5-tuple starts the last lifetime.
            let lastGrant = try #require(doc.transactions
                .filter { $0.client == client && ($0.method == "Allocate" || $0.method == "Refresh") && $0.state == .success }
                .compactMap(\.responseTime).max())
            #expect(abs(a.end - (lastGrant + Double(lifetime))) < 1e-3, "\(client): ended \(a.end - lastGrant) s after its last grant")
            #expect(a.expiresAt.map { abs($0 - a.end) < 1e-3 } ?? false, "\(client)")
            #expect((doc.stats.lastTime ?? 0) > a.end, "the capture runs past the expiry")
        }
        // The Binding after the expiry is a plain Binding session, not an allocation.
        #expect(doc.allocations.count == 2)
        #expect(doc.bindings.count == 1 && !doc.allocations.contains { $0.client == doc.bindings[0].client })
        for code in [FindingCode.turnRefreshLate, .turnAllocationUsedAfterEnd, .turnAllocationFailed, .turnAuthWrongCredentials,
                     .turnRelayNotForwarded] {
            #expect(!doc.findingCodes.contains(code), "\(code)")
        }
        // turnutils_stunclient's second Binding (frame 57: CHANGE-REQUEST change IP+port, RESPONSE-PORT
        // 32925) is answered on the server's wire: frame 58, same transaction id 28c46c0a337ba62bae122070,
        // from the alternate port 198.51.100.10:3479 to 198.51.100.2:32925 (RFC 5780 sections 6, 7.2;
        // tshark shows both). Before the client's NAT (client-lan) the answer never arrives: there the
        // request is rightly unanswered.
        if capture == "turn-expiry.server.pcap" {
            #expect(!doc.findingCodes.contains(.stunRequestUnanswered))
            #expect(doc.transactions.allSatisfy { $0.state == .success || $0.state == .error })
        }
    }

    @Test("TURN over TCP: the probe closed with its connection, the real allocation deleted",
          arguments: ["turn-tcp.server.pcap", "turn-tcp.client-lan.pcap", "turn-tcp.public.pcap"])
    func tcpClosed(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        let outcomes = truth["turn"]["allocations"].array.compactMap { $0["outcome"].string }.sorted()
        #expect(outcomes == ["closed", "deleted"])
        #expect(doc.allocations.map(\.outcome.rawValue).sorted() == outcomes)
        #expect(doc.allocations.allSatisfy { $0.transport == .tcp })
    }

    // MARK: Hand-made rules

    static let client = "192.0.2.10:50000"
    static let server = "198.51.100.10:3478"
    static let relayed = "198.51.100.11:60000"
    static let peer = "203.0.113.20:3480"
    static let key = StunKey.longTerm(user: "alice", realm: "example.org", password: "secret")

    /// An authenticated request (USERNAME, REALM, NONCE, MESSAGE-INTEGRITY).
    static func signed(_ method: StunMethod, id: UInt8, nonce: String = "n1",
                       _ attributes: (inout StunMessageBuilder) -> Void = { _ in }) -> [UInt8] {
        var b = StunMessageBuilder(type: StunMessageType(method: method, messageClass: .request),
                                   transactionID: [UInt8](repeating: id, count: 12))
        attributes(&b)
        b.add(.username, string: "alice")
        b.add(.realm, string: "example.org")
        b.add(.nonce, string: nonce)
        b.addMessageIntegrity(key: key)
        b.addFingerprint()
        return b.bytes
    }

    static func challenge(_ method: StunMethod, id: UInt8, code: Int = 401, reason: String = "Unauthorized", nonce: String = "n1") -> [UInt8] {
        stun(method, .error, id: id) {
            $0.addErrorCode(code, reason: reason)
            $0.add(.realm, string: "example.org")
            $0.add(.nonce, string: nonce)
        }
    }

    static func allocated(id: UInt8, lifetime: UInt32) -> [UInt8] {
        stun(.allocate, .success, id: id) {
            $0.address(.xorRelayedAddress, relayed)
            $0.address(.xorMappedAddress, client)
            $0.add(.lifetime, uint32: lifetime)
        }
    }

    /// 401 challenge, authenticated Allocate, success with `lifetime`: the usual start.
    static func allocate(_ t: inout HandMadeTraffic, lifetime: UInt32 = 600) {
        t.udp(client, server, at: 0, stun(.allocate, .request, id: 1) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(server, client, at: 0.01, challenge(.allocate, id: 1))
        t.udp(client, server, at: 0.02, signed(.allocate, id: 2) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(server, client, at: 0.03, allocated(id: 2, lifetime: lifetime))
    }

    @Test("401 challenge then success: created, one auth round trip, not a credentials failure")
    func challengeThenSuccess() throws {
        var t = HandMadeTraffic()
        Self.allocate(&t)
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(doc.allocations.count == 1)
        #expect(a.outcome == .active && a.relayed == [Self.relayed] && a.mapped == Self.client)
        #expect(a.username == "alice" && a.realm == "example.org")
        #expect(a.lifetime == 600 && a.refreshes.isEmpty && a.authRoundTrips == 1)
        #expect(a.errors.map(\.code) == [401] && a.errors.first?.count == 1 && a.finalError == nil)
        #expect(a.expiresAt.map { abs($0 - HandMadeTraffic.time(600.03)) < 1e-6 } ?? false)
        #expect(a.timeline.contains { $0.kind == .allocation(.created) && $0.frame == 4 })
        #expect(doc.findings.isEmpty, "\(doc.findings.map(\.code))")
    }

    @Test("Refresh with LIFETIME 0: deleted when the success arrives")
    func refreshZeroDeletes() throws {
        var t = HandMadeTraffic()
        Self.allocate(&t)
        t.udp(Self.client, Self.server, at: 5, Self.signed(.refresh, id: 3) { $0.add(.lifetime, uint32: 0) })
        t.udp(Self.server, Self.client, at: 5.01, stun(.refresh, .success, id: 3) { $0.add(.lifetime, uint32: 0) })
        t.udp("192.0.2.99:4000", Self.server, at: 20, stun(.binding, .indication, id: 9))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.outcome == .deleted)
        #expect(a.refreshes == [0] && a.lifetime == 0)
        #expect(abs(a.end - HandMadeTraffic.time(5.01)) < 1e-6)
        #expect(a.timeline.contains { $0.kind == .allocation(.deleted) && $0.frame == 6 })
        #expect(!a.timeline.contains { $0.kind == .allocation(.expired) })
        #expect(doc.findings.isEmpty, "\(doc.findings.map(\.code))")
    }

    @Test("data through a deleted allocation is use after its end")
    func usedAfterDelete() throws {
        var t = HandMadeTraffic()
        Self.allocate(&t)
        t.udp(Self.client, Self.server, at: 1, Self.signed(.channelBind, id: 3) {
            $0.add(.channelNumber, [0x40, 0x00, 0, 0])
            $0.address(.xorPeerAddress, Self.peer)
        })
        t.udp(Self.server, Self.client, at: 1.01, stun(.channelBind, .success, id: 3))
        t.udp(Self.client, Self.server, at: 2, Self.signed(.refresh, id: 4) { $0.add(.lifetime, uint32: 0) })
        t.udp(Self.server, Self.client, at: 2.01, stun(.refresh, .success, id: 4) { $0.add(.lifetime, uint32: 0) })
        t.udp(Self.client, Self.server, at: 3, channelData(0x4000, [0x80, 1, 2, 3]))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.outcome == .deleted)
        #expect(doc.findings.contains { $0.code == .turnAllocationUsedAfterEnd && $0.frames == [9] && $0.session == .allocation(a.id) })
        #expect(!doc.findingCodes.contains(.turnChannelUnbound), "the channel was bound (300 s) when the data came")
    }

    @Test("no Refresh: expired exactly one lifetime after the last grant")
    func expiresAtLifetime() throws {
        var t = HandMadeTraffic()
        Self.allocate(&t, lifetime: 30)
        t.udp(Self.client, Self.server, at: 10, Self.signed(.refresh, id: 3) { $0.add(.lifetime, uint32: 30) })
        t.udp(Self.server, Self.client, at: 10.01, stun(.refresh, .success, id: 3) { $0.add(.lifetime, uint32: 30) })
        t.udp("192.0.2.99:4000", Self.server, at: 100, stun(.binding, .indication, id: 9))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.outcome == .expired)
        #expect(a.refreshes == [30] && a.lifetime == 30)
        #expect(abs(a.end - HandMadeTraffic.time(40.01)) < 1e-6)
        #expect(a.expiresAt.map { abs($0 - HandMadeTraffic.time(40.01)) < 1e-6 } ?? false)
        #expect(a.timeline.contains { $0.kind == .allocation(.expired) })
        #expect(!doc.findingCodes.contains(.turnRefreshLate))
        #expect(!doc.findingCodes.contains(.turnAllocationUsedAfterEnd))
    }

    @Test("the capture ends before the lifetime does: still active")
    func activeAtCaptureEnd() throws {
        var t = HandMadeTraffic()
        Self.allocate(&t, lifetime: 30)
        t.udp("192.0.2.99:4000", Self.server, at: 29, stun(.binding, .indication, id: 9))
        let a = try #require(t.document().allocations.first)
        #expect(a.outcome == .active)
    }

    @Test("437 to a Refresh: the server no longer has the allocation")
    func mismatchOnRefresh() throws {
        var t = HandMadeTraffic()
        Self.allocate(&t)
        t.udp(Self.client, Self.server, at: 10, Self.signed(.refresh, id: 3) { $0.add(.lifetime, uint32: 600) })
        t.udp(Self.server, Self.client, at: 10.01, Self.challenge(.refresh, id: 3, code: 437, reason: "Allocation Mismatch"))
        t.udp("192.0.2.99:4000", Self.server, at: 20, stun(.binding, .indication, id: 9))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.outcome == .expired)
        #expect(a.errors.map(\.code) == [401, 437])
        #expect(doc.findings.contains { $0.code == .turnAllocationMismatch && $0.frames == [6] && $0.session == .allocation(a.id) })
        #expect(!doc.findingCodes.contains(.turnAuthWrongCredentials))
        #expect(!doc.findingCodes.contains(.turnAllocationFailed))
        // RFC 8656 section 7.3: 437 to a Refresh means the server has no allocation on this 5-tuple, so it
        // ended no later than that answer.
        #expect(a.end <= HandMadeTraffic.time(10.01) + 1e-6)
    }

    @Test("438 then a retry with the new NONCE: allocated, a stale nonce but no credentials failure")
    func staleNonceRetry() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, Self.signed(.allocate, id: 1, nonce: "old") { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(Self.server, Self.client, at: 0.01, Self.challenge(.allocate, id: 1, code: 438, reason: "Stale Nonce", nonce: "new"))
        t.udp(Self.client, Self.server, at: 0.02, Self.signed(.allocate, id: 2, nonce: "new") { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(Self.server, Self.client, at: 0.03, Self.allocated(id: 2, lifetime: 600))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(doc.allocations.count == 1)
        #expect(a.outcome == .active && a.errors.map(\.code) == [438] && a.finalError == nil)
        #expect(doc.findings.contains { $0.code == .turnAuthStaleNonce && $0.session == .allocation(a.id) })
        for code in [FindingCode.turnAuthStaleNonceLoop, .turnAuthWrongCredentials, .turnAllocationFailed] {
            #expect(!doc.findingCodes.contains(code), "\(code)")
        }
    }

    @Test("401 to an authenticated Allocate: wrong credentials, failed")
    func authenticatedRejected() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.allocate, .request, id: 1) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(Self.server, Self.client, at: 0.01, Self.challenge(.allocate, id: 1))
        t.udp(Self.client, Self.server, at: 0.02, Self.signed(.allocate, id: 2) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(Self.server, Self.client, at: 0.03, Self.challenge(.allocate, id: 2, nonce: "n2"))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.outcome == .failed && a.finalError?.code == 401 && a.finalError?.count == 2)
        #expect(a.authRoundTrips == 2)
        #expect(doc.findings.contains { $0.code == .turnAuthWrongCredentials && $0.frames == [4] })
        #expect(!doc.findings.contains { $0.code == .turnAllocationFailed && $0.session == .allocation(a.id) })
        #expect(!doc.findingCodes.contains(.turnAuthStaleNonce))
    }

    @Test("a 401 challenge alone is not a credentials failure")
    func challengeAlone() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.allocate, .request, id: 1) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(Self.server, Self.client, at: 0.01, Self.challenge(.allocate, id: 1))
        let doc = t.document()
        let a = try #require(doc.allocations.first)
        #expect(a.outcome == .failed && a.finalError?.code == 401)
        #expect(!doc.findingCodes.contains(.turnAuthWrongCredentials))
    }
}
