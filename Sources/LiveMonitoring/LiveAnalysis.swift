import NetworkVocabulary
import CaptureSource
import Foundation
import Pipeline
import Reconstruction
import StunWire
import Synchronization
import WireEvents

/// A live capture analysed as packets arrive (`stunscope live`).
///
/// Two threads: the capture thread drains the kernel buffer in batches
/// (`pcap_dispatch`), saves every packet (`--write`) and copies it into the
/// `PacketQueue`'s slabs; the calling thread decodes, dissects and
/// reconstructs a slab at a time, moves the clock while the interface is idle
/// (allocations expire in real time) and keeps the metrics gauges current.
/// SIGINT / SIGTERM, the duration or the packet limit end the capture; what
/// was queued is still analysed, then the session model is finished and
/// returned with the capture's counters.
///
/// Opening the interface, the dump file and the metrics endpoint (and giving
/// up root) is the caller's: those happen before any packet is read.
public final class LiveAnalysis {
    public struct Configuration: Sendable {
        /// Stop after this many seconds.
        public var duration: Double?
        /// Stop after this many packets.
        public var packetLimit: Int?
        /// Keep Prometheus metrics (`metrics` is then non-nil).
        public var metrics: Bool
        /// Stop on SIGINT and SIGTERM (the handlers are installed by `run()`).
        public var stopOnSignals: Bool

        public init(duration: Double? = nil, packetLimit: Int? = nil, metrics: Bool = false, stopOnSignals: Bool = true) {
            self.duration = duration
            self.packetLimit = packetLimit
            self.metrics = metrics
            self.stopOnSignals = stopOnSignals
        }
    }

    /// What a finished run saw.
    public struct Result: Sendable {
        /// The session model, with the interface as its one capture (`live:IFACE`).
        public var document: AnalysisDocument
        /// The capture name used in the document (`live:IFACE`).
        public var captureName: String
        public var interface: String
        /// Packets read from the interface (analysed or shed).
        public var captured: Int
        /// libpcap's counters at the end (pcap_stats), when it gives them.
        public var libpcap: LibpcapStatistics?
        /// Packets decoded and analysed: `captured - shed`, counted by the analysing thread.
        public var analysed: Int
        /// Packets the capture thread could not queue because the analysis fell behind (the
        /// queue's slabs were all full); libpcap's `dropped` are those the kernel could not
        /// buffer because the capture thread fell behind.
        public var shed: Int
        /// `--write`: packets and files written.
        public var written: (packets: Int, files: [String])?
        /// The capture error that ended the run early (the interface went away...).
        public var captureError: (any Error)?

        /// The line `live` reports on stderr at the end.
        public var summary: String {
            var s = "captured \(captured) packets on \(interface)"
            if let st = libpcap { s += "; libpcap received \(st.received), dropped \(st.dropped) (interface dropped \(st.interfaceDropped))" }
            s += "; analysed \(analysed); analysis shed \(shed)"
            if let w = written { s += "; wrote \(w.packets) packets to \(w.files.joined(separator: ", "))" }
            return s
        }
    }

    public struct LibpcapStatistics: Sendable {
        public var received: UInt32
        public var dropped: UInt32
        public var interfaceDropped: UInt32
    }

    /// The metrics tee (dissector -> metrics -> reconstructor), when configured; its
    /// `exposition()` is what the metrics endpoint serves.
    public let metrics: StunScopeMetrics?

    /// What the capture has done so far, about once a second from the analysing thread
    /// (the progress line); set before `run()`.
    public var progress: ((LiveProgress) -> Void)?

    private let source: LiveCaptureSource
    /// Reads the interface and writes `--write` on the capture thread.
    private let capture: CaptureLoop
    private let configuration: Configuration
    private let reconstructor = SessionReconstructor()
    private let dissection: Dissection
    /// Kept here: the reconstructor and the metrics tee hold their observers weakly.
    private let events: LiveEventObserver?
    private let queue = PacketQueue()

