import CaptureSource
import PacketDecoding

/// The 5-tuples known to carry TURN, where a first byte 0x40-0x7F starts a
/// ChannelData frame. A 5-tuple becomes known when a TURN method or TURN
/// attribute is seen on it, or when either port is a configured TURN server
/// port. Bounded: idle entries are dropped, and when the table is full the
/// oldest eighth goes; both are counted.
final class TurnFlowTable {
    let serverPorts: Set<UInt16>
    let capacity: Int
    let idleTimeoutNanoseconds: Int64
    private(set) var evicted = 0

    private var lastSeen: [FiveTuple: Int64] = [:]
    private var lastSweep: Int64 = .min

    init(serverPorts: Set<UInt16>, capacity: Int, idleTimeoutSeconds: Double) {
        self.serverPorts = serverPorts
        self.capacity = max(1, capacity)
        self.idleTimeoutNanoseconds = Int64(idleTimeoutSeconds * 1e9)
    }

    var count: Int { lastSeen.count }

    /// True when ChannelData may appear on `flow`; refreshes its idle timer.
    func isTurn(_ flow: FiveTuple, at time: CaptureTime) -> Bool {
        if serverPorts.contains(flow.source.port) || serverPorts.contains(flow.destination.port) { return true }
        let key = flow.canonical
        guard lastSeen[key] != nil else { return false }
        lastSeen[key] = time.nanoseconds
        return true
    }

    func markTurn(_ flow: FiveTuple, at time: CaptureTime) {
        let key = flow.canonical
        if lastSeen.updateValue(time.nanoseconds, forKey: key) == nil {
            sweepIfDue(now: time.nanoseconds)
            if lastSeen.count > capacity { evictOldest() }
        }
    }

    private func sweepIfDue(now: Int64) {
        guard now &- lastSweep > idleTimeoutNanoseconds / 4 || lastSweep == .min else { return }
        lastSweep = now
        let before = lastSeen.count
        let cutoff = now &- idleTimeoutNanoseconds
        lastSeen = lastSeen.filter { $0.value >= cutoff }
        evicted &+= before &- lastSeen.count
    }

    /// Drops the oldest eighth (by last use), so a full table costs one scan per many inserts.
    private func evictOldest() {
        var times = Array(lastSeen.values)
        let index = max(0, times.count / 8 - 1)
        // Quickselect-free: a partial sort is fine at this rarity.
        times.sort()
        let cutoff = times[index]
        let before = lastSeen.count
        lastSeen = lastSeen.filter { $0.value > cutoff }
        evicted &+= before &- lastSeen.count
    }
}
