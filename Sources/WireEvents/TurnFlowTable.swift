import NetworkVocabulary

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

    /// `serverPorts` as a 65,536-bit map: checked for every datagram, so no hashing.
    private let portBits: [UInt64]

    init(serverPorts: Set<UInt16>, capacity: Int, idleTimeoutSeconds: Double) {
        self.serverPorts = serverPorts
        var bits = [UInt64](repeating: 0, count: 1024)
        for p in serverPorts { bits[Int(p >> 6)] |= 1 << UInt64(p & 63) }
        self.portBits = bits
        self.capacity = max(1, capacity)
        self.idleTimeoutNanoseconds = Int64(idleTimeoutSeconds * 1e9)
    }

    var count: Int { lastSeen.count }

    @inline(__always) func isServerPort(_ p: UInt16) -> Bool {
        portBits[Int(p >> 6)] & (1 << UInt64(p & 63)) != 0
    }

    /// True when ChannelData may appear on `flow`; refreshes its idle timer.
    func isTurn(_ flow: FiveTuple, at time: CaptureTime) -> Bool {
        if isServerPort(flow.source.port) || isServerPort(flow.destination.port) { return true }
        let key = flow.canonical
        guard let i = lastSeen.index(forKey: key) else { return false }
        lastSeen.values[i] = time.nanoseconds
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