    /// `events` receives every live event (after the metrics, when there are metrics).
    /// `writer` is handed over: the capture thread writes it and closes it when the capture ends.
    public init(source: LiveCaptureSource, writer: sending PcapDumpWriter?, credentials: CredentialStore,
                events: LiveEventObserver?, configuration: Configuration) {
        self.source = source
        self.events = events
        self.configuration = configuration
        metrics = configuration.metrics ? StunScopeMetrics(next: reconstructor, forward: events) : nil
        capture = CaptureLoop(source: source, writer: writer, queue: queue, limit: configuration.packetLimit,
                              gauges: metrics?.captureGauges)
        reconstructor.observer = metrics ?? events
        dissection = Dissection(consumer: metrics ?? reconstructor, credentials: credentials)
    }

    /// Captures until stopped, then returns the finished session model and the counters.
    /// Call once. Flushes and closes the dump file; the caller closes the source (and
    /// stops its metrics endpoint).
    public func run() -> Result {
        LiveStop.reset()
        if configuration.stopOnSignals { LiveStop.installHandlers() }
        let capture = self.capture
        let deadline = configuration.duration.map { Date(timeIntervalSinceNow: $0) }
        let done = DispatchSemaphore(value: 0)
        let outcome = CaptureOutcomeSlot()
        let thread = Thread {
            outcome.set(capture.run(deadline: deadline))
            done.signal()
        }
        thread.name = "stunscope-capture"
        thread.start()

        let analysed = analyseUntilClosed()
        done.wait()
        return finish(outcome.get(), analysed: analysed)
    }

    /// Decodes what the capture thread queues until it has closed the queue and it is empty;
    /// returns the number of packets decoded.
    private func analyseUntilClosed() -> Int {
        let decoder = dissection.decoder
        var analysed = 0
        var lastGauge = Date()
        var progressClock = progress.map { LiveProgressClock(report: $0) }
        while true {
            if let n = queue.drain(timeout: 0.2, { decoder.decode($0) }) {
                analysed += n
                metrics?.packetsAnalysed(n)
                progressClock?.packetsAnalysed(n, queue: queue, source: source)
            } else if queue.isClosedAndEmpty {
                break
            } else {
                reconstructor.advance(to: CaptureTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9)))
                progressClock?.idle(queue: queue, source: source)
            }
            if let m = metrics, Date().timeIntervalSince(lastGauge) > 0.5 {
                m.setActiveAllocations(reconstructor.activeAllocations)
                lastGauge = Date()
            }
        }
        return analysed
    }

    private func finish(_ outcome: CaptureOutcome, analysed: Int) -> Result {
        dissection.decoder.finish()
        dissection.finish()
        let stats = dissection.decoder.currentStatistics()
        let name = "live:\(source.interface)"
        var doc = reconstructor.finish(packets: stats.packets)
        doc.captures = [CaptureFileSummary(file: name, format: "live", linkType: source.linkType.name,
                                           packets: outcome.captured, firstTime: stats.firstTime?.epochSeconds,
                                           lastTime: stats.lastTime?.epochSeconds)]
        metrics?.setActiveAllocations(reconstructor.activeAllocations)
        let libpcap = source.statistics().map {
            LibpcapStatistics(received: $0.received, dropped: $0.dropped, interfaceDropped: $0.interfaceDropped)
        }
        let shed = queue.shedCount
        if let st = libpcap { metrics?.captureGauges.set(received: st.received, dropped: st.dropped, shed: shed) }
        return Result(document: doc, captureName: name, interface: source.interface, captured: outcome.captured,
                      libpcap: libpcap, analysed: analysed, shed: shed, written: outcome.written,
                      captureError: outcome.error)
    }
}

/// What the capture thread hands back when it ends.
struct CaptureOutcome: Sendable {
    var captured = 0
    var error: (any Error)?
    /// `--write`: packets and files written.
    var written: (packets: Int, files: [String])?
}

/// The capture thread's outcome: written once by that thread, read by the
/// analysing thread after the thread has signalled that it is done.
private final class CaptureOutcomeSlot: Sendable {
    private let value = Mutex(CaptureOutcome())
    func set(_ outcome: CaptureOutcome) { value.withLock { $0 = outcome } }
    func get() -> CaptureOutcome { value.withLock { $0 } }
}

