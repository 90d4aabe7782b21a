import NetworkVocabulary
import StunWire

/// One direction of a TCP connection under dissection.
final class StreamDirection {
    let flow: FiveTuple
    let framer: StunStreamFramer

    init(flow: FiveTuple, framer: StunStreamFramer) {
        self.flow = flow
        self.framer = framer
    }
}

/// Both directions of one TCP connection (tshark stream index).
final class TrackedStream {
    let stream: Int
    let connectionStart: Bool
    var forward: StreamDirection?
    var backward: StreamDirection?
    /// The flow of the first bytes or event seen: defines "forward".
    let forwardFlow: FiveTuple
    var lastSeen: Int64

    init(stream: Int, forwardFlow: FiveTuple, connectionStart: Bool, now: Int64) {
        self.stream = stream
        self.forwardFlow = forwardFlow
        self.connectionStart = connectionStart
        self.lastSeen = now
    }

    func direction(for flow: FiveTuple, channelDataAllowed: Bool) -> StreamDirection {
        if flow == forwardFlow {
            if let forward { return forward }
            let made = StreamDirection(flow: flow, framer: StunStreamFramer(channelDataAllowed: channelDataAllowed,
                                                                            connectionStart: connectionStart))
            forward = made
            return made
        }
        if let backward { return backward }
        let made = StreamDirection(flow: flow, framer: StunStreamFramer(channelDataAllowed: channelDataAllowed,
                                                                        connectionStart: connectionStart))
        backward = made
        return made
    }

    func existingDirection(for flow: FiveTuple) -> StreamDirection? {
        flow == forwardFlow ? forward : backward
    }
}

/// The TCP connections being framed, bounded in number: when full, the
/// least recently active eighth is dropped at once (so a flood of new
/// connections costs one sort per many inserts), and counted.
final class TCPStreamTable {
    let capacity: Int
    private(set) var evicted = 0
    private var streams: [Int: TrackedStream] = [:]

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { streams.count }

    func stream(_ index: Int, flow: FiveTuple, connectionStart: Bool, now: Int64) -> TrackedStream {
        if let existing = streams[index] {
            existing.lastSeen = now
            return existing
        }
        if streams.count >= capacity { evictLeastRecent() }
        let made = TrackedStream(stream: index, forwardFlow: flow, connectionStart: connectionStart, now: now)
        streams[index] = made
        return made
    }

    func existing(_ index: Int) -> TrackedStream? { streams[index] }

    func remove(_ index: Int) -> TrackedStream? { streams.removeValue(forKey: index) }

    var all: [TrackedStream] { Array(streams.values) }

    private func evictLeastRecent() {
        var times = streams.values.map(\.lastSeen)
        times.sort()
        let cutoff = times[max(0, times.count / 8 - 1)]
        let before = streams.count
        streams = streams.filter { $0.value.lastSeen > cutoff }
        evicted &+= before &- streams.count
    }
}
