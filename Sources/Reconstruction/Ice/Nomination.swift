import NetworkVocabulary

// Nomination (RFC 8445 section 8.1.1): the controlling agent sends a check
// with USE-CANDIDATE on a valid pair; once that check succeeds the pair is
// nominated. Renomination (draft-thatcher-ice-renomination) uses NOMINATION
// values instead, and the highest one wins.

extension IceSessionContext {
    /// The agents whose nominations count: the controlling agent, and when
    /// the roles are unknown, both.
    var nominators: [AgentSide] {
        !roles.areKnown && session.hasTwoAgents ? [roles.local, roles.remote] : [roles.local]
    }

    /// A nominating check on the pair (USE-CANDIDATE or NOMINATION) got a success response.
    func isNominated(_ p: IcePairState) -> Bool {
        nominators.contains { p.checks(from: $0).nominationSucceeded }
    }

    /// When the pair's nomination took effect: the success response to its nominating check.
    func nominationTime(_ p: IcePairState) -> CaptureTime? {
        nominators.lazy.compactMap { p.checks(from: $0).nominationSuccess }.first
    }

    /// Renomination when any NOMINATION was sent; otherwise the pair where
    /// USE-CANDIDATE first appeared decides: on its first check it is
    /// aggressive nomination (RFC 5245 8.1.1.2), after a plain check regular.
    func nominationMode() -> NominationMode {
        if pairs.contains(where: { p in nominators.contains { p.checks(from: $0).nomination != nil } }) { return .renomination }
        var first: (time: CaptureTime, regular: Bool)?
        for p in pairs {
            for agent in nominators {
                let d = p.checks(from: agent)
                guard let useCandidate = d.firstUseCandidateTime, let firstRequest = d.firstRequest else { continue }
                let regular = d.plainSuccessBeforeUseCandidate || useCandidate > firstRequest
                if first.map({ useCandidate < $0.time }) ?? true { first = (useCandidate, regular) }
            }
        }
        guard let first else { return .none }
        return first.regular ? .regular : .aggressive
    }

    /// The selected pair (RFC 8445 section 8.1.1: the nominated pair; with
    /// renomination, the last one; with several, the one carrying media, else
    /// the first nominated); else a pair whose nominating check was seen
    /// without its response but that carries media; else (ICE-lite, no
    /// USE-CANDIDATE seen) the succeeded pair that carries the most media.
    func selectedPair() -> (pair: IcePairState, basis: PairSelectionBasis)? {
        let local = roles.local
        let nominated = pairs.filter(isNominated)
        if !nominated.isEmpty {
            let renominated = nominated.filter { $0.checks(from: local).nominationSuccessTime != nil }
            if !renominated.isEmpty {
                let p = renominated.max {
                    let a = $0.checks(from: local), b = $1.checks(from: local)
                    return (a.nomination ?? 0, a.nominationSuccessTime!) < (b.nomination ?? 0, b.nominationSuccessTime!)
                }!
                return (p, p.totalMediaPackets > 0 ? .nominatedAndMedia : .nominated)
            }
            if let p = mostMedia(nominated) { return (p, .nominatedAndMedia) }
            let p = nominated.min { (nominationTime($0) ?? facts.end) < (nominationTime($1) ?? facts.end) }!
            return (p, .nominated)
        }
        let requested = pairs.filter { p in p.checks(from: local).useCandidate > 0 || p.checks(from: local).nomination != nil }
        if let p = mostMedia(requested) { return (p, .nominationRequestAndMedia) }
        if let p = mostMedia(pairs.filter { $0.successes > 0 }) { return (p, .media) }
        return nil
    }

    /// The pair with the most media packets (the first of equals), nil when none carries media.
    private func mostMedia(_ candidates: [IcePairState]) -> IcePairState? {
        candidates.filter { $0.totalMediaPackets > 0 }.max { $0.totalMediaPackets < $1.totalMediaPackets }
    }
}
