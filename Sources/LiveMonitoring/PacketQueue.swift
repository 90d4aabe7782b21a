import Foundation
import NetworkVocabulary
import Pipeline

/// Hands packets from the capture thread to the analysis thread, a batch at a
/// time, without allocating per packet.
///
/// The memory is allocated once: `slabCount` slabs, each room for
/// `slabBytes` of packet bytes and `slabPackets` packet records. The capture
/// thread copies packets into a free slab (`Filler`) and publishes it when it
/// is full or the analysis thread has nothing else to do; the analysis thread takes
/// published slabs in order (`drain`), analyses their packets and gives the
/// slab back. When analysis falls behind and no slab is free, whole packets
/// are shed and counted (the capture thread never waits: a waiting capture
/// thread would make the kernel drop instead, uncounted by us and unbounded).
/// Free slabs are reused last-in first-out, so a light load keeps touching the
/// same few slabs and resident memory stays small.
public final class PacketQueue: Sendable {
    /// A published slab: its index and how many packets it holds.
    public struct Batch: Sendable {
        let slab: Int
        public let count: Int
    }

    /// Where one packet sits in its slab, and its pcap header.
    struct Record {
        var offset: Int
        var capturedLength: Int
        var originalLength: Int
        var frameNumber: Int
        var time: CaptureTime
        var linkType: LinkType
    }

    private struct State: Sendable {
        /// Indices of the slabs nobody holds; the last one is reused first.
        var free: [Int]
        /// Published batches in capture order: a ring of `slabCount` entries.
        var published: [Batch]
        var head = 0
        var publishedCount = 0
        var closed = false
        var shed = 0
        /// Packets ever published (shed ones not included).
        var queued = 0
    }

    public let slabBytes: Int
    public let slabPackets: Int
    public let slabCount: Int
    /// The slabs' packet bytes and records. Each slab is used by one thread at a time: the
    /// capture thread from taking it off the free list until publishing it, the analysis
    /// thread from draining it until returning it. Ownership changes under `state`'s lock,
    /// whose release and acquisition order one thread's writes before the other's reads, so
    /// these pointers are shared without a data race although Swift cannot check it.
    private nonisolated(unsafe) let bytes: UnsafeMutableRawPointer
    private nonisolated(unsafe) let records: UnsafeMutablePointer<Record>
    private let state: WaitableMutex<State>

    /// The defaults bound the queue to 64 MiB of packet bytes (plus 16 MiB of records) and
    /// 524,288 packets; a slab holds a packet of any snapshot length libpcap allows (256 KiB).
    public init(slabBytes: Int = 1 << 20, slabPackets: Int = 8_192, slabCount: Int = 64) {
        precondition(slabBytes > 0 && slabPackets > 0 && slabCount > 0)
        self.slabBytes = slabBytes
        self.slabPackets = slabPackets
        self.slabCount = slabCount
        bytes = .allocate(byteCount: slabBytes * slabCount, alignment: 16)
        records = .allocate(capacity: slabPackets * slabCount)
        state = WaitableMutex(State(free: Array((0..<slabCount).reversed()),
                                    published: Array(repeating: Batch(slab: 0, count: 0), count: slabCount)))
    }

    deinit {
        bytes.deallocate()
        records.deallocate()
    }

    /// The capture thread's side: fills one slab at a time. Not shared between threads.
    public struct Filler {
        public let queue: PacketQueue
        private var slab: Int?
        private var used = 0
        private var count = 0
        /// Packets shed since the last hand-over.
        private var shed = 0
        /// Set when no slab was free; cleared by `handOver()`, so that a queue that stays full
        /// costs one lock per read from the kernel rather than one per packet.
        private var exhausted = false

        public init(queue: PacketQueue) { self.queue = queue }

        /// Copies the packet into the current slab, publishing it first when the packet does
        /// not fit; sheds the packet when no slab is free.
        public mutating func append(_ p: CapturedPacket) {
            let size = p.bytes.count
            guard size <= queue.slabBytes else {
                shed += 1
                return
            }
            if slab != nil, used + size > queue.slabBytes || count == queue.slabPackets { publish() }
            if slab == nil, !exhausted {
                slab = queue.takeFree()
                exhausted = slab == nil
            }
            guard let s = slab else {
                shed += 1
                return
            }
            let offset = s * queue.slabBytes + used
            if size > 0, let source = p.bytes.baseAddress {
                (queue.bytes + offset).copyMemory(from: source, byteCount: size)
            }
            queue.records[s * queue.slabPackets + count] = Record(
                offset: offset, capturedLength: size, originalLength: p.originalLength,
                frameNumber: p.frameNumber, time: p.time, linkType: p.linkType)
            used += size
            count += 1
        }

