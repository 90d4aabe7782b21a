import Foundation
import Reconstruction
import StunWire
import Testing

/// TransactionMatcher: requests and answers paired by (client -> server
/// 5-tuple, transaction id, method); retransmissions; unanswered vs timed out
/// (RFC 8489 section 6.2.1); STUN nested in ChannelData. Hand-made packets,
/// each rule isolated; the expected values follow from the packets and the RFC.
@Suite("Transaction matching")
struct TransactionMatchingTests {
    static let client = "10.0.0.1:40000"
    static let otherClient = "10.0.0.9:40000"
    static let server = "10.0.0.2:3478"
    static let tolerance = 1e-6

    static func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < tolerance } ?? false }

    @Test("a retransmitted request and one answer are one transaction; no RTT sample (Karn's rule)")
    func retransmissionThenAnswer() throws {
        var t = HandMadeTraffic()
        let request = stun(.binding, .request, id: 1)
        t.udp(Self.client, Self.server, at: 0, request)
        t.udp(Self.client, Self.server, at: 0.5, request)
        t.udp(Self.server, Self.client, at: 0.6, stun(.binding, .success, id: 1) { $0.address(.xorMappedAddress, "192.0.2.1:40000") })
        let doc = t.document()

        #expect(doc.transactions.count == 1)
        let tx = try #require(doc.transactions.first)
        #expect(tx.transactionId == "010101010101010101010101")
        #expect(tx.method == "Binding")
        #expect(tx.client == Self.client && tx.server == Self.server && tx.transport == .udp)
        #expect(tx.requestFrames == [1, 2])
        #expect(tx.retransmissions == 1)
        #expect(tx.retransmissionSpacing.count == 1 && Self.close(tx.retransmissionSpacing.first, 0.5))
        #expect(tx.state == .success)
        #expect(tx.responseFrame == 3)
        #expect(tx.errorCode == nil)
        #expect(Self.close(tx.firstRequest, HandMadeTraffic.time(0)))
        #expect(Self.close(tx.lastRequest, HandMadeTraffic.time(0.5)))
        #expect(Self.close(tx.responseTime, HandMadeTraffic.time(0.6)))
        // Karn's rule (RFC 6298 section 3): the response may answer either send, so a retransmitted
        // transaction gives no RTT (neither 0.6 s from the first send nor 0.1 s from the second).
        #expect(tx.rtt == nil)
        #expect(!tx.nested)

        #expect(doc.stats.transactions == 1)
        #expect(doc.stats.retransmissions == 1)
        #expect(doc.stats.unansweredTransactions == 0)
        let binding = try #require(doc.bindings.first)
        #expect(binding.retransmissions == 1 && binding.responses == 1 && binding.reflexive == ["192.0.2.1:40000"])
        #expect(!doc.findingCodes.contains(.stunRequestUnanswered))
        #expect(!doc.findingCodes.contains(.stunServerUnreachable))
    }

    @Test("an error response ends the transaction with its code")
    func errorResponse() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 2))
        t.udp(Self.server, Self.client, at: 0.25, stun(.binding, .error, id: 2) { $0.addErrorCode(400, reason: "Bad Request") })
        let tx = try #require(t.document().transactions.first)
        #expect(tx.state == .error && tx.errorCode == 400 && tx.responseFrame == 2 && Self.close(tx.rtt, 0.25))
    }

    /// 96 random bits are unique: the same id and method on another 5-tuple within a moment is the
    /// same request sent on two paths (WhatsApp sends its Allocate from two sockets) or seen again
    /// after a NAT (two capture points merged), answered on either.
    /// Some clients reuse one fixed id for unrelated requests: seconds apart, on another 5-tuple,
    /// the same id is another request.
    @Test("the same transaction id on another 5-tuple much later: another transaction")
    func sameIdMuchLater() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 7))
        t.udp(Self.otherClient, Self.server, at: 10, stun(.binding, .request, id: 7))
        t.udp(Self.server, Self.otherClient, at: 10.01, stun(.binding, .success, id: 7) { $0.address(.xorMappedAddress, "192.0.2.9:40001") })
        let doc = t.document()
        #expect(doc.transactions.count == 2)
        let second = try #require(doc.transactions.first { $0.client == Self.otherClient })
        #expect(second.state == .success && second.responseFlow == nil && Self.close(second.rtt, 0.01))
        #expect(doc.transactions.first { $0.client == Self.client }?.state == .unanswered)
    }

    @Test("the same transaction id on two 5-tuples: one transaction, answered on either")
    func sameIdTwoPaths() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 7))
        t.udp(Self.otherClient, Self.server, at: 0.1, stun(.binding, .request, id: 7))
        t.udp(Self.server, Self.otherClient, at: 0.2, stun(.binding, .success, id: 7) { $0.address(.xorMappedAddress, "192.0.2.9:40000") })
        let doc = t.document()
        #expect(doc.transactions.count == 1)
        let tx = try #require(doc.transactions.first)
        #expect(tx.client == Self.client && tx.state == .success && tx.responseFrame == 3 && Self.close(tx.rtt, 0.2))
        #expect(tx.responseFlow == "\(Self.server) -> \(Self.otherClient)")
        #expect(tx.retransmissions == 0 && doc.stats.retransmissions == 0)
        #expect(doc.stats.unansweredTransactions == 0)
    }

    @Test("an answer with the request's id but another method does not answer it")
    func matchedByMethod() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.allocate, .request, id: 9) { $0.add(.requestedTransport, [17, 0, 0, 0]) })
        t.udp(Self.server, Self.client, at: 0.1, stun(.refresh, .success, id: 9) { $0.add(.lifetime, uint32: 600) })
        let doc = t.document()
        let tx = try #require(doc.transactions.first)
        #expect(doc.transactions.count == 1)
        #expect(tx.method == "Allocate" && tx.state == .unanswered && tx.responseFrame == nil)
    }

    @Test("unanswered when the capture ends within 39.5 s of the request, timed out after")
    func unansweredVersusTimedOut() throws {
        var cut = HandMadeTraffic()
        cut.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 3))
        cut.udp(Self.otherClient, Self.server, at: 10, stun(.binding, .indication, id: 4))   // the capture runs on to 10 s
        let cutDoc = cut.document()
        let open = try #require(cutDoc.transactions.first)
        #expect(open.state == .unanswered && open.rtt == nil && open.responseFrame == nil)
        #expect(cutDoc.stats.unansweredTransactions == 1)
        // One send, no retransmission: "no answer", not "unreachable", capture-wide.
        #expect(cutDoc.findings.contains { $0.code == .stunRequestUnanswered && $0.session == nil && $0.frames == [1] })
        #expect(!cutDoc.findings.contains { $0.code == .stunServerUnreachable && $0.session == nil })

        var late = HandMadeTraffic()
        late.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 3))
        late.udp(Self.otherClient, Self.server, at: 45, stun(.binding, .indication, id: 4))
        let lateDoc = late.document()
        let expired = try #require(lateDoc.transactions.first)
        #expect(expired.state == .timedOut && expired.rtt == nil)
        #expect(lateDoc.stats.unansweredTransactions == 1)
    }

    /// An answer 41 s after the only send comes after RFC 8489's client gave up (39.5 s): the
    /// transaction timed out ("`timed-out`: no answer within RFC 8489's Rc/Rm timeout",
    /// TransactionSummary.state), whatever came later.
    @Test("an answer after the 39.5 s timeout does not revive the transaction")
    func answerAfterTimeout() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 5))
        t.udp(Self.server, Self.client, at: 41, stun(.binding, .success, id: 5) { $0.address(.xorMappedAddress, "192.0.2.1:40000") })
        let tx = try #require(t.document().transactions.first)
        #expect(tx.state == .timedOut && tx.responseFrame == nil)
    }

    @Test("retransmitted and never answered: the server is unreachable")
    func retransmittedUnanswered() throws {
        var t = HandMadeTraffic()
        let request = stun(.binding, .request, id: 6)
        for at in [0.0, 0.5, 1.5] { t.udp(Self.client, Self.server, at: at, request) }
        t.udp(Self.otherClient, Self.server, at: 5, stun(.binding, .indication, id: 4))
        let doc = t.document()
        let tx = try #require(doc.transactions.first)
        #expect(tx.state == .unanswered && tx.retransmissions == 2 && tx.requestFrames == [1, 2, 3])
        #expect(tx.retransmissionSpacing.count == 2 && Self.close(tx.retransmissionSpacing[0], 0.5) && Self.close(tx.retransmissionSpacing[1], 1.0))
        // Retransmitted, but the capture ends 5 s after the first send, long before the client gives
        // up (39.5 s) and before a 4th send: too short to judge.
        #expect(doc.findings.contains { $0.code == .stunRequestUnanswered && $0.severity == .info && $0.frames == [1, 2, 3] })
        #expect(!doc.findings.contains { $0.code == .stunServerUnreachable })
    }

    /// RFC 8489 section 6.2.1, its own example: with RTO 500 ms and Rc 7 the requests go out at
    /// 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, and "if the client has not received a response
    /// after 39500 ms, the client will consider the transaction to have timed out". A capture
    /// that runs to 40 s has seen the whole transaction fail.
    @Test("RFC 8489's retransmission schedule times out 39.5 s after the first send")
    func rfc8489Schedule() throws {
        var t = HandMadeTraffic()
        let request = stun(.binding, .request, id: 8)
        for at in [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5] { t.udp(Self.client, Self.server, at: at, request) }
        t.udp(Self.otherClient, Self.server, at: 40, stun(.binding, .indication, id: 4))
        let doc = t.document()
        let tx = try #require(doc.transactions.first)
        #expect(tx.retransmissions == 6)
        #expect(tx.state == .timedOut)
    }

    /// RFC 5780 section 6: a Binding with CHANGE-REQUEST is answered from the alternate address
    /// (and, with RESPONSE-PORT, to another client port): same transaction id, another 5-tuple.
    /// The server did answer; the client (behind an endpoint-independent-filtering NAT) got it.
    @Test("a CHANGE-REQUEST answered from the alternate address is answered")
    func changeRequestAnsweredElsewhere() throws {
        var t = HandMadeTraffic()
        t.udp(Self.client, Self.server, at: 0, stun(.binding, .request, id: 0x31) { $0.add(.changeRequest, uint32: 6) })
        t.udp("10.0.0.3:3479", Self.client, at: 0.01, stun(.binding, .success, id: 0x31) {
            $0.address(.xorMappedAddress, "192.0.2.1:40000")
            $0.address(.responseOrigin, "10.0.0.3:3479", xor: false)
        })
        t.udp(Self.otherClient, Self.server, at: 5, stun(.binding, .indication, id: 4))
        let doc = t.document()
        let tx = try #require(doc.transactions.first)
        #expect(tx.state == .success && tx.responseFrame == 2)
        #expect(!doc.findingCodes.contains(.stunRequestUnanswered))
        #expect(!doc.findingCodes.contains(.stunServerUnreachable))
    }

    @Test("every error response coturn sent is matched to its request", arguments: Corpus.turnCaptures)
    func coturnErrorsMatched(_ capture: String) throws {
        let truth = try Corpus.truth(capture)
        let doc = try Corpus.analyze(capture)
        var expected: [Int: Int] = [:]
        for e in truth["turn"]["errorsTotal"].array { expected[e["code"].int ?? -1] = e["count"].int }
        // The redirecting server's 300 (truth `redirect`) is outside coturn's session counts.
        if let code = truth["turn"]["redirect"]["answer"]["code"].int { expected[code, default: 0] += 1 }
        var matched: [Int: Int] = [:]
        for t in doc.transactions where t.state == .error { matched[t.errorCode ?? -1, default: 0] += 1 }
        #expect(matched == expected)
        for t in doc.transactions where t.state == .error || t.state == .success {
            #expect(t.responseFrame.map { f in t.requestFrames.allSatisfy { $0 < f } } ?? false, "\(t.transactionId)")
            #expect((t.rtt ?? -1) >= 0, "\(t.transactionId)")
        }
    }

    @Test("STUN inside ChannelData: its own transaction, marked nested, not reported as an unreachable server")
    func nestedInChannelData() throws {
        var t = HandMadeTraffic()
        let check = stun(.binding, .request, id: 0x21) {
            $0.add(.username, string: "remote:local")
            $0.add(.priority, uint32: 1_853_824_767)
            $0.add(.iceControlling, uint64: 42)
        }
        let answer = stun(.binding, .success, id: 0x21) { $0.address(.xorMappedAddress, "198.51.100.7:50000") }
        t.udp(Self.client, Self.server, at: 0, channelData(0x4000, check))
        t.udp(Self.server, Self.client, at: 0.05, channelData(0x4000, answer))
        // A second relayed check that nobody answers.
        let unanswered = stun(.binding, .request, id: 0x22) {
            $0.add(.username, string: "remote:local")
            $0.add(.priority, uint32: 1_853_824_767)
            $0.add(.iceControlling, uint64: 42)
        }
        t.udp(Self.client, Self.server, at: 1, channelData(0x4000, unanswered))
        t.udp(Self.otherClient, Self.server, at: 50, stun(.binding, .indication, id: 4))
        let doc = t.document()

        #expect(doc.stats.channelDataFrames == 3)
        #expect(doc.stats.nestedMessages == 3)
        let answered = try #require(doc.transactions.first { $0.transactionId == "212121212121212121212121" })
        #expect(answered.nested && answered.state == .success && answered.responseFrame == 2 && Self.close(answered.rtt, 0.05))
        #expect(answered.client == Self.client && answered.server == Self.server)
        let silent = try #require(doc.transactions.first { $0.transactionId == "222222222222222222222222" })
        #expect(silent.nested && silent.state == .timedOut)
        // Relayed checks are judged per candidate pair by the ICE reconstruction, not as a silent server.
        #expect(!doc.findingCodes.contains(.stunRequestUnanswered))
        #expect(!doc.findingCodes.contains(.stunServerUnreachable))
    }

    // MARK: Copies from two capture points (CaptureCopyFilter)

    @Test("the same request and answer captured in two files are one send each: no retransmission, RTT from the first sightings")
    func copiesFromTwoCapturePointsAreNotRetransmissions() throws {
        var t = HandMadeTraffic()
        let request = stun(.binding, .request, id: 7)
        let answer = stun(.binding, .success, id: 7) { $0.address(.xorMappedAddress, "192.0.2.1:40000") }
        t.udp(Self.client, Self.server, at: 0, file: 0, request)        // client side sends
        t.udp(Self.client, Self.server, at: 0.00004, file: 1, request)  // server side receives
        t.udp(Self.server, Self.client, at: 0.0003, file: 1, answer)
        t.udp(Self.server, Self.client, at: 0.00034, file: 0, answer)
        let doc = t.document()

        let tx = try #require(doc.transactions.first)
        #expect(doc.transactions.count == 1)
        #expect(tx.requestFrames == [1])
        #expect(tx.retransmissions == 0 && tx.retransmissionSpacing.isEmpty)
        #expect(tx.responseFrame == 3)
        #expect(Self.close(tx.rtt, 0.0003))
        #expect(doc.stats.retransmissions == 0)
        #expect(doc.stats.stunMessages == 2)
        #expect(doc.bindings.first?.retransmissions == 0)
    }

    @Test("a real retransmission seen at both points still counts once; a repeat in one file or past 5 ms is a retransmission")
    func retransmissionsSurviveTheCopyRule() throws {
        var t = HandMadeTraffic()
        let request = stun(.binding, .request, id: 8)
        t.udp(Self.client, Self.server, at: 0, file: 0, request)
        t.udp(Self.client, Self.server, at: 0.00005, file: 1, request)  // copy
        t.udp(Self.client, Self.server, at: 0.5, file: 0, request)      // retransmission
        t.udp(Self.client, Self.server, at: 0.50005, file: 1, request)  // its copy
        t.udp(Self.client, Self.server, at: 0.501, file: 0, request)    // same file: a send
        t.udp(Self.client, Self.server, at: 0.6, file: 1, request)      // another file, 99 ms later: a send
        let tx = try #require(t.document().transactions.first)
        #expect(tx.requestFrames == [1, 3, 5, 6])
        #expect(tx.retransmissions == 3)
    }

    @Test("one file: identical packets close together are all sends (no copy rule)")
    func oneFileHasNoCopies() throws {
        var t = HandMadeTraffic()
        let request = stun(.binding, .request, id: 9)
        t.udp(Self.client, Self.server, at: 0, request)
        t.udp(Self.client, Self.server, at: 0.00005, request)
        let tx = try #require(t.document().transactions.first)
        #expect(tx.retransmissions == 1)
    }
}
