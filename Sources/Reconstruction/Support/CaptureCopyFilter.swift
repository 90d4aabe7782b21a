import NetworkVocabulary

/// Recognises the second sighting of one packet captured at two points and
/// merged into one run (the client's and the server's capture of the same
/// exchange, a capture on each side of a bridge): a copy is not a new message,
/// so it must not count as a retransmission, answer a transaction twice or add
/// relay bytes.
///
/// The rule (docs/analyze.md, "Several capture files"): a STUN message,
/// ChannelData frame or other datagram is a copy when an earlier one of the same
/// kind on the same 5-tuple with the same payload bytes (hash and length) was
/// seen in a *different file* of the run at most `windowNanoseconds` before it.
/// Copies are left out of the session model entirely; only `stats.packets`
/// (frames read) counts them. Repeats within one file are never copies: a
/// sender's own retransmission is identical too, and one capture point sees a
/// frame once. Real STUN retransmissions are at least an RTO apart (500 ms by
/// RFC 8489; 100 ms and more in practice), far beyond the window, and a
/// retransmission is still counted when it is seen in both files (its first
/// sighting is new, its copy is not). Captures from different hosts need clocks
/// within the window of each other, or their copies look like retransmissions.
///
/// Bounded: sightings older than the window are forgotten, and at most
/// `maxTracked` are held (a flood beyond that is not deduplicated).
struct CaptureCopyFilter {
    static let windowNanoseconds: Int64 = 5_000_000
    static let maxTracked = 65_536

    enum Kind: UInt8 { case stun, channelData, datagram }

    private struct Key: Hashable {
        var flow: FiveTuple
        var hash: UInt64
        var length: Int
        var kind: Kind
    }

    private struct Sighting {
        var time: Int64
        var fileIndex: Int
    }

    private var latest: [Key: Sighting] = [:]
    /// Sightings in arrival order, for expiry (an entry whose key has a newer sighting is skipped).
    private var order: [(key: Key, time: Int64)] = []
    private var orderHead = 0
    /// Copies left out so far.
    private(set) var copies = 0

    /// True when this unit is a copy of one seen in another file (then it is not recorded).
    mutating func isCopy(_ kind: Kind, flow: FiveTuple, hash: UInt64, length: Int, context: FrameContext) -> Bool {
        let now = context.time.nanoseconds
        expire(now: now)
        let key = Key(flow: flow, hash: hash, length: length, kind: kind)
        if let s = latest[key], s.fileIndex != context.fileIndex,
           abs(now &- s.time) <= CaptureCopyFilter.windowNanoseconds {
            copies &+= 1
            return true
        }
        guard latest.count < CaptureCopyFilter.maxTracked || latest[key] != nil else { return false }
        latest[key] = Sighting(time: now, fileIndex: context.fileIndex)
        order.append((key, now))
        return false
    }

    private mutating func expire(now: Int64) {
        while orderHead < order.count, now &- order[orderHead].time > CaptureCopyFilter.windowNanoseconds {
            let e = order[orderHead]
            if latest[e.key]?.time == e.time { latest.removeValue(forKey: e.key) }
            orderHead &+= 1
        }
        if order.count - orderHead > 2 * CaptureCopyFilter.maxTracked {
            // Timestamps went far backwards and block expiry: start afresh rather than grow.
            latest.removeAll()
            order.removeAll()
            orderHead = 0
        } else if orderHead > 4096 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}
