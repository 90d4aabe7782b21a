import NetworkVocabulary
import StunWire

/// Matches requests to responses by (client -> server 5-tuple, transaction
/// id, method). tshark matches by id alone; requiring the method too keeps a
/// Refresh from answering an Allocate that reused an id.
///
/// Answers do not always come back on the request's 5-tuple: RFC 3489
/// CHANGE-REQUEST and RFC 5780 RESPONSE-PORT tests are answered from the
/// server's other address or port, or to another client port; a TURN server
/// may answer from a sibling address; two capture points merged see the
/// answer after a NAT. Pending requests are also indexed by transaction id,
/// and an answer with that id and method matches them wherever it travels
/// (96 random bits: a collision is not a concern). Some applications
/// (WhatsApp 0x0801 / 0x0802, Zoom's Binding answered by 0x0002) answer with
/// a message of their own type: a request on the reversed 5-tuple carrying a
/// pending request's id is its answer, not a new request.
///
/// Pending transactions are bounded: one unanswered past RFC 8489's
/// Rc/Rm timeout (39.5 s after the first send for UDP with RTO 500 ms, and
/// TCP's Ti) is
/// finalised as timed out, and when the table is full the oldest is
/// finalised early and counted as evicted.
struct TransactionMatcher {
    struct Key: Hashable {
        var flow: FiveTuple      // request direction
        var id: TransactionKeyBits
        var method: StunMethodMeaning
    }

    /// Kept small (tens of thousands can be pending): the id text is made when the
    /// summary is, and retransmissions only allocate when there are some. A value in a
    /// slot of `slots` (no object per request: a busy server sends millions).
    struct Pending {
        let key: Key
        let classic: Bool
        /// Set only for ids that do not come from the key bits (hand-made observations).
        let explicitTransactionId: String?
        let nested: Bool
        let firstFrame: Int
        let firstTime: CaptureTime
        /// Retransmissions: the first two in the value, so a check sent twice allocates nothing.
        var moreFrames: InlineList<Int> = []
        var moreTimes: InlineList<CaptureTime> = []
        /// Which request this is (the matcher's count when it arrived): tells a slot's
        /// current occupant from an earlier one in `order`.
        let serial: Int
        init(key: Key, classic: Bool, explicitTransactionId: String?, nested: Bool, frame: Int, time: CaptureTime, serial: Int) {
            self.serial = serial
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
        /// The request's 5-tuple (client -> server).
        var requestFlow: FiveTuple
        /// The answer came from another server address/port or went to another client port.
        var redirected: Bool
    }

    static let timeoutNanoseconds: Int64 = 39_500_000_000
    /// The same request on another 5-tuple within this long is one request sent on two paths.
    static let copyWindowNanoseconds: Int64 = 5_000_000_000

    var maxPending = 100_000
    var maxKeptSummaries = 50_000

    /// A pending request's place: its slot, and its serial (the slot may have been reused since).
    private struct Ticket {
        var slot: Int
        var serial: Int
    }
    /// Pending requests; nil slots are free (listed in `freeSlots`) for the next request.
    private var slots: [Pending?] = []
    private var freeSlots: [Int] = []
    private var pending: [Key: Int] = [:]
    /// Pending requests by transaction id (see the type's comment); the latest one per id.
    private var byId: [TransactionKeyBits: Int] = [:]
    /// Pending transactions in arrival order (entries already answered are skipped).
    private var order: [Ticket] = []
    private var orderHead = 0
    /// Finished transactions as values (no text): `summaries` writes them out at the end.
    private var kept: [KeptTransaction] = []
    /// Every finished transaction (up to `maxKeptSummaries`), in order of first request.
    var summaries: [TransactionSummary] { kept.map(\.summary) }
    private(set) var total = 0
    private(set) var unanswered = 0
    private(set) var retransmissions = 0
    private(set) var evicted = 0
    private(set) var summariesDropped = 0

    /// What a request turned out to be.
    enum RequestKind {
        case new, retransmission
        /// A proprietary answer to a pending request (same id, reversed 5-tuple, own message type).
        case answer(Match)
        /// The same request on another 5-tuple (sent on two paths, or seen again after a NAT).
        case copy
    }

    /// A request: new, a retransmission of a pending one, an application's own answer, or a copy.
    mutating func classify(_ m: ObservedStunMessage) -> RequestKind {
        expire(now: m.context.time)
        let key = Key(flow: m.flow, id: m.transactionKey, method: m.method)
        if let slot = pending[key] {
            slots[slot]!.moreFrames.append(m.context.frame)
            slots[slot]!.moreTimes.append(m.context.time)
            retransmissions &+= 1
            return .retransmission
        }
        if let slot = byId[m.transactionKey], let other = slots[slot] {
            if other.key.flow == m.flow.reversed {
                return .answer(complete(slot, response: m, state: .success))
            }
            // Within moments of the first send: clients that reuse a fixed id (all zeros) for
            // unrelated requests stay separate transactions.
            if other.key.method == m.method, m.context.time.nanoseconds &- other.firstTime.nanoseconds < TransactionMatcher.copyWindowNanoseconds {
                return .copy
            }
        }
        if pending.count >= maxPending { evictOldest() }
        let p = Pending(key: key, classic: m.classic, explicitTransactionId: m.explicitTransactionId,
                        nested: m.carrier != nil, frame: m.context.frame, time: m.context.time, serial: total)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = p
        } else {
            slot = slots.count
            slots.append(p)
        }
        pending[key] = slot
        byId[key.id] = slot
        order.append(Ticket(slot: slot, serial: p.serial))
        total &+= 1
        return .new
    }

