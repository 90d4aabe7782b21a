import CaptureSource
import Foundation

/// What a live capture has done so far: the progress line of `live`.
public struct LiveProgress: Sendable, Equatable {
    /// Packets read from the interface (analysed, waiting or shed).
    public var captured: Int
    /// Packets the kernel dropped before libpcap read them (pcap_stats ps_drop); nil when
    /// libpcap gives no counters.
    public var kernelDropped: Int?
    /// Packets shed because the analysis fell behind (the queue was full).
    public var shed: Int
    /// Packets captured per second since the previous report.
    public var packetsPerSecond: Double
}

/// Reports `LiveProgress` about once a second from the analysing thread: the
/// clock is read once per `packetsBetweenClockReads` packets analysed, and
/// whenever the queue stays empty for its wait, so an idle interface still
/// gets its line updated.
struct LiveProgressClock {
    static let interval: Duration = .seconds(1)
    static let packetsBetweenClockReads = 256

    let report: (LiveProgress) -> Void
    private var untilClockRead = LiveProgressClock.packetsBetweenClockReads
    private var last = ContinuousClock.now
    private var lastCaptured = 0

    init(report: @escaping (LiveProgress) -> Void) {
        self.report = report
    }

    /// After each batch taken from the queue.
    mutating func packetsAnalysed(_ n: Int, queue: PacketQueue, source: LiveCaptureSource) {
        untilClockRead &-= n
        if untilClockRead <= 0 { idle(queue: queue, source: source) }
    }

    mutating func idle(queue: PacketQueue, source: LiveCaptureSource) {
        untilClockRead = LiveProgressClock.packetsBetweenClockReads
        let now = ContinuousClock.now
        let since = now - last
        guard since >= LiveProgressClock.interval else { return }
        let counts = queue.counts
        // The source's lock is held while the capture thread waits in poll(2) (200 ms at most):
        // reading the counters here can wait that long on an idle interface, never on a busy one.
        let dropped = source.statistics().map { Int($0.dropped) }
        let seconds = Double(since.components.seconds) + Double(since.components.attoseconds) / 1e18
        report(LiveProgress(captured: counts.offered, kernelDropped: dropped, shed: counts.shed,
                            packetsPerSecond: Double(counts.offered - lastCaptured) / seconds))
        last = now
        lastCaptured = counts.offered
    }
}
