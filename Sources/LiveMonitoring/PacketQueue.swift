import Foundation
import NetworkVocabulary
import Pipeline

/// Hands packets from the capture thread to the analysis thread.
///
/// Bounded by packet count and bytes: when analysis falls behind, new
/// packets are shed and counted rather than letting memory grow.
public final class PacketQueue: Sendable {
    public struct Item: Sendable {
        public var frameNumber: Int
        public var time: CaptureTime
        public var linkType: LinkType
        public var originalLength: Int
        public var bytes: [UInt8]
    }

    private struct State {
        var items: [Item] = []
        var head = 0
        var bytes = 0
        var closed = false
        var shed = 0
        /// Packets ever queued (shed ones not included).
        var queued = 0
    }

    private let state = WaitableMutex(State())
    public let maxPackets: Int
    public let maxBytes: Int

    public init(maxPackets: Int = 65_536, maxBytes: Int = 64 << 20) {
        self.maxPackets = maxPackets
        self.maxBytes = maxBytes
    }

    /// Copies the packet in; returns false when it was shed.
    @discardableResult
    public func push(_ p: CapturedPacket) -> Bool {
        let (maxPackets, maxBytes) = (self.maxPackets, self.maxBytes)
        return state.withLock { s in
            if s.items.count - s.head >= maxPackets || s.bytes + p.bytes.count > maxBytes {
                s.shed += 1
                return false
            }
            s.items.append(Item(frameNumber: p.frameNumber, time: p.time, linkType: p.linkType,
                                originalLength: p.originalLength, bytes: [UInt8](p.bytes)))
            s.bytes += p.bytes.count
            s.queued &+= 1
            return true
        }
    }

    /// Waits up to `timeout` for a packet; nil on timeout or when closed and empty.
    public func pop(timeout: TimeInterval) -> Item? {
        state.withLock(waitingUntil: { $0.head < $0.items.count || $0.closed },
                       deadline: Date(timeIntervalSinceNow: timeout)) { s -> Item? in
            guard s.head < s.items.count else { return nil }
            let item = s.items[s.head]
            s.head += 1
            s.bytes -= item.bytes.count
            if s.head > 4096 && s.head * 2 > s.items.count {
                s.items.removeFirst(s.head)
                s.head = 0
            }
            return item
        }
    }

    public func close() {
        state.withLock { $0.closed = true }
    }

    public var isClosedAndEmpty: Bool {
        state.withLock { $0.closed && $0.head >= $0.items.count }
    }

    public var shedCount: Int {
        state.withLock { $0.shed }
    }

    /// Packets offered to the queue (queued or shed) and those shed, read together.
    public var counts: (offered: Int, shed: Int) {
        state.withLock { ($0.queued &+ $0.shed, $0.shed) }
    }
}