        /// Whether packets wait in the slab being filled.
        public var holdsPackets: Bool { count > 0 }

        /// Call after each read from the kernel: adds the packets shed so far to `shedCount`,
        /// and publishes the slab being filled when the analysis thread has nothing else
        /// queued. While it has, the slab is kept until it is full: under load slabs are
        /// used whole, and a quiet link's packets are not held back.
        public mutating func handOver() {
            let batch = slab.map { Batch(slab: $0, count: count) }
            if queue.publishIfIdle(count > 0 ? batch : nil, shed: shed) {
                slab = nil
                used = 0
                count = 0
            }
            shed = 0
            exhausted = false
        }

        /// Publishes what is left, whatever the analysis thread is doing. Call at the end.
        public mutating func finish() {
            if count > 0 { publish() }
            handOver()
        }

        private mutating func publish() {
            guard let s = slab else { return }
            queue.publish(Batch(slab: s, count: count), shed: shed)
            slab = nil
            used = 0
            count = 0
            shed = 0
        }
    }

    private func takeFree() -> Int? {
        state.withLock { $0.free.popLast() }
    }

    private func publish(_ batch: Batch, shed: Int) {
        let slabCount = self.slabCount
        state.withLock { s in
            s.published[(s.head + s.publishedCount) % slabCount] = batch
            s.publishedCount += 1
            s.queued &+= batch.count
            s.shed += shed
        }
    }

    /// Publishes `batch` if nothing else is published; returns whether it did.
    private func publishIfIdle(_ batch: Batch?, shed: Int) -> Bool {
        let slabCount = self.slabCount
        return state.withLock { s in
            s.shed += shed
            guard let batch, s.publishedCount == 0 else { return false }
            s.published[(s.head + s.publishedCount) % slabCount] = batch
            s.publishedCount += 1
            s.queued &+= batch.count
            return true
        }
    }

    /// Waits up to `timeout` for a published batch, passes each of its packets to `body` in
    /// capture order (their bytes are valid during the call) and frees the slab. Returns the
    /// number of packets, or nil on timeout or when closed and empty.
    public func drain(timeout: TimeInterval, _ body: (CapturedPacket) -> Void) -> Int? {
        let slabCount = self.slabCount
        let batch = state.withLock(waitingUntil: { $0.publishedCount > 0 || $0.closed },
                                   deadline: Date(timeIntervalSinceNow: timeout)) { s -> Batch? in
            guard s.publishedCount > 0 else { return nil }
            let b = s.published[s.head]
            s.head = (s.head + 1) % slabCount
            s.publishedCount -= 1
            return b
        }
        guard let batch else { return nil }
        let first = records + batch.slab * slabPackets
        for i in 0..<batch.count {
            let r = first[i]
            body(CapturedPacket(frameNumber: r.frameNumber, fileIndex: 0, time: r.time, linkType: r.linkType,
                                originalLength: r.originalLength,
                                bytes: UnsafeRawBufferPointer(start: bytes + r.offset, count: r.capturedLength)))
        }
        state.withLock { $0.free.append(batch.slab) }
        return batch.count
    }

    /// No more batches will be published: `drain` returns at once when nothing is left.
    public func close() {
        state.withLock { $0.closed = true }
    }

    public var isClosedAndEmpty: Bool {
        state.withLock { $0.closed && $0.publishedCount == 0 }
    }

    /// Packets shed because no slab was free (those since a `Filler`'s last hand-over excluded).
    public var shedCount: Int {
        state.withLock { $0.shed }
    }

    /// Packets offered to the queue (published or shed) and those shed, read together (the
    /// progress line); packets in a slab still being filled are not counted yet.
    public var counts: (offered: Int, shed: Int) {
        state.withLock { ($0.queued &+ $0.shed, $0.shed) }
    }
}
