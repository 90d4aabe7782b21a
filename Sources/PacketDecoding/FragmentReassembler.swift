import NetworkVocabulary

/// IPv4 and IPv6 fragment reassembly with hard bounds.
///
/// Overlapping fragments are a classic evasion and crash vector; following
/// RFC 5722 any overlap that is not an exact duplicate discards the whole
/// datagram. Memory is capped by datagram count and total buffered bytes;
/// incomplete datagrams expire after `timeout` seconds of capture time
/// (Linux's ipfrag_time) and the oldest are evicted first when full.
struct FragmentReassembler {
    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var protocolNumber: UInt8
    }

    private final class Pending {
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        var totalLength: Int?
        var buffered = 0
        let firstSeen: CaptureTime
        let generation: Int
        init(firstSeen: CaptureTime, generation: Int) {
            self.firstSeen = firstSeen
            self.generation = generation
        }
    }

    static let maxDatagramSize = 65_535

    var maxDatagrams = 4_096
    var maxBufferedBytes = 16 << 20
    var timeoutNanoseconds: Int64 = 30_000_000_000

    private var table: [Key: Pending] = [:]
    /// Creation order, for eviction of the oldest; stale entries are skipped lazily.
    private var order: [(key: Key, generation: Int)] = []
    private var orderHead = 0
    private var nextGeneration = 0
    private var bufferedBytes = 0

    private(set) var evicted = 0
    private(set) var droppedOverlap = 0

    enum Outcome {
        case incomplete
        case complete([UInt8])
        case dropped
    }

    /// Adds a fragment (its payload after the IP header(s)); returns the whole datagram payload when complete.
    mutating func add(key: Key, offset: Int, moreFragments: Bool, payload: UnsafeRawBufferPointer,
                      time: CaptureTime) -> Outcome {
        expire(now: time)
        let end = offset &+ payload.count
        guard end <= FragmentReassembler.maxDatagramSize else {
            discard(key)
            droppedOverlap &+= 1
            return .dropped
        }
        let pending: Pending
        if let p = table[key] {
            pending = p
        } else {
            while table.count >= maxDatagrams || bufferedBytes &+ payload.count > maxBufferedBytes {
                guard evictOldest() else { break }
            }
            pending = Pending(firstSeen: time, generation: nextGeneration)
            table[key] = pending
            order.append((key, nextGeneration))
            nextGeneration &+= 1
            compactOrder()
        }
        // Exact duplicates are retransmissions; any other overlap poisons the datagram.
        for piece in pending.pieces {
            let pieceEnd = piece.offset &+ piece.bytes.count
            if piece.offset == offset && pieceEnd == end { return .incomplete }
            if offset < pieceEnd && piece.offset < end {
                discard(key)
                droppedOverlap &+= 1
                return .dropped
            }
        }
        if !moreFragments {
            if let t = pending.totalLength, t != end {
                discard(key)
                droppedOverlap &+= 1
                return .dropped
            }
            pending.totalLength = end
            // Data beyond the end is as inconsistent as an overlap (and would not fit the datagram).
            if pending.pieces.contains(where: { $0.offset &+ $0.bytes.count > end }) {
                discard(key)
                droppedOverlap &+= 1
                return .dropped
            }
        }
        if let t = pending.totalLength, end > t {
            discard(key)
            droppedOverlap &+= 1
            return .dropped
        }
        pending.pieces.append((offset, [UInt8](payload)))
        pending.buffered &+= payload.count
        bufferedBytes &+= payload.count

        guard let total = pending.totalLength else { return .incomplete }
        var covered = 0
        for piece in pending.pieces { covered &+= piece.bytes.count }
        guard covered == total else { return .incomplete }
        // No overlaps and total coverage: the pieces tile [0, total).
        var whole = [UInt8](repeating: 0, count: total)
        for piece in pending.pieces {
            whole.replaceSubrange(piece.offset..<(piece.offset &+ piece.bytes.count), with: piece.bytes)
        }
        discard(key)
        return .complete(whole)
    }

    private mutating func discard(_ key: Key) {
        if let p = table.removeValue(forKey: key) { bufferedBytes &-= p.buffered }
    }

    private mutating func evictOldest() -> Bool {
        while orderHead < order.count {
            let (key, gen) = order[orderHead]
            orderHead &+= 1
            if let p = table[key], p.generation == gen {
                discard(key)
                evicted &+= 1
                compactOrder()
                return true
            }
        }
        compactOrder()
        return false
    }

    private mutating func expire(now: CaptureTime) {
        while orderHead < order.count {
            let (key, gen) = order[orderHead]
            guard let p = table[key], p.generation == gen else {
                orderHead &+= 1
                continue
            }
            guard now.nanoseconds &- p.firstSeen.nanoseconds > timeoutNanoseconds else { break }
            discard(key)
            evicted &+= 1
            orderHead &+= 1
        }
        compactOrder()
    }

    private mutating func compactOrder() {
        if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        // Completed datagrams leave stale entries behind a live oldest one that does
        // not expire (capture time standing still or going backwards): drop them
        // so the queue stays proportional to the table.
        if order.count - orderHead > 2 * maxDatagrams + 1024 {
            order = order[orderHead...].filter { entry in table[entry.key]?.generation == entry.generation }
            orderHead = 0
        }
    }

    var pendingDatagrams: Int { table.count }
}