/// The capture thread's work: drain the kernel buffer a batch at a time, save each packet,
/// copy it into the queue.
///
/// The source locks its libpcap handle, so the analysing thread may read its
/// counters; the writer belongs to the capture thread alone: it takes it out of
/// `writer` when it starts and closes it when the capture ends.
private final class CaptureLoop: Sendable {
    let source: LiveCaptureSource
    let writer: Mutex<PcapDumpWriter?>
    let queue: PacketQueue
    let limit: Int?
    let gauges: StunScopeMetrics.CaptureGauges?

    /// Most packets one `pcap_dispatch` call hands over (in buffered mode a call also stops
    /// at the end of a kernel block).
    static let batchPackets = 4_096
    /// Longest wait while a partly filled slab is held back, before offering it again.
    static let heldPacketsMilliseconds = 20
    /// Longest one wait for packets, so that signals and the deadline are noticed.
    static let pollMilliseconds = 200

    init(source: LiveCaptureSource, writer: sending PcapDumpWriter?, queue: PacketQueue, limit: Int?,
         gauges: StunScopeMetrics.CaptureGauges?) {
        self.source = source
        self.writer = Mutex(writer)
        self.queue = queue
        self.limit = limit
        self.gauges = gauges
    }

    /// Runs until a signal, the deadline, the packet limit or a capture error; closes the queue
    /// and the writer. Call once.
    ///
    /// In buffered mode the kernel hands over a partly filled block only after its timeout:
    /// after a signal or the deadline the loop keeps reading for two block timeouts (the
    /// longest a packet can wait in a block), so packets that arrived before the stop are
    /// analysed.
    func run(deadline: Date?) -> CaptureOutcome {
        let writer = self.writer.withLock { $0.take() }
        var outcome = CaptureOutcome()
        var filler = PacketQueue.Filler(queue: queue)
        var writeError: (any Error)?
        var lastStats = Date()
        var stopAt: Date?
        let settle = source.immediate ? 0 : 2 * Double(LiveCaptureSource.blockTimeoutMilliseconds) / 1000
        while true {
            let now = Date()
            if stopAt == nil, LiveStop.requested || deadline.map({ now >= $0 }) == true {
                stopAt = now.addingTimeInterval(settle)
            }
            if let s = stopAt, now >= s { break }
            let wanted = limit.map { min(CaptureLoop.batchPackets, $0 - outcome.captured) } ?? CaptureLoop.batchPackets
            let n: Int
            do {
                n = try source.dispatch(maxPackets: wanted) { p in
                    if writeError == nil, let writer {
                        do { try writer.write(p) } catch { writeError = error }
                    }
                    filler.append(p)
                }
            } catch {
                outcome.error = error
                break
            }
            outcome.captured += n
            if let e = writeError {
                outcome.error = e
                break
            }
            if let l = limit, outcome.captured >= l { break }
            filler.handOver()
            if n == 0 {
                // Rounded up: a wait rounded down to 0 ms would spin through the last millisecond.
                // Packets held back (the analysis was busy) are offered again soon.
                let until = stopAt ?? deadline
                var ms = until.map { Int(($0.timeIntervalSince(now) * 1000).rounded(.up)) } ?? CaptureLoop.pollMilliseconds
                if filler.holdsPackets { ms = min(ms, CaptureLoop.heldPacketsMilliseconds) }
                source.waitForPackets(milliseconds: Int32(max(1, min(ms, CaptureLoop.pollMilliseconds))))
            }
            if let g = gauges, now.timeIntervalSince(lastStats) > 1, let st = source.statistics() {
                g.set(received: st.received, dropped: st.dropped, shed: queue.shedCount)
                lastStats = now
            }
        }
        filler.finish()
        queue.close()
        if let writer {
            writer.close()
            outcome.written = (writer.packetsWritten, writer.filesWritten)
        }
        return outcome
    }
}

/// SIGINT / SIGTERM end a live capture: the handler only sets this flag (an
/// atomic store is async-signal-safe); the capture thread polls it.
enum LiveStop {
    private static let flag = Atomic<Bool>(false)

    static var requested: Bool { flag.load(ordering: .relaxed) }

    /// Clears the flag; also initialises it (a lazy global) before a handler can touch it.
    static func reset() { flag.store(false, ordering: .relaxed) }

    static func installHandlers() {
        signal(SIGINT) { _ in LiveStop.flag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in LiveStop.flag.store(true, ordering: .relaxed) }
    }
}