    /// A response; returns the match when its request was seen.
    mutating func response(_ m: ObservedStunMessage) -> Match? {
        // A request past its 39.5 s has timed out: a later answer does not revive it.
        expire(now: m.context.time)
        let key = Key(flow: m.flow.reversed, id: m.transactionKey, method: m.method)
        let slot: Int
        if let exact = pending[key] {
            slot = exact
        } else if let other = byId[m.transactionKey], slots[other]?.key.method == m.method {
            slot = other
        } else {
            return nil
        }
        return complete(slot, response: m, state: m.messageClass == .success ? .success : .error)
    }

    private mutating func complete(_ slot: Int, response m: ObservedStunMessage, state: TransactionState) -> Match {
        let p = retire(slot)
        // Karn's rule (RFC 6298 section 3): no RTT sample from a retransmitted request.
        let rtt: Double? = p.moreFrames.isEmpty ? m.context.time.seconds(since: p.firstTime) : nil
        let elsewhere = m.flow.reversed != p.key.flow
        record(p, state: state, response: m, rtt: rtt,
               responseFlow: elsewhere ? m.flow : nil)
        return Match(firstRequest: p.firstTime, lastRequest: p.lastTime, requestFrame: p.firstFrame,
                     retransmissions: p.moreFrames.count, rtt: rtt, requestFlow: p.key.flow, redirected: elsewhere)
    }

    /// No longer pending (answered, timed out, evicted): frees its slot and drops its index entries.
    private mutating func retire(_ slot: Int) -> Pending {
        let p = slots[slot]!
        slots[slot] = nil
        freeSlots.append(slot)
        pending.removeValue(forKey: p.key)
        if byId[p.key.id] == slot { byId.removeValue(forKey: p.key.id) }
        return p
    }

    /// Whether `ticket`'s request is still pending (its slot not freed nor reused since).
    private func isPending(_ ticket: Ticket) -> Bool {
        slots[ticket.slot]?.serial == ticket.serial
    }

    private mutating func record(_ p: Pending, state: TransactionState, response: ObservedStunMessage?, rtt: Double?,
                                 responseFlow: FiveTuple? = nil) {
        if state == .unanswered || state == .timedOut { unanswered &+= 1 }
        guard kept.count < maxKeptSummaries else {
            summariesDropped &+= 1
            return
        }
        kept.append(KeptTransaction(request: p, state: state, responseFrame: response?.context.frame,
                                    responseTime: response?.context.time, errorCode: response?.errorCode,
                                    responseFlow: responseFlow, rtt: rtt))
    }

    private mutating func expire(now: CaptureTime) {
        while orderHead < order.count {
            let ticket = order[orderHead]
            guard isPending(ticket) else {
                orderHead &+= 1
                continue
            }
            guard now.nanoseconds &- slots[ticket.slot]!.firstTime.nanoseconds > TransactionMatcher.timeoutNanoseconds else { break }
            let p = retire(ticket.slot)
            record(p, state: .timedOut, response: nil, rtt: nil)
            orderHead &+= 1
        }
        compact()
    }

    private mutating func evictOldest() {
        while orderHead < order.count {
            let ticket = order[orderHead]
            orderHead &+= 1
            if isPending(ticket) {
                let p = retire(ticket.slot)
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
            order = order[orderHead...].filter(isPending)
            orderHead = 0
        }
    }

    /// End of capture: what is still pending was never answered.
    mutating func finish(at end: CaptureTime) {
        let rest = order[orderHead...].filter(isPending).map { slots[$0.slot]! }
        pending.removeAll()
        byId.removeAll()
        order.removeAll()
        orderHead = 0
        slots.removeAll()
        freeSlots.removeAll()
        for p in rest {
            let timedOut = end.nanoseconds &- p.firstTime.nanoseconds > TransactionMatcher.timeoutNanoseconds
            record(p, state: timedOut ? .timedOut : .unanswered, response: nil, rtt: nil)
        }
        kept.sort { $0.request.firstTime.epochSeconds < $1.request.firstTime.epochSeconds }
    }
}

/// A finished transaction as the matcher keeps it: its request (frames, times, key) and what
/// answered it, as values; the text of its summary is written once, at the end.
struct KeptTransaction {
    let request: TransactionMatcher.Pending
    var state: TransactionState
    var responseFrame: Int?
    var responseTime: CaptureTime?
    var errorCode: Int?
    /// Where the answer travelled when not on the request's reversed 5-tuple.
    var responseFlow: FiveTuple?
    var rtt: Double?

    var summary: TransactionSummary {
        let p = request
        var spacing: [Double] = []
        let times = p.times
        if times.count > 1 {
            for i in 1..<times.count { spacing.append(times[i].seconds(since: times[i - 1])) }
        }
        return TransactionSummary(
            transactionId: p.transactionId, method: p.key.method.name,
            client: p.key.flow.source.description, server: p.key.flow.destination.description,
            transport: p.key.flow.transport,
            firstRequest: p.firstTime.epochSeconds, lastRequest: p.lastTime.epochSeconds,
            requestFrames: p.frames, retransmissions: p.moreFrames.count, retransmissionSpacing: spacing,
            state: state, responseFrame: responseFrame, responseTime: responseTime?.epochSeconds,
            errorCode: errorCode, responseFlow: responseFlow.map { "\($0.source) -> \($0.destination)" }, rtt: rtt,
            nested: p.nested)
    }
}
