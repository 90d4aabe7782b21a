import Foundation
import NetworkVocabulary

/// Hands packets from the capture thread to the analysis thread.
///
/// Bounded by packet count and bytes: when analysis falls behind, new
/// packets are shed and counted rather than letting memory grow.
public final class PacketQueue: @unchecked Sendable {
    public struct Item {
        public var frameNumber: Int
        public var time: CaptureTime
        public var linkType: LinkType
        public var originalLength: Int
        public var bytes: [UInt8]
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var bytes = 0
    private var closed = false
    public let maxPackets: Int
    public let maxBytes: Int
    public private(set) var shed = 0

    public init(maxPackets: Int = 65_536, maxBytes: Int = 64 << 20) {
        self.maxPackets = maxPackets
        self.maxBytes = maxBytes
    }

    /// Copies the packet in; returns false when it was shed.
    @discardableResult
    public func push(_ p: CapturedPacket) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if items.count - head >= maxPackets || bytes + p.bytes.count > maxBytes {
            shed += 1
            return false
        }
        items.append(Item(frameNumber: p.frameNumber, time: p.time, linkType: p.linkType,
                          originalLength: p.originalLength, bytes: [UInt8](p.bytes)))
        bytes += p.bytes.count
        condition.signal()
        return true
    }

    /// Waits up to `timeout` for a packet; nil on timeout or when closed and empty.
    public func pop(timeout: TimeInterval) -> Item? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while head >= items.count {
            if closed { return nil }
            if !condition.wait(until: deadline) { return nil }
        }
        let item = items[head]
        head += 1
        bytes -= item.bytes.count
        if head > 4096 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    public var isClosedAndEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && head >= items.count
    }

    public var shedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return shed
    }
}
