import NetworkVocabulary
import OrderedCollections

/// Findings about flows rather than sessions: ICMP errors quoting STUN/TURN
/// traffic and requests nobody answered. Each problem is said once: a
/// request refused by ICMP is the ICMP finding, a NAT test nobody answered is
/// the test's result, a connectivity check is the ICE reconstructor's.
extension SessionReconstructor {
    /// At most this many capture-wide findings per code; the rest are summed up in one more.
    static let maxFlowFindingsPerCode = 20
    /// Sends of one request without an answer that make it a failure even if the capture ends first.
    static let sendsThatMeanFailure = 4

    /// Why an ICMP error was sent, judged from who refused what.
    enum IcmpCause {
        /// The refused endpoint had itself sent STUN requests: a socket closed after use
        /// (a client that deallocated and exited, a pre-BUNDLE socket Chrome closed).
        case closedAfterUse
        /// A packet to the sender's own reflexive address: the RFC 3489 hairpin probe.
        case hairpinProbe
        /// The answer to a NAT test, sent to the client's RESPONSE-PORT or from the alternate address.
        case natTestAnswer
        /// The socket asked several servers or peers at once and another one answered it.
        case servedElsewhere
        /// The destination refused traffic it was expected to take: a closed server port, a dead peer.
        case refused
    }

    func icmpCause(of flow: FiveTuple, clients: Set<Endpoint>, answered: Set<Endpoint>) -> IcmpCause {
        if redirectedAnswerFlows.contains(flow) { return .natTestAnswer }
        if clients.contains(flow.destination) { return .closedAfterUse }
        if bindings.reflexiveByLocal[flow.source]?.contains(where: { $0.reflexive == flow.destination }) == true {
            return .hairpinProbe
        }
        if answered.contains(flow.source) { return .servedElsewhere }
        return .refused
    }

    func addIcmpFindings(_ doc: AnalysisDocument) {
        guard !icmpByFlow.isEmpty else { return }
        var clients = Set<Endpoint>()
        var answered = Set<Endpoint>()
        for t in doc.transactions {
            guard let e = Endpoint(t.client) else { continue }
            clients.insert(e)
            if t.state == .success || t.state == .error { answered.insert(e) }
        }
        answered.formUnion(servedAfterIcmp)
        for a in allocations.allocations { clients.insert(a.flow.source) }
        var perCause: [FindingCode: Int] = [:]
        for (flow, e) in icmpByFlow {
            let cause = icmpCause(of: flow, clients: clients, answered: answered)
            let subject = "\(flow)"
            let head = "\(e.count) ICMP error(s) (\(e.meaning)) from \(e.reporter) for \(flow.transport) \(flow.source) -> \(flow.destination)"
            let severity: Finding.Severity
            let message: String
            switch cause {
            case .closedAfterUse:
                severity = .info
                let deleted = allocations.allocations.contains { $0.flow.source == flow.destination && $0.state == .deleted }
                message = head + ": \(flow.destination) had sent STUN from that socket and then closed it"
                    + (deleted ? " after deleting its allocation" : "")
                    + "; a late packet to a socket the client stopped using is harmless."
            case .hairpinProbe:
                severity = .info
                message = head + ": \(flow.source) sent to its own reflexive address (the RFC 3489 hairpin test) and the NAT refused it: the NAT does not hairpin. A test result, not a failure."
            case .natTestAnswer:
                severity = .info
                message = head + ": the answer to a NAT test was sent where the test asked (another port or address) and nothing listened there. A test result, not a failure."
            case .servedElsewhere:
                severity = .info
                message = head + ": \(flow.source) was answered by another server or peer meanwhile (it tried several at once, or probed a peer's address directly before another path); the refusal did not stop it."
            case .refused:
                severity = .error
                message = head + ": the destination did not accept the STUN/TURN traffic (port closed or host down)."
            }
            let n = perCause[.icmpUnreachable, default: 0]
            perCause[.icmpUnreachable] = n + 1
            findings.add(severity, .icmpUnreachable, FindingMessage(message), frames: e.frames,
                         subject: n < Self.maxFlowFindingsPerCode ? subject : "more")
        }
    }

