import NetworkVocabulary

/// Per-connection, per-direction in-order TCP byte streams.
///
/// In-order segments are handed on without copying; only out-of-order
/// segments are buffered, up to `maxBufferedPerDirection`. Retransmitted and
/// overlapping bytes are trimmed (first copy wins). When the buffer is full
/// or the connection ends with holes, the hole is reported as a gap so the
/// framer above can resynchronise. Connections are evicted when idle or when
/// the table is full, and every eviction is counted.
struct TCPReassembler {
    struct ConnectionKey: Hashable {
        var low: Endpoint
        var high: Endpoint
    }

    struct Segment {
        var context: FrameContext
        var flow: FiveTuple
        var sequence: UInt32
        var syn: Bool
        var ack: Bool
        var fin: Bool
        var rst: Bool
        var payload: UnsafeRawBufferPointer
    }

    private struct Direction {
        var initialized = false
        var nextSequence: UInt32 = 0
        var delivered: UInt64 = 0
        var pending: [(sequence: UInt32, bytes: [UInt8])] = []
        var pendingBytes = 0
        var finished = false
    }

    private final class Connection {
        let stream: Int
        let clientFlow: FiveTuple
        var directions = [Direction(), Direction()]
        var lastSeen: CaptureTime
        var closed = false
        init(stream: Int, clientFlow: FiveTuple, lastSeen: CaptureTime) {
            self.stream = stream
            self.clientFlow = clientFlow
            self.lastSeen = lastSeen
        }
    }

    var maxConnections = 65_536
    var maxBufferedPerDirection = 256 << 10
    /// Out-of-order bytes buffered over all connections: without it, every
    /// connection of a full table could hold `maxBufferedPerDirection` twice.
    var maxBufferedTotal = 64 << 20
    private(set) var bufferedTotal = 0
    var idleTimeoutNanoseconds: Int64 = 600_000_000_000

    private var connections: [ConnectionKey: Connection] = [:]
    private var creationOrder: [(ConnectionKey, Int)] = []
    private var creationHead = 0
    private var lastSweep: CaptureTime?

    private(set) var streamsCreated = 0
    private(set) var retransmittedSegments = 0
    private(set) var outOfOrderSegments = 0
    private(set) var gaps = 0
    private(set) var gapBytes: UInt64 = 0
    private(set) var evicted = 0

    mutating func process(_ s: Segment, sink: TransportSink) {
        sweepIfDue(now: s.context.time, sink: sink)
        let forward = s.flow.source <= s.flow.destination
        let key = forward ? ConnectionKey(low: s.flow.source, high: s.flow.destination)
                          : ConnectionKey(low: s.flow.destination, high: s.flow.source)
        var conn = connections[key]
        if let c = conn, c.closed {
            // A fresh SYN after a close is a new connection (tshark starts a new stream too);
            // anything else on a closed connection is its tail (last ACKs).
            guard s.syn && !s.ack else {
                c.lastSeen = s.context.time
                return
            }
            connections.removeValue(forKey: key)
            conn = nil
        }
        let connection: Connection
        if let c = conn {
            connection = c
        } else {
            if connections.count >= maxConnections { evictOldest(sink: sink, at: s.context) }
            // The SYN's sender is the client; without a SYN, the first sender (or SYN-ACK's receiver).
            let clientFlow = (s.syn && s.ack) ? s.flow.reversed : s.flow
            connection = Connection(stream: streamsCreated, clientFlow: clientFlow, lastSeen: s.context.time)
            streamsCreated &+= 1
            connections[key] = connection
            creationOrder.append((key, connection.stream))
            if creationOrder.count - creationHead > 2 * maxConnections + 4096 {
                // Connections closed and swept never reach the head: keep only live entries.
                creationOrder = creationOrder[creationHead...].filter { connections[$0.0]?.stream == $0.1 }
                creationHead = 0
            }
            sink.tcpEvent(TCPStreamEvent(context: s.context, stream: connection.stream, flow: clientFlow,
                                         kind: .opened(sawHandshake: s.syn)))
        }
        connection.lastSeen = s.context.time
        let d = forward ? 0 : 1
        if s.syn {
            if !connection.directions[d].initialized || connection.directions[d].delivered == 0 {
                connection.directions[d].initialized = true
                connection.directions[d].nextSequence = s.sequence &+ 1
            }
        } else if !connection.directions[d].initialized {
            connection.directions[d].initialized = true
            connection.directions[d].nextSequence = s.sequence
        }
        if !s.payload.isEmpty {
            let dataSequence = s.syn ? s.sequence &+ 1 : s.sequence
            accept(connection, d, sequence: dataSequence, payload: s.payload, context: s.context, flow: s.flow, sink: sink)
        }
        if s.fin { connection.directions[d].finished = true }
        if s.rst || (connection.directions[0].finished && connection.directions[1].finished) {
            close(connection, key: key, reason: s.rst ? .reset : .fin, context: s.context, sink: sink, remove: false)
        }
    }

