import NetworkVocabulary

extension IceSessionContext {
    /// RFC 8489 section 6.2.1: a check unanswered this long after its last
    /// transmission (Rc = 7, RTO = 500 ms, plus Rm * RTO) has timed out.
    static let checkTimeout = 39.5

    /// One pair as the summary shows it: `local` is the controlling agent's side.
    func pairSummary(_ p: IcePairState, candidates: CandidateTypes, notes: inout ClassificationNotes) -> IcePairSummary {
        let local = roles.local, remote = roles.remote
        let two = session.hasTwoAgents
        let fromLocal = p.checks(from: local)
        let fromRemote = two ? p.checks(from: remote) : IceDirectionState()
        // One classification per (agent, address): the candidate list's, where it lists the address.
        let localCandidate = ownCandidate(p, owner: local)
        let localType = candidates.type(of: localCandidate, agent: local) ?? ownType(p, owner: local)
        var remoteView = two ? viewType(p, owner: remote, viewer: local) : Classified(type: .unknown, explanation: "")
        var localView = two ? viewType(p, owner: local, viewer: remote) : nil
        notes.record(remoteView)
        if let v = localView { notes.record(v) }
        if let t = candidates.type(of: remoteView.address, agent: remote) { remoteView.type = t }
        if let t = candidates.type(of: localView?.address, agent: local) { localView?.type = t }
        let controlledCandidate = two ? ownCandidate(p, owner: remote) : nil
        let controlledLocalType = two ? candidates.type(of: controlledCandidate, agent: remote) ?? ownType(p, owner: remote) : nil
        let handshakeFrames = p.handshakeFrames
        var sum = IcePairSummary(
            local: p.key.address(of: local).description, remote: p.key.address(of: remote).description,
            localType: localType, remoteType: remoteView.type,
            controlledLocalType: controlledLocalType, controlledRemoteType: localView?.type,
            localSeenByRemote: fromLocal.mapped?.description, remoteSeenByLocal: two ? fromRemote.mapped?.description : nil,
            transport: p.key.transport,
            viaRelay: p.isRelayed(.first) || p.isRelayed(.second) || localType == .relay || remoteView.type == .relay,
            state: state(fromLocal, fromRemote), nominated: isNominated(p),
            requestsSent: fromLocal.requests + fromRemote.requests,
            responsesReceived: fromLocal.successes + fromRemote.successes,
            errorResponses: fromLocal.errors + fromRemote.errors,
            retransmissions: fromLocal.retransmissions + fromRemote.retransmissions,
            firstRequest: [fromLocal.firstRequest, fromRemote.firstRequest].compactMap { $0 }.min()?.epochSeconds,
            lastRequest: [fromLocal.lastRequest, fromRemote.lastRequest].compactMap { $0 }.max()?.epochSeconds,
            firstResponse: [fromLocal.firstResponse, fromRemote.firstResponse].compactMap { $0 }.min()?.epochSeconds,
            lastResponse: [fromLocal.lastResponse, fromRemote.lastResponse].compactMap { $0 }.max()?.epochSeconds,
            rtt: DelayStatistics(samples: fromLocal.rtts + fromRemote.rtts),
            handshake: handshakeFrames.map { $0 != nil })
        sum.checksFromLocal = fromLocal.requests
        sum.checksFromRemote = fromRemote.requests
        sum.responsesToLocal = fromLocal.successes
        sum.responsesToRemote = fromRemote.successes
        sum.useCandidateChecks = fromLocal.useCandidate + fromRemote.useCandidate
        sum.errorCodes = Array(Set(fromLocal.errorCodes + fromRemote.errorCodes)).sorted()
        sum.handshakeFrames = handshakeFrames
        sum.handshakeInitiator = p.initiatingAgent.map { $0 == local ? .local : .remote }
        sum.nominationFrame = fromLocal.nominationSuccessFrame ?? fromLocal.useCandidateSuccessFrame
            ?? (roles.areKnown ? nil : fromRemote.useCandidateSuccessFrame)
        sum.mediaPackets = p.totalMediaPackets
        sum.mediaBytes = p.mediaBytes[0] + p.mediaBytes[1]
        sum.refusals = refusals(on: p)
        sum.localCandidate = localCandidate?.description
        sum.controlledLocalCandidate = controlledCandidate?.description
        if remoteView.type != .unknown { sum.remoteCandidate = remoteView.address?.description }
        if let v = localView, v.type != .unknown { sum.controlledRemoteCandidate = v.address?.description }
        return sum
    }