    /// A request whose answer arrived too damaged to use: the client got nothing it can read.
    /// Said once, instead of "no answer" (or "no response here" for a check).
    func addMalformedAnswerFindings(_ doc: AnalysisDocument) -> Set<String> {
        var explained = Set<String>()
        guard !malformedAnswers.isEmpty else { return explained }
        for t in doc.transactions where t.state == .unanswered || t.state == .timedOut {
            guard let m = malformedAnswers[t.transactionId], m.flow.destination.description == t.client else { continue }
            explained.insert(t.transactionId)
            findings.add(.warning, .stunResponseMalformed,
                         "\(t.method) request from \(t.client) to \(t.server) (frame \(t.requestFrames[0])) was answered at frame \(m.frame) by a response too damaged to use (\(m.reason)): the client got no answer it can read.",
                         frames: [t.requestFrames[0], m.frame], subject: t.transactionId)
        }
        return explained
    }

    func addUnansweredFindings(_ doc: AnalysisDocument) {
        let malformed = addMalformedAnswerFindings(doc)
        let refused = Set(icmpByFlow.keys)
        // Relayed checks (nested in ChannelData / DATA) are the ICE reconstructor's to judge: their
        // carrier flow names the TURN server, not the peer that did not answer.
        // Looked up by identity: the kept transactions are bounded, the id sets reach 100,000 each.
        func judgedElsewhere(_ id: String) -> Bool {
            guard let identity = TransactionIdentity(hex: id) else { return false }
            return iceCheckIds.contains(identity) || natTestIds.contains(identity) || proprietaryIds.contains(identity)
        }
        let unanswered = doc.transactions.filter {
            !$0.nested && ($0.state == .unanswered || $0.state == .timedOut)
                && !judgedElsewhere($0.transactionId) && !malformed.contains($0.transactionId)
        }
        guard !unanswered.isEmpty else { return }
        // A client that asked several servers at once and was served by one has not failed.
        var answeredAt: [String: [Double]] = [:]
        for t in doc.transactions where t.state == .success || t.state == .error {
            answeredAt[t.client + " " + t.method, default: []].append(t.firstRequest)
        }
        let byPair = OrderedDictionary(grouping: unanswered) { [$0.method, $0.client, $0.server] }
        var emitted = 0
        for ts in byPair.values {
            let t0 = ts[0]
            if let e = Endpoint(t0.client), let s = Endpoint(t0.server),
               refused.contains(FiveTuple(source: e, destination: s, transport: t0.transport)) {
                continue    // the ICMP finding says it
            }
            let sends = ts.reduce(0) { $0 + $1.requestFrames.count }
            let mostSends = ts.map(\.requestFrames.count).max() ?? 1
            let cutOff = ts.allSatisfy { $0.state == .unanswered }
            let raced = answeredAt[t0.client + " " + t0.method]?.contains { a in
                ts.contains { abs($0.firstRequest - a) < 10 }
            } ?? false
            let frames = ts.flatMap(\.requestFrames)
            var message = "\(ts.count) \(t0.method) request(s) from \(t0.client) to \(t0.server) got no answer (\(sends) sends incl. retransmissions, last at frame \(ts.last!.requestFrames.last!))"
            let severity: Finding.Severity
            let code: FindingCode
            if raced {
                severity = .info
                code = .stunRequestUnanswered
                message += "; the same socket was answered by another server meanwhile: the client asked several servers at once and was served."
            } else if mostSends == 1 {
                severity = .info
                code = .stunRequestUnanswered
                message += cutOff
                    ? "; sent once, not retried, and the capture ended less than 39.5 s later: a probe, or an answer after the capture."
                    : "; sent once and not retried: the client did not depend on it (a probe or a one-shot keepalive)."
            } else if !cutOff || mostSends >= Self.sendsThatMeanFailure {
                // RFC 8489 section 6.2.1: by the 4th send 3.5 s of silence have passed (RTO 500 ms).
                severity = .error
                code = t0.method == "Allocate" ? .turnAllocationFailed : .stunServerUnreachable
                message += cutOff
                    ? "; sent \(mostSends) times without an answer: the server is unreachable or the packets are filtered."
                    : "; the client's retransmissions ran out (RFC 8489: 39.5 s after the first send): the server is unreachable or the packets are filtered."
            } else {
                severity = .info
                code = .stunRequestUnanswered
                message += "; the capture ended \(String(format: "%.1f", doc.stats.lastTime.map { $0 - t0.firstRequest } ?? 0)) s after the first send, before the client would give up (39.5 s): too short to judge."
            }
            emitted += 1
            findings.add(severity, code, FindingMessage(message), frames: frames,
                         subject: emitted <= Self.maxFlowFindingsPerCode ? "\(t0.method) \(t0.client) \(t0.server)" : "more")
        }
    }
}