    private mutating func accept(_ c: Connection, _ d: Int, sequence: UInt32, payload: UnsafeRawBufferPointer,
                                 context: FrameContext, flow: FiveTuple, sink: TransportSink) {
        let next = c.directions[d].nextSequence
        let relative = Int64(Int32(bitPattern: sequence &- next))
        if relative <= 0 {
            let skip = Int(-relative)
            guard skip < payload.count else {
                retransmittedSegments &+= 1
                return
            }
            if skip > 0 { retransmittedSegments &+= 1 }
            deliver(c, d, UnsafeRawBufferPointer(rebasing: payload[skip...]), context: context, flow: flow, sink: sink)
            drain(c, d, context: context, flow: flow, sink: sink)
            return
        }
        outOfOrderSegments &+= 1
        if c.directions[d].pendingBytes &+ payload.count > maxBufferedPerDirection
            || bufferedTotal &+ payload.count > maxBufferedTotal {
            // Buffer full: give up on the hole before the earliest buffered data.
            skipToEarliest(c, d, orAt: sequence, context: context, flow: flow, sink: sink)
            accept(c, d, sequence: sequence, payload: payload, context: context, flow: flow, sink: sink)
            return
        }
        var i = c.directions[d].pending.count
        while i > 0 && Int32(bitPattern: c.directions[d].pending[i - 1].sequence &- sequence) > 0 { i -= 1 }
        c.directions[d].pending.insert((sequence, [UInt8](payload)), at: i)
        c.directions[d].pendingBytes &+= payload.count
        bufferedTotal &+= payload.count
    }

    private mutating func skipToEarliest(_ c: Connection, _ d: Int, orAt sequence: UInt32,
                                         context: FrameContext, flow: FiveTuple, sink: TransportSink) {
        var target = sequence
        if let first = c.directions[d].pending.first, Int32(bitPattern: first.sequence &- sequence) < 0 {
            target = first.sequence
        }
        let delta = Int32(bitPattern: target &- c.directions[d].nextSequence)
        guard delta > 0 else {
            drain(c, d, context: context, flow: flow, sink: sink)
            return
        }
        let missing = UInt64(delta)
        gaps &+= 1
        gapBytes &+= missing
        c.directions[d].nextSequence = target
        c.directions[d].delivered &+= missing
        sink.tcpEvent(TCPStreamEvent(context: context, stream: c.stream, flow: flow, kind: .gap(missingBytes: missing)))
        drain(c, d, context: context, flow: flow, sink: sink)
    }

    private mutating func deliver(_ c: Connection, _ d: Int, _ bytes: UnsafeRawBufferPointer,
                                  context: FrameContext, flow: FiveTuple, sink: TransportSink) {
        guard !bytes.isEmpty else { return }
        let offset = c.directions[d].delivered
        c.directions[d].nextSequence = c.directions[d].nextSequence &+ UInt32(truncatingIfNeeded: bytes.count)
        c.directions[d].delivered &+= UInt64(bytes.count)
        sink.tcpData(TCPStreamData(context: context, stream: c.stream, flow: flow, streamOffset: offset, payload: bytes))
    }

    private mutating func drain(_ c: Connection, _ d: Int, context: FrameContext, flow: FiveTuple, sink: TransportSink) {
        while let first = c.directions[d].pending.first {
            let relative = Int64(Int32(bitPattern: first.sequence &- c.directions[d].nextSequence))
            guard relative <= 0 else { return }
            c.directions[d].pending.removeFirst()
            c.directions[d].pendingBytes &-= first.bytes.count
            bufferedTotal &-= first.bytes.count
            let skip = Int(-relative)
            if skip < first.bytes.count {
                first.bytes.withUnsafeBytes { raw in
                    deliver(c, d, UnsafeRawBufferPointer(rebasing: raw[skip...]), context: context, flow: flow, sink: sink)
                }
            }
        }
    }

    private mutating func close(_ c: Connection, key: ConnectionKey, reason: TCPCloseReason,
                                context: FrameContext, sink: TransportSink, remove: Bool) {
        guard !c.closed else {
            if remove { connections.removeValue(forKey: key) }
            return
        }
        for d in 0..<2 where !c.directions[d].pending.isEmpty {
            let flow = d == 0 ? FiveTuple(source: key.low, destination: key.high, transport: .tcp)
                              : FiveTuple(source: key.high, destination: key.low, transport: .tcp)
            while !c.directions[d].pending.isEmpty {
                skipToEarliest(c, d, orAt: c.directions[d].pending[0].sequence, context: context, flow: flow, sink: sink)
            }
        }
        c.closed = true
        sink.tcpEvent(TCPStreamEvent(context: context, stream: c.stream, flow: c.clientFlow, kind: .closed(reason: reason)))
        if remove { connections.removeValue(forKey: key) }
    }

    private mutating func evictOldest(sink: TransportSink, at context: FrameContext) {
        while creationHead < creationOrder.count {
            let (key, stream) = creationOrder[creationHead]
            creationHead &+= 1
            if let c = connections[key], c.stream == stream {
                if !c.closed { evicted &+= 1 }
                close(c, key: key, reason: .capacityEvicted, context: context, sink: sink, remove: true)
                break
            }
        }
        if creationHead > 4096 && creationHead * 2 > creationOrder.count {
            creationOrder.removeFirst(creationHead)
            creationHead = 0
        }
    }

    private mutating func sweepIfDue(now: CaptureTime, sink: TransportSink) {
        guard let last = lastSweep else {
            lastSweep = now
            return
        }
        guard now.nanoseconds &- last.nanoseconds > 10_000_000_000 else { return }
        lastSweep = now
        let ctx = FrameContext(frame: 0, time: now)
        var idle: [(ConnectionKey, Connection)] = []
        for (k, c) in connections where now.nanoseconds &- c.lastSeen.nanoseconds > idleTimeoutNanoseconds {
            idle.append((k, c))
        }
        for (k, c) in idle {
            if !c.closed { evicted &+= 1 }
            close(c, key: k, reason: .idleEvicted, context: ctx, sink: sink, remove: true)
        }
    }

    /// End of input: flush holes and close what is open.
    mutating func finish(sink: TransportSink, at context: FrameContext) {
        let all = connections.sorted { $0.value.stream < $1.value.stream }
        for (k, c) in all {
            close(c, key: k, reason: .endOfCapture, context: context, sink: sink, remove: true)
        }
    }

    var openConnections: Int { connections.count }
}
