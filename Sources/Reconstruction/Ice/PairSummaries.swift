import NetworkVocabulary

extension IceSessionContext {
    /// RFC 8489 section 6.2.1: a check unanswered this long after its last
    /// transmission (Rc = 7, RTO = 500 ms, plus Rm * RTO) has timed out.
    static let checkTimeout = 39.5

    /// One pair as the summary shows it: `local` is the controlling agent's side.
    func pairSummary(_ p: IcePairState, notes: inout ClassificationNotes) -> IcePairSummary {
        let local = roles.local, remote = roles.remote
        let two = session.hasTwoAgents
        let fromLocal = p.checks(from: local)
        let fromRemote = two ? p.checks(from: remote) : IceDirectionState()
        let localType = ownType(p, owner: local)
        let remoteView = two ? viewType(p, owner: remote, viewer: local) : Classified(type: .unknown, explanation: "")
        let localView = two ? viewType(p, owner: local, viewer: remote) : nil
        notes.record(remoteView)
        if let localView { notes.record(localView) }
        let handshakeFrames = p.handshakeFrames
        var sum = IcePairSummary(
            local: p.key.address(of: local).description, remote: p.key.address(of: remote).description,
            localType: localType, remoteType: remoteView.type,
            controlledLocalType: two ? ownType(p, owner: remote) : nil, controlledRemoteType: localView?.type,
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
        return sum
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
