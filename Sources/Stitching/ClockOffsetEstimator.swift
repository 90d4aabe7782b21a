import NetworkVocabulary

/// How far one vantage point's clock is from another's, NTP style.
///
/// A STUN request and its answer, both seen at vantage points A and B, give
/// `dRequest = tB(request) - tA(request)` and `dAnswer = tB(answer) - tA(answer)`.
/// If A is nearer the client, the request travels A -> B and the answer B -> A:
/// `dRequest = offset + delay(A->B)` and `dAnswer = offset - delay(B->A)`, so
/// with delays never negative the offset lies between the two; if B is nearer,
/// the same holds with the roles swapped. Every transaction seen at both gives
/// such an interval, and the offset lies in all of them: their intersection is
/// the estimate (its middle) and the uncertainty (half its width). Only
/// transactions whose request and answer each appear once at each vantage point
/// count (a retransmitted request would not say which copy was answered).
public struct ClockOffset: Sendable, Equatable {
    /// Nanoseconds to subtract from the vantage's timestamps to put them on the reference clock.
    public var offset: Int64
    /// Half the width of the interval the offset lies in, nanoseconds.
    public var uncertainty: Int64
    /// Transactions the estimate rests on (summed over the hops to the reference).
    public var transactions: Int
    /// The vantage this one was measured against (itself for the reference).
    public var measuredAgainst: Int
    /// True when the transactions' intervals did not all overlap (clock drift or
    /// asymmetric queueing): the estimate then spans the disagreement.
    public var inconsistent: Bool

    public init(offset: Int64, uncertainty: Int64, transactions: Int, measuredAgainst: Int, inconsistent: Bool = false) {
        self.offset = offset
        self.uncertainty = uncertainty
        self.transactions = transactions
        self.measuredAgainst = measuredAgainst
        self.inconsistent = inconsistent
    }
}

public enum ClockOffsetEstimator {
    /// One vantage point's transactions: for each (transaction id, method), the request's and answer's
    /// times and keys when each was seen exactly once.
    struct Exchange {
        var request: PacketKey
        var requestTime: Int64
        var answer: PacketKey
        var answerTime: Int64
    }

    static func exchanges(of sightings: ArraySlice<Sighting>) -> [String: Exchange] {
        var requests: [String: (PacketKey, Int64, Int)] = [:]
        var answers: [String: (PacketKey, Int64, Int)] = [:]
        for s in sightings {
            guard let m = s.label.transactionMessage else { continue }
            let id = "\(m.transactionID.hex)/\(m.method)"
            switch m.messageClass {
            case .request:
                let seen = requests[id]
                requests[id] = (s.key, s.time.nanoseconds, (seen?.2 ?? 0) + 1)
            case .success, .error:
                let seen = answers[id]
                answers[id] = (s.key, s.time.nanoseconds, (seen?.2 ?? 0) + 1)
            case .indication:
                continue
            }
        }
        var out: [String: Exchange] = [:]
        for (id, r) in requests where r.2 == 1 {
            guard let a = answers[id], a.2 == 1 else { continue }
            out[id] = Exchange(request: r.0, requestTime: r.1, answer: a.0, answerTime: a.1)
        }
        return out
    }

    /// The offset of `b`'s clock against `a`'s (b minus a), or nil when no transaction was seen at both.
    static func pairOffset(_ a: [String: Exchange], _ b: [String: Exchange], against: Int) -> ClockOffset? {
        var low = Int64.min
        var high = Int64.max
        var narrowest: (low: Int64, high: Int64)? = nil
        var count = 0
        for (id, x) in a {
            guard let y = b[id], x.request == y.request, x.answer == y.answer else { continue }
            let dRequest = y.requestTime &- x.requestTime
            let dAnswer = y.answerTime &- x.answerTime
            let lo = min(dRequest, dAnswer)
            let hi = max(dRequest, dAnswer)
            low = max(low, lo)
            high = min(high, hi)
            if narrowest == nil || hi &- lo < narrowest!.high &- narrowest!.low { narrowest = (lo, hi) }
            count += 1
        }
        guard count > 0, let narrowest else { return nil }
        if low <= high {
            return ClockOffset(offset: low / 2 &+ high / 2, uncertainty: (high &- low) / 2, transactions: count, measuredAgainst: against)
        }
        // The intervals disagree: keep the narrowest one's middle and widen the
        // uncertainty to cover every interval's nearest edge.
        let middle = narrowest.low / 2 &+ narrowest.high / 2
        let spread = Int64(clamping: max((middle &- low).magnitude, (middle &- high).magnitude))
        return ClockOffset(offset: middle, uncertainty: spread, transactions: count, measuredAgainst: against, inconsistent: true)
    }

    /// Offsets of every vantage against `reference` (index into `vantages`): each vantage
    /// is measured along the path of smallest summed uncertainty through vantages with
    /// shared transactions. Vantages with no such path get nil.
    public static func estimate(_ vantages: [ArraySlice<Sighting>], reference: Int = 0) -> [ClockOffset?] {
        let n = vantages.count
        let tables = vantages.map(exchanges(of:))
        var pair = [[ClockOffset?]](repeating: [ClockOffset?](repeating: nil, count: n), count: n)
        for i in 0..<n {
            for j in 0..<n where j > i {
                if let o = pairOffset(tables[i], tables[j], against: i) {
                    pair[i][j] = o
                    var back = o
                    back.offset = 0 &- o.offset
                    back.measuredAgainst = j
                    pair[j][i] = back
                }
            }
        }
        // Dijkstra on summed uncertainty (n is a handful of vantages).
        var result = [ClockOffset?](repeating: nil, count: n)
        guard reference < n else { return result }
        result[reference] = ClockOffset(offset: 0, uncertainty: 0, transactions: 0, measuredAgainst: reference)
        var done = Set<Int>()
        while true {
            var best: Int? = nil
            for v in 0..<n where !done.contains(v) && result[v] != nil {
                if best == nil || result[v]!.uncertainty < result[best!]!.uncertainty { best = v }
            }
            guard let u = best, let base = result[u] else { break }
            done.insert(u)
            for v in 0..<n where !done.contains(v) {
                guard let edge = pair[u][v] else { continue }
                let candidate = ClockOffset(offset: base.offset &+ edge.offset, uncertainty: base.uncertainty &+ edge.uncertainty,
                                            transactions: base.transactions + edge.transactions, measuredAgainst: u,
                                            inconsistent: base.inconsistent || edge.inconsistent)
                if result[v] == nil || candidate.uncertainty < result[v]!.uncertainty { result[v] = candidate }
            }
        }
        return result
    }
}
