import ArgumentParser
import CaptureSource
import Foundation
import LiveMonitoring
import NetworkVocabulary
import PacketDecoding
import Reconstruction
import Renderers
import StunWire
import WireEvents

/// Set from signal handlers; read by the capture thread.
private let liveStopFlag: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()

/// `stunscope live`: analyse an interface as packets arrive.
struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Capture on an interface and report allocations, permissions, channels and findings as they happen.",
        discussion: """
        Opens the interface with pcap_create / pcap_set_immediate_mode / \
        pcap_activate. The default filter keeps UDP, TCP, ICMP and IP fragments \
        (STUN runs on any port); --filter replaces it. Allocations expire in \
        real time. SIGINT / SIGTERM, --duration or --count stop cleanly: the \
        final summary (as `analyze`), libpcap's received/dropped counts and the \
        packets shed by a slow analysis are reported, and the --write file is \
        flushed. Live capture needs root or CAP_NET_RAW+CAP_NET_ADMIN.

        Examples:
          sudo stunscope live -i eth0 --duration 60
          sudo stunscope live -i any --format ndjson --metrics 127.0.0.1:9469 --write ring.pcap --rotate-size 100 --rotate-files 10
        """
    )

    @Option(name: [.short, .long], help: ArgumentHelp("Interface to capture on (see `stunscope interfaces`).", valueName: "iface"))
    var interface: String

    @Option(help: ArgumentHelp("BPF filter replacing the default (udp or tcp or icmp or fragments).", valueName: "expr"))
    var filter: String?

    @Option(help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    @Option(help: ArgumentHelp("Stop after this many packets.", valueName: "n"))
    var count: Int?

    @Option(help: "Output format for events and the final summary: text or ndjson.")
    var format: LiveFormat = .text

    @Option(help: ArgumentHelp("Also save the raw packets to this pcap file.", valueName: "file"))
    var write: String?

    @Option(name: .customLong("rotate-size"), help: ArgumentHelp("Rotate the --write file after this many MB.", valueName: "MB"))
    var rotateSize: Int?

    @Option(name: .customLong("rotate-files"), help: ArgumentHelp("Number of files in the rotation ring (with --rotate-size).", valueName: "n"))
    var rotateFiles: Int = 10

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://ADDR:PORT/metrics (loopback unless an address is given).", valueName: "addr:port"))
    var metrics: String?

    @Option(help: ArgumentHelp("Credentials file (user:realm:password or ufrag:password per line).", valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("sdp"), help: ArgumentHelp("Offer/answer SDP text (repeatable).", valueName: "file"))
    var sdp: [String] = []

    @Option(help: ArgumentHelp("Drop root privileges to this user after the capture is opened.", valueName: "user"))
    var user: String?

    @Option(help: ArgumentHelp("Kernel capture buffer size in MB.", valueName: "MB"))
    var bufferSize: Int = 8

    enum LiveFormat: String, ExpressibleByArgument { case text, ndjson }

    func validate() throws {
        if let d = duration, d <= 0 { throw ValidationError("--duration must be positive") }
        if let c = count, c <= 0 { throw ValidationError("--count must be positive") }
        if rotateSize != nil && write == nil { throw ValidationError("--rotate-size needs --write") }
        if rotateFiles < 1 { throw ValidationError("--rotate-files must be at least 1") }
    }

    func run() throws {
        let store: CredentialStore
        do { store = try credentials.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore() } catch {
            throw ValidationError("\(error)")
        }
        let source: LiveCaptureSource
        do {
            source = try LiveCaptureSource(interface: interface, bufferSize: Int32(bufferSize) << 20, filter: filter)
        } catch let e as CaptureError {
            StandardError.report(e.description)
            if case .badFilter = e { throw ExitStatus.captureError }
            throw ExitStatus.liveCaptureError
        }
        var writer: PcapDumpWriter?
        if let path = write, let handle = source.rawHandle {
            do { writer = try PcapDumpWriter(handle: handle, path: path, rotateMegabytes: rotateSize, rotateFiles: rotateSize == nil ? 1 : rotateFiles) } catch {
                StandardError.report("\(error)")
                throw ExitStatus.captureError
            }
        }
        if let name = user {
            do { try PrivilegeDrop.drop(to: name) } catch {
                StandardError.report("\(error)")
                throw ExitStatus.liveCaptureError
            }
        }

        let out = FileDescriptorOutput.standardOutput
        let printer = LiveEventPrinter(format: format, output: out)
        let reconstructor = SessionReconstructor()
        let metricsTee: StunScopeMetrics? = metrics == nil ? nil : StunScopeMetrics(next: reconstructor, forward: printer)
        reconstructor.observer = metricsTee ?? printer
        var server: MetricsHTTPServer?
        if let address = metrics, let tee = metricsTee {
            do {
                server = try MetricsHTTPServer(address: address) { tee.exposition() }
                server?.start()
                StandardError.report("metrics at http://\(address.contains(":") ? address : "127.0.0.1:" + address)/metrics")
            } catch {
                StandardError.report("\(error)")
                throw ExitStatus.liveCaptureError
            }
        }
        let dissector = WireDissector(consumer: metricsTee ?? reconstructor, credentials: store)
        let decoder = PacketDecoder(sink: dissector)

        liveStopFlag.pointee = 0
        signal(SIGINT) { _ in liveStopFlag.pointee = 1 }
        signal(SIGTERM) { _ in liveStopFlag.pointee = 1 }

        let queue = PacketQueue()
        let deadline = duration.map { Date(timeIntervalSinceNow: $0) }
        let limit = count
        let captureDone = DispatchSemaphore(value: 0)
        let progress = CaptureProgress()
        let captureThread = Thread {
            var lastStats = Date()
            while liveStopFlag.pointee == 0 {
                if let d = deadline, Date() >= d { break }
                do {
                    guard let p = try source.nextPacket() else { continue }
                    progress.captured += 1
                    try writer?.write(p)
                    queue.push(p)
                    if let l = limit, progress.captured >= l { break }
                } catch {
                    progress.error = error
                    break
                }
                if let tee = metricsTee, Date().timeIntervalSince(lastStats) > 1, let st = source.statistics() {
                    tee.captureStatistics(received: st.received, dropped: st.dropped, shed: queue.shedCount)
                    lastStats = Date()
                }
            }
            queue.close()
            captureDone.signal()
        }
        captureThread.name = "stunscope-capture"
        captureThread.start()

        var lastGauge = Date()
        while true {
            if let item = queue.pop(timeout: 0.2) {
                item.bytes.withUnsafeBytes { raw in
                    decoder.decode(CapturedPacket(frameNumber: item.frameNumber, fileIndex: 0, time: item.time,
                                                  linkType: item.linkType, originalLength: item.originalLength, bytes: raw))
                }
                metricsTee?.packetAnalysed()
            } else if queue.isClosedAndEmpty {
                break
            } else {
                reconstructor.advance(to: CaptureTime(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9)))
            }
            if let tee = metricsTee, Date().timeIntervalSince(lastGauge) > 0.5 {
                tee.setActiveAllocations(reconstructor.activeAllocations)
                lastGauge = Date()
            }
        }
        captureDone.wait()
        let captured = progress.captured
        decoder.finish()
        dissector.finish()
        writer?.close()
        let stats = decoder.currentStatistics()
        var doc = reconstructor.finish(packets: stats.packets)
        doc.captures = [CaptureFileSummary(file: "live:\(interface)", format: "live", linkType: source.linkType.name,
                                           packets: captured, firstTime: stats.firstTime?.epochSeconds, lastTime: stats.lastTime?.epochSeconds)]
        metricsTee?.setActiveAllocations(reconstructor.activeAllocations)
        let pcapStats = source.statistics()
        if let st = pcapStats { metricsTee?.captureStatistics(received: st.received, dropped: st.dropped, shed: queue.shedCount) }
        switch format {
        case .text:
            out.write("\n")
            out.write(AnalysisTextRenderer(style: TerminalStyle(enabled: out.isTerminal)).render(doc))
        case .ndjson:
            if let data = try? NDJSONExportRenderer().render([ExportCapture(file: "live:\(interface)", document: doc)]) {
                out.write(String(decoding: data, as: UTF8.self))
            }
        }
        out.flush()
        var summary = "captured \(captured) packets on \(interface)"
        if let st = pcapStats { summary += "; libpcap received \(st.received), dropped \(st.dropped) (interface dropped \(st.interfaceDropped))" }
        summary += "; analysis shed \(queue.shedCount)"
        if let w = writer { summary += "; wrote \(w.packetsWritten) packets to \(w.filesWritten.joined(separator: ", "))" }
        StandardError.report(summary)
        server?.stop()
        source.close()
        if let e = progress.error {
            StandardError.report("\(e)")
            throw ExitStatus.liveCaptureError
        }
    }
}

