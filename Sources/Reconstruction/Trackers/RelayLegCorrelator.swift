import NetworkVocabulary

/// Pairs the two legs of relayed data at a TURN server: what arrives on one
/// leg (Send / ChannelData from the client, or raw UDP from the peer) and
/// leaves on the other with the same application payload. The difference
/// of the timestamps is the server's forwarding delay — the 10-step relay exchange of docs/relay-exchange.md (RFC 8656 sections 11-12),
/// picture measured.
///
/// Bounded: at most `capacity` unmatched arrivals per direction; an arrival
/// not forwarded within `window` seconds is counted as never forwarded.
struct RelayLegCorrelator {
    struct Arrival {
        var hash: UInt64
        var time: CaptureTime
        var frame: Int
        var peer: Endpoint
    }

    var capacity = 4_096
    var windowNanoseconds: Int64 = 5_000_000_000
    /// How far into the queue a departure looks for its arrival (reordering tolerance).
    var searchDepth = 64

    private var queue: [Arrival] = []
    private var head = 0
    private(set) var delays: [Endpoint: DelayReservoir] = [:]
    private(set) var neverForwarded: [Endpoint: Int] = [:]
    private(set) var evicted = 0

    mutating func arrived(_ a: Arrival) {
        ageOut(now: a.time)
        if queue.count - head >= capacity {
            noteNeverForwarded(queue[head].peer)
            head &+= 1
            evicted &+= 1
        }
        queue.append(a)
        compact()
    }

    /// A departure on the other leg; returns the delay when it matches an arrival.
    @discardableResult
    mutating func departed(hash: UInt64, time: CaptureTime, peer: Endpoint) -> Double? {
        ageOut(now: time)
        var i = head
        let limit = min(queue.count, head &+ searchDepth)
        while i < limit {
            if queue[i].hash == hash {
                let delay = time.seconds(since: queue[i].time)
                queue.remove(at: i)
                if delays[peer] != nil || delays.count < RelayLegCorrelator.maxPeers {
                    delays[peer, default: DelayReservoir()].add(delay)
                } else {
                    evicted &+= 1
                }
                return delay
            }
            i &+= 1
        }
        return nil
    }

    /// Peers with their own delay and never-forwarded counts (the allocation's peer bound).
    static let maxPeers = 4_096

    private mutating func noteNeverForwarded(_ peer: Endpoint) {
        if neverForwarded[peer] != nil || neverForwarded.count < RelayLegCorrelator.maxPeers {
            neverForwarded[peer, default: 0] &+= 1
        } else {
            evicted &+= 1
        }
    }

    private mutating func ageOut(now: CaptureTime) {
        while head < queue.count, now.nanoseconds &- queue[head].time.nanoseconds > windowNanoseconds {
            noteNeverForwarded(queue[head].peer)
            head &+= 1
        }
    }

    /// Drops the aged-out head once it is half the storage: memory follows the
    /// window's content, not the number of arrivals so far.
    private mutating func compact() {
        if head > 32 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    /// End of capture: arrivals older than the window were never forwarded; the
    /// last few may have left after the capture stopped, so they count as neither.
    mutating func finish(at end: CaptureTime) {
        ageOut(now: end)
        queue.removeAll()
        head = 0
    }
}

/// Forwarding delays of one peer, in bounded memory: the count and maximum are
/// exact; median and p95 come from a uniform reservoir sample of at most
/// `capacity` delays (exact while there are no more than that: the median and p95
/// of a long relay phase are estimates from 64 of its delays), so a long
/// relay phase costs no more memory than a short one. Deterministic.
struct DelayReservoir {
    static let capacity = 64
    private(set) var count = 0
    private(set) var maximum = 0.0
    private(set) var kept: [Double] = []
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func add(_ delay: Double) {
        count &+= 1
        if count == 1 || delay > maximum { maximum = delay }
        if kept.count < DelayReservoir.capacity {
            kept.append(delay)
            return
        }
        // Algorithm R with splitmix64: the new delay replaces a kept one with probability capacity/count.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let j = Int(z % UInt64(count))
        if j < DelayReservoir.capacity { kept[j] = delay }
    }

    var statistics: DelayStatistics? {
        guard var s = DelayStatistics(samples: kept) else { return nil }
        s.samples = count
        s.max = maximum
        return s
    }
}
