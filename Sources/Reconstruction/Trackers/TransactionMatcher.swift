import NetworkVocabulary
import StunWire

/// Matches requests to responses by (client -> server 5-tuple, transaction
/// id, method). tshark matches by id alone; requiring the method too keeps a
/// Refresh from answering an Allocate that reused an id.
///
/// Pending transactions are bounded: one unanswered past RFC 8489's
/// Rc/Rm timeout (39.5 s for UDP with RTO 500 ms, 39.5 s for TCP's Ti) is
/// finalised as timed out, and when the table is full the oldest is
/// finalised early and counted as evicted.
struct TransactionMatcher {
    struct Key: Hashable {
        var flow: FiveTuple      // request direction
        var id: TransactionKeyBits
        var method: StunMethodMeaning
    }

    /// Kept small (tens of thousands can be pending): the id text is made when the
    /// summary is, and retransmissions only allocate when there are some.
    final class Pending {
        let key: Key
        let classic: Bool
        /// Set only for ids that do not come from the key bits (hand-made observations).
        let explicitTransactionId: String?
        let nested: Bool
        let firstFrame: Int
        let firstTime: CaptureTime
        var moreFrames: [Int] = []
        var moreTimes: [CaptureTime] = []
        /// Answered, timed out or evicted: no longer in `pending`.
        var done = false
        init(key: Key, classic: Bool, explicitTransactionId: String?, nested: Bool, frame: Int, time: CaptureTime) {
            self.key = key
            self.classic = classic
            self.explicitTransactionId = explicitTransactionId
            self.nested = nested
            self.firstFrame = frame
            self.firstTime = time
        }

        var frames: [Int] { [firstFrame] + moreFrames }
        var times: [CaptureTime] { [firstTime] + moreTimes }
        var lastTime: CaptureTime { moreTimes.last ?? firstTime }
        var transactionId: String {
            explicitTransactionId ?? ObservedStunMessage.hex(key.id, classic: classic)
        }
    }

    /// What a response matched.
    struct Match {
        var firstRequest: CaptureTime
        var lastRequest: CaptureTime
        var requestFrame: Int
        var retransmissions: Int
        /// Nil when the request was retransmitted before the response (Karn's rule: the
        /// response cannot be told to answer the first send or a later one).
        var rtt: Double?
    }

    static let timeoutNanoseconds: Int64 = 39_500_000_000

    var maxPending = 100_000
    var maxKeptSummaries = 50_000

    private var pending: [Key: Pending] = [:]
    /// Pending transactions in arrival order (entries already answered are skipped).
    private var order: [Pending] = []
    private var orderHead = 0
    private(set) var summaries: [TransactionSummary] = []
    private(set) var total = 0
    private(set) var unanswered = 0
    private(set) var retransmissions = 0
    private(set) var evicted = 0
    private(set) var summariesDropped = 0

    /// A request; returns true when it is a retransmission of a pending one.
    mutating func request(_ m: ObservedStunMessage) -> Bool {
        expire(now: m.context.time)
        let key = Key(flow: m.flow, id: m.transactionKey, method: m.method)
        if let p = pending[key] {
            p.moreFrames.append(m.context.frame)
            p.moreTimes.append(m.context.time)
            retransmissions &+= 1
            return true
        }
        if pending.count >= maxPending { evictOldest() }
        let p = Pending(key: key, classic: m.classic, explicitTransactionId: m.explicitTransactionId,
                        nested: m.carrier != nil, frame: m.context.frame, time: m.context.time)
        pending[key] = p
        order.append(p)
        total &+= 1
        return false
    }

    /// A response; returns the match when its request was seen.
    mutating func response(_ m: ObservedStunMessage) -> Match? {
        let key = Key(flow: m.flow.reversed, id: m.transactionKey, method: m.method)
        guard let p = pending.removeValue(forKey: key) else { return nil }
        p.done = true
        // Karn's rule (RFC 6298 section 3): no RTT sample from a retransmitted request.
        let rtt: Double? = p.moreFrames.isEmpty ? m.context.time.seconds(since: p.firstTime) : nil
        record(p, state: m.messageClass == .success ? .success : .error, response: m, rtt: rtt)
        return Match(firstRequest: p.firstTime, lastRequest: p.lastTime, requestFrame: p.firstFrame,
                     retransmissions: p.moreFrames.count, rtt: rtt)
    }

    private mutating func record(_ p: Pending, state: TransactionState, response: ObservedStunMessage?, rtt: Double?) {
        if state == .unanswered || state == .timedOut { unanswered &+= 1 }
        guard summaries.count < maxKeptSummaries else {
            summariesDropped &+= 1
            return
        }
        var spacing: [Double] = []
        let times = p.times
        if times.count > 1 {
            for i in 1..<times.count { spacing.append(times[i].seconds(since: times[i - 1])) }
        }
        summaries.append(TransactionSummary(
            transactionId: p.transactionId, method: p.key.method.name,
            client: p.key.flow.source.description, server: p.key.flow.destination.description,
            transport: p.key.flow.transport,
            firstRequest: p.firstTime.epochSeconds, lastRequest: p.lastTime.epochSeconds,
            requestFrames: p.frames, retransmissions: p.moreFrames.count, retransmissionSpacing: spacing,
            state: state, responseFrame: response?.context.frame, responseTime: response?.context.time.epochSeconds,
            errorCode: response?.errorCode, rtt: rtt, nested: p.nested))
    }

    private mutating func expire(now: CaptureTime) {
        while orderHead < order.count {
            let p = order[orderHead]
            guard !p.done else {
                orderHead &+= 1
                continue
            }
            guard now.nanoseconds &- p.lastTime.nanoseconds > TransactionMatcher.timeoutNanoseconds else { break }
            pending.removeValue(forKey: p.key)
            p.done = true
            record(p, state: .timedOut, response: nil, rtt: nil)
            orderHead &+= 1
        }
        compact()
    }

    private mutating func evictOldest() {
        while orderHead < order.count {
            let p = order[orderHead]
            orderHead &+= 1
            if !p.done {
                pending.removeValue(forKey: p.key)
                p.done = true
                evicted &+= 1
                record(p, state: .unanswered, response: nil, rtt: nil)
                break
            }
        }
        compact()
    }

    /// Drops the consumed head and, when answered transactions behind a long-unanswered one
    /// make up most of the queue, the answered ones too: the queue stays O(pending).
    private mutating func compact() {
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        if order.count - orderHead > pending.count + pending.count / 2 + 1024 {
            order = order[orderHead...].filter { !$0.done }
            orderHead = 0
        }
    }

    /// End of capture: what is still pending was never answered.
    mutating func finish(at end: CaptureTime) {
        let rest = order[orderHead...].filter { !$0.done }
        pending.removeAll()
        order.removeAll()
        orderHead = 0
        for p in rest {
            let timedOut = end.nanoseconds &- p.lastTime.nanoseconds > TransactionMatcher.timeoutNanoseconds
            record(p, state: timedOut ? .timedOut : .unanswered, response: nil, rtt: nil)
        }
        summaries.sort { $0.firstRequest < $1.firstRequest }
    }
}