/// What the capture thread reports back; read only after it has signalled completion.
private final class CaptureProgress: @unchecked Sendable {
    var captured = 0
    var error: Error?
}

/// Prints live events as they happen: a line of text or an NDJSON object each.
final class LiveEventPrinter: LiveEventObserver {
    let format: LiveCommand.LiveFormat
    let output: FileDescriptorOutput

    init(format: LiveCommand.LiveFormat, output: FileDescriptorOutput) {
        self.format = format
        self.output = output
    }

    func liveEvent(_ e: LiveEvent) {
        if e.kind == .transactionCompleted { return }
        switch format {
        case .text:
            let t = CaptureTime(nanoseconds: Int64(e.time * 1e9)).iso8601
            output.write("\(t) \(e.kind.rawValue) \(TerminalText.sanitize(e.message))\n")
        case .ndjson:
            var w = JSONByteWriter()
            w.objectStart()
            w.key("type"); w.string("event")
            w.key("time"); w.epochSeconds(nanoseconds: Int64((e.time * 1e9).rounded()))
            w.key("frame"); w.int(e.frame)
            w.key("kind"); w.string(e.kind.rawValue)
            if let s = e.session { w.key("session"); w.string(s.description) }
            w.key("message"); w.string(e.message)
            w.objectEnd()
            w.newline()
            output.write(bytes: w.bytes)
        }
        output.flush()
    }
}
