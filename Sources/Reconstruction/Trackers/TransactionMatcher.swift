import CaptureSource
import PacketDecoding

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
        var method: UInt16
    }

    final class Pending {
        let key: Key
        let transactionId: String
        let methodName: String
        let nested: Bool
        var frames: [Int]
        var times: [CaptureTime]
        let generation: Int
        init(key: Key, transactionId: String, methodName: String, nested: Bool, frame: Int, time: CaptureTime, generation: Int) {
            self.key = key
            self.transactionId = transactionId
            self.methodName = methodName
            self.nested = nested
            self.frames = [frame]
            self.times = [time]
            self.generation = generation
        }
    }

    /// What a response matched.
    struct Match {
        var firstRequest: CaptureTime
        var lastRequest: CaptureTime
        var requestFrame: Int
        var retransmissions: Int
        var rtt: Double
    }

    static let timeoutNanoseconds: Int64 = 39_500_000_000

    var maxPending = 100_000
    var maxKeptSummaries = 50_000

    private var pending: [Key: Pending] = [:]
    private var order: [(Key, Int)] = []
    private var orderHead = 0
    private var generation = 0
    private(set) var summaries: [TransactionSummary] = []
    private(set) var total = 0
    private(set) var unanswered = 0
    private(set) var retransmissions = 0
    private(set) var evicted = 0
    private(set) var summariesDropped = 0

    /// A request; returns true when it is a retransmission of a pending one.
    mutating func request(_ m: ObservedStunMessage) -> Bool {
        expire(now: m.context.time)
        let key = Key(flow: m.flow, id: m.transactionKey, method: m.methodNumber)
        if let p = pending[key] {
            p.frames.append(m.context.frame)
            p.times.append(m.context.time)
            retransmissions &+= 1
            return true
        }
        if pending.count >= maxPending { evictOldest() }
        generation &+= 1
        pending[key] = Pending(key: key, transactionId: m.transactionId, methodName: m.methodName,
                               nested: m.carrier != nil, frame: m.context.frame, time: m.context.time, generation: generation)
        order.append((key, generation))
        total &+= 1
        return false
    }

    /// A response; returns the match when its request was seen.
    mutating func response(_ m: ObservedStunMessage) -> Match? {
        let key = Key(flow: m.flow.reversed, id: m.transactionKey, method: m.methodNumber)
        guard let p = pending.removeValue(forKey: key) else { return nil }
        let rtt = m.context.time.seconds(since: p.times[0])
        record(p, state: m.messageClass == .success ? "success" : "error", response: m, rtt: rtt)
        return Match(firstRequest: p.times[0], lastRequest: p.times[p.times.count - 1], requestFrame: p.frames[0],
                     retransmissions: p.frames.count - 1, rtt: rtt)
    }

    private mutating func record(_ p: Pending, state: String, response: ObservedStunMessage?, rtt: Double?) {
        if state == "unanswered" || state == "timed-out" { unanswered &+= 1 }
        guard summaries.count < maxKeptSummaries else {
            summariesDropped &+= 1
            return
        }
        var spacing: [Double] = []
        if p.times.count > 1 {
            for i in 1..<p.times.count { spacing.append(p.times[i].seconds(since: p.times[i - 1])) }
        }
        summaries.append(TransactionSummary(
            transactionId: p.transactionId, method: p.methodName,
            client: p.key.flow.source.description, server: p.key.flow.destination.description,
            transport: p.key.flow.transport.description,
            firstRequest: p.times[0].epochSeconds, lastRequest: p.times[p.times.count - 1].epochSeconds,
            requestFrames: p.frames, retransmissions: p.frames.count - 1, retransmissionSpacing: spacing,
            state: state, responseFrame: response?.context.frame, responseTime: response?.context.time.epochSeconds,
            errorCode: response?.errorCode, rtt: rtt, nested: p.nested))
    }

    private mutating func expire(now: CaptureTime) {
        while orderHead < order.count {
            let (key, gen) = order[orderHead]
            guard let p = pending[key], p.generation == gen else {
                orderHead &+= 1
                continue
            }
            guard now.nanoseconds &- p.times[p.times.count - 1].nanoseconds > TransactionMatcher.timeoutNanoseconds else { break }
            pending.removeValue(forKey: key)
            record(p, state: "timed-out", response: nil, rtt: nil)
            orderHead &+= 1
        }
        compact()
    }

    private mutating func evictOldest() {
        while orderHead < order.count {
            let (key, gen) = order[orderHead]
            orderHead &+= 1
            if let p = pending[key], p.generation == gen {
                pending.removeValue(forKey: key)
                evicted &+= 1
                record(p, state: "unanswered", response: nil, rtt: nil)
                break
            }
        }
        compact()
    }

    private mutating func compact() {
        if orderHead > 4096 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }

    /// End of capture: what is still pending was never answered.
    mutating func finish(at end: CaptureTime) {
        let rest = pending.values.sorted { $0.generation < $1.generation }
        pending.removeAll()
        for p in rest {
            let timedOut = end.nanoseconds &- p.times[p.times.count - 1].nanoseconds > TransactionMatcher.timeoutNanoseconds
            record(p, state: timedOut ? "timed-out" : "unanswered", response: nil, rtt: nil)
        }
        summaries.sort { $0.firstRequest < $1.firstRequest }
    }
}
