import LiveMonitoring
import NetworkVocabulary
import Testing

/// The hand-off between `live`'s capture and analysis threads: packets come out
/// byte for byte and in order, slabs are published when full or when the
/// analysis is idle, and a full queue sheds whole packets and counts them.
@Suite("Live packet queue")
struct PacketQueueTests {
    /// Packet `n`: `size` bytes `n, n+1, ...` (mod 256), frame `n`, time `n` s + `n` ns.
    static func withPacket(_ n: Int, size: Int, _ body: (CapturedPacket) -> Void) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: n + $0) }
        bytes.withUnsafeBytes { raw in
            body(CapturedPacket(frameNumber: n, fileIndex: 0, time: CaptureTime(seconds: Int64(n), nanoseconds: Int64(n)),
                                linkType: .ethernet, originalLength: size + 1_000, bytes: raw))
        }
    }

    /// What one packet looked like when it came out of the queue.
    struct Seen: Equatable {
        var frame: Int
        var bytes: [UInt8]
        var time: CaptureTime
        var originalLength: Int
    }

    static func expected(_ n: Int, size: Int) -> Seen {
        Seen(frame: n, bytes: (0..<size).map { UInt8(truncatingIfNeeded: n + $0) },
             time: CaptureTime(seconds: Int64(n), nanoseconds: Int64(n)), originalLength: size + 1_000)
    }

    /// Drains one batch without waiting; nil when none is published.
    static func drainOne(_ queue: PacketQueue) -> [Seen]? {
        var seen: [Seen] = []
        let n = queue.drain(timeout: 0) { p in
            seen.append(Seen(frame: p.frameNumber, bytes: [UInt8](p.bytes), time: p.time, originalLength: p.originalLength))
        }
        guard let n else { return nil }
        #expect(n == seen.count)
        return seen
    }

    @Test("a slab is published when the next packet does not fit its bytes or its records")
    func slabsFillByBytesAndByCount() {
        let queue = PacketQueue(slabBytes: 100, slabPackets: 3, slabCount: 4)
        var filler = PacketQueue.Filler(queue: queue)
        // 40 + 40 fit 100 bytes, 40 more does not; then three of 10 bytes fill the records.
        let sizes = [40, 40, 40, 10, 10, 10, 0]
        for (i, size) in sizes.enumerated() { Self.withPacket(i + 1, size: size) { filler.append($0) } }
        #expect(Self.drainOne(queue) == [Self.expected(1, size: 40), Self.expected(2, size: 40)])
        #expect(Self.drainOne(queue) == [Self.expected(3, size: 40), Self.expected(4, size: 10), Self.expected(5, size: 10)])
        // The third slab (packets 6 and 7) is still being filled.
        #expect(Self.drainOne(queue) == nil)
        #expect(filler.holdsPackets)
        filler.handOver()
        #expect(Self.drainOne(queue) == [Self.expected(6, size: 10), Self.expected(7, size: 0)])
        #expect(!filler.holdsPackets)
        #expect(queue.shedCount == 0)
    }

    @Test("the slab being filled is held back while the analysis has batches queued")
    func handOverOnlyWhenIdle() {
        let queue = PacketQueue(slabBytes: 1_000, slabPackets: 2, slabCount: 4)
        var filler = PacketQueue.Filler(queue: queue)
        for n in 1...3 { Self.withPacket(n, size: 20) { filler.append($0) } }
        filler.handOver()
        #expect(filler.holdsPackets)
        #expect(Self.drainOne(queue) == [Self.expected(1, size: 20), Self.expected(2, size: 20)])
        filler.handOver()
        #expect(!filler.holdsPackets)
        #expect(Self.drainOne(queue) == [Self.expected(3, size: 20)])
    }

    @Test("with every slab full, whole packets are shed and counted; drained slabs are reused")
    func shedsWhenFull() {
        let queue = PacketQueue(slabBytes: 1_000, slabPackets: 2, slabCount: 2)
        var filler = PacketQueue.Filler(queue: queue)
        for n in 1...7 { Self.withPacket(n, size: 30) { filler.append($0) } }
        // Packets 1-4 fill both slabs; 5, 6 and 7 find no free slab.
        #expect(queue.shedCount == 0)
        filler.handOver()
        #expect(queue.shedCount == 3)
        #expect(Self.drainOne(queue) == [Self.expected(1, size: 30), Self.expected(2, size: 30)])
        #expect(Self.drainOne(queue) == [Self.expected(3, size: 30), Self.expected(4, size: 30)])
        #expect(Self.drainOne(queue) == nil)
        for n in 8...9 { Self.withPacket(n, size: 30) { filler.append($0) } }
        filler.finish()
        #expect(Self.drainOne(queue) == [Self.expected(8, size: 30), Self.expected(9, size: 30)])
        #expect(queue.shedCount == 3)
    }

    @Test("a packet larger than a slab is shed")
    func oversizedPacketIsShed() {
        let queue = PacketQueue(slabBytes: 64, slabPackets: 4, slabCount: 2)
        var filler = PacketQueue.Filler(queue: queue)
        Self.withPacket(1, size: 65) { filler.append($0) }
        Self.withPacket(2, size: 64) { filler.append($0) }
        filler.finish()
        #expect(queue.shedCount == 1)
        #expect(Self.drainOne(queue) == [Self.expected(2, size: 64)])
    }

    @Test("closed: what was published is still drained, then drain returns nil at once")
    func closeDrainsTheRest() {
        let queue = PacketQueue(slabBytes: 100, slabPackets: 4, slabCount: 2)
        var filler = PacketQueue.Filler(queue: queue)
        Self.withPacket(1, size: 5) { filler.append($0) }
        filler.finish()
        queue.close()
        #expect(!queue.isClosedAndEmpty)
        #expect(Self.drainOne(queue) == [Self.expected(1, size: 5)])
        #expect(queue.isClosedAndEmpty)
        #expect(queue.drain(timeout: 60) { _ in } == nil)
    }
}