    /// The error responses on a pair, per refusing agent and code: the
    /// controlling agent's refusals of its peer's checks come after its peer's of its own.
    func refusals(on p: IcePairState) -> [IceCheckRefusal]? {
        var out: [IceCheckRefusal] = []
        let checkers = session.hasTwoAgents ? [roles.local, roles.remote] : [AgentSide.first]
        for checker in checkers {
            let responder = session.hasTwoAgents ? checker.other : checker
            let by = session.ufrag(of: responder) ?? "?", from = session.ufrag(of: checker) ?? "?"
            let checkerAddress = p.key.address(of: checker), responderAddress = p.key.address(of: responder)
            for e in p.checks(from: checker).errorAnswers {
                let cause = IceRefusalCause(code: e.code)
                var sentence = "agent \(by) (\(responderAddress)) answered \(e.count) of agent \(from)'s checks from \(checkerAddress) with \(e.code)\(e.reason.map { " " + $0 } ?? ""): \(cause.meaning)"
                var notes: [String] = []
                if e.afterSuccess > 0 { notes.append("\(e.afterSuccess) to a check it had already answered with success") }
                if e.toRetransmissions > 0 { notes.append("\(e.toRetransmissions) answered a retransmission") }
                if !notes.isEmpty { sentence += "; " + notes.joined(separator: ", ") }
                out.append(IceCheckRefusal(refusedBy: by, checksFrom: from, checker: checkerAddress.description, code: e.code,
                                           reason: e.reason, cause: cause, count: e.count, afterSuccess: e.afterSuccess,
                                           toRetransmissions: e.toRetransmissions, frames: e.frames, explanation: sentence))
            }
        }
        return out.isEmpty ? nil : out
    }

    /// The pair's state as the capture shows it (RFC 8445 section 6.1.2.6): a
    /// success response makes it Succeeded; an error other than 487 Role
    /// Conflict (after which the agent retries, RFC 8445 7.2.5.1), or no answer
    /// within the STUN timeout, Failed.
    private func state(_ fromLocal: IceDirectionState, _ fromRemote: IceDirectionState) -> PairState {
        if fromLocal.successes + fromRemote.successes > 0 { return .succeeded }
        if fromLocal.errors + fromRemote.errors > 0 && (fromLocal.errorCodes + fromRemote.errorCodes).contains(where: { $0 != 487 }) {
            return .failed
        }
        if let last = [fromLocal.lastRequest, fromRemote.lastRequest].compactMap({ $0 }).max(),
           facts.end.seconds(since: last) >= IceSessionContext.checkTimeout {
            return .failed
        }
        return fromLocal.requests + fromRemote.requests > 0 ? .inProgress : .waiting
    }
}

extension IceRefusalCause {
    /// RFC 8445 section 7.3.1.1 (487), RFC 8489 sections 9.1.3 and 14.8 (400, 401, 420, 500).
    init(code: Int) {
        switch code {
        case 401, 431: self = .integrity
        case 487: self = .role
        case 500: self = .serverError
        case 400, 420: self = .badRequest
        default: self = .other
        }
    }

    /// Why an agent answers a check this way, for a sentence.
    var meaning: String {
        switch self {
        case .integrity: return "it could not authenticate them (USERNAME or MESSAGE-INTEGRITY did not verify with its ice-pwd, or it no longer knew the credentials)"
        case .role: return "both agents claimed the same role (role conflict); the checker must switch role and check again"
        case .serverError: return "it failed to process them (an internal error of that agent)"
        case .badRequest: return "it found them malformed (or carrying an unknown comprehension-required attribute)"
        case .other: return "an error the agent chose; see the reason phrase"
        }
    }
}

/// The candidate list's type per (agent, address): the one classification
/// the pairs, the selected pair and every renderer use.
struct CandidateTypes {
    private var types: [String: [String: CandidateType]] = [:]
    private let ufrags: [String]

    init(_ candidates: [IceCandidateSummary], ufrags: [String]) {
        self.ufrags = ufrags
        for c in candidates where c.type != .unknown {
            types[c.agent ?? "", default: [:]][c.address] = c.type
        }
    }

    func type(of address: Endpoint?, agent: AgentSide) -> CandidateType? {
        guard let address, agent.rawValue < ufrags.count else { return nil }
        return types[ufrags[agent.rawValue]]?[address.description]
    }
}
