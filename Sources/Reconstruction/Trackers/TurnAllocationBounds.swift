import NetworkVocabulary

/// Per-allocation bounds (docs/SECURITY.md): one hostile client can send any
/// number of requests, peers and connection ids on a single allocation.
/// Beyond these, new items are counted (`stats.evicted.allocationDetail`),
/// not kept; everything already kept stays exact.
extension TurnAllocation {
    /// Requests awaiting their answer (a real client has a handful).
    static let maxOpenRequests = 256
    /// Distinct peer IPs with a permission.
    static let maxPermissions = 4_096
    /// Distinct peer endpoints with counters.
    static let maxPeers = 4_096
    /// RFC 6062 connections listed.
    static let maxTcpConnections = 1_024
    /// Granted lifetimes listed in `refreshes`.
    static let maxRefreshes = 1_000
    /// XOR-RELAYED-ADDRESS values kept from one success (RFC 8656 dual allocation: 2).
    static let maxRelayedAddresses = 4
    /// Entries of the tracker-wide indexes (connection ids, pending ConnectionBinds, data connections).
    static let maxIndexEntries = 65_536

    /// Remembers a request until its answer; returns 1 when an older unanswered one had to be forgotten.
    func rememberRequest(_ m: ObservedStunMessage) -> Int {
        var dropped = 0
        if openRequests.count >= TurnAllocation.maxOpenRequests, openRequests[m.transactionKey] == nil {
            openRequests.remove(at: openRequests.startIndex)
            dropped = 1
        }
        openRequests[m.transactionKey] = m
        return dropped
    }

    /// False (and counted) when `address` would be a new permission beyond the bound.
    func mayTrackPermission(_ address: IPAddress, dropped: inout Int) -> Bool {
        if permissions[address] != nil || permissions.count < TurnAllocation.maxPermissions { return true }
        dropped &+= 1
        return false
    }

    /// False when `e` is not tracked and the peer table is full.
    var peersFull: Bool { peers.count >= TurnAllocation.maxPeers }
}

/// A binary min-heap of (expiry instant, allocation), with stale entries
/// (refreshed or ended allocations) skipped by the caller. References are
/// weak: an evicted allocation must not stay in memory until its expiry.
struct ExpiryQueue {
    struct Entry {
        let time: CaptureTime
        weak var allocation: TurnAllocation?
    }

    private var heap: [Entry] = []

    var count: Int { heap.count }

    mutating func push(_ time: CaptureTime, _ allocation: TurnAllocation) {
        heap.append(Entry(time: time, allocation: allocation))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].time < heap[parent].time else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// The soonest entry when it is earlier than `now` (its allocation is nil once evicted).
    mutating func popDue(before now: CaptureTime) -> (CaptureTime, TurnAllocation?)? {
        guard let first = heap.first, first.time < now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count, heap[l].time < heap[smallest].time { smallest = l }
                if r < heap.count, heap[r].time < heap[smallest].time { smallest = r }
                guard smallest != i else { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        return (first.time, first.allocation)
    }

    /// Replaces the contents (drops stale entries once they dominate).
    mutating func rebuild(_ entries: [(CaptureTime, TurnAllocation)]) {
        heap = []
        heap.reserveCapacity(entries.count)
        for (t, a) in entries { push(t, a) }
    }
}
