import ArgumentParser
import CaptureSource
import LiveMonitoring
import Renderers
import StunWire

/// `stunscope live`: analyse an interface as packets arrive.
struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Capture on an interface and report allocations, permissions, channels and findings as they happen.",
        discussion: """
        Opens the interface with pcap_create / pcap_activate. The default filter \
        keeps UDP, TCP, ICMP and IP fragments (STUN runs on any port); --filter \
        replaces it. Allocations expire in real time. SIGINT / SIGTERM, \
        --duration or --count stop cleanly: the final summary (as `analyze`) is \
        printed, the --write file is flushed, and stderr reports the counters. \
        Live capture needs root or CAP_NET_RAW+CAP_NET_ADMIN.

        Counters: "captured" packets were read from the kernel; libpcap \
        "received" counts the packets that passed the filter in the kernel (on \
        `lo` each packet twice: sent and received); "dropped" are packets the kernel \
        threw away because its buffer (--buffer-size) was full when the \
        capture thread fell behind; "shed" are packets the capture thread read \
        but dropped because the analysis fell behind and its 64 MiB queue was \
        full; "analysed" is captured minus shed. Both losses are whole \
        packets; with either non-zero the summary undercounts.

        The kernel buffer: by default packets are packed into 256 KiB blocks \
        handed over when full or 50 ms after their first packet, and read in \
        batches; the default 64 MiB holds about 250,000 packets of 150 bytes \
        (2.5 s at 100,000 packets/s). It is pinned kernel memory, mapped \
        into the process (counted in its resident size from the start). \
        --immediate hands over each packet as it arrives (lower latency on a \
        quiet link), but on Linux every packet then takes a slot sized for the \
        largest one (about 64 KiB on `lo` or with offloads): the same buffer \
        holds about a thousand packets and a busy link drops.

        On a terminal, a progress line on stderr shows the packets captured, \
        dropped by the kernel and shed by the analysis, and packets/s, about \
        once a second (--quiet turns it off); events written to the same \
        terminal scroll above it, and it is erased before the summary.

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

    @Option(help: ArgumentHelp("Kernel capture buffer in MiB: what the kernel holds while the capture thread is not reading (see above).", valueName: "MiB"))
    var bufferSize: Int = LiveCaptureSource.defaultBufferSize >> 20

    @Flag(help: "Hand over each packet as it arrives instead of in blocks (far fewer packets fit the buffer; see above).")
    var immediate = false

    @OptionGroup var progress: QuietOption

    enum LiveFormat: String, ExpressibleByArgument { case text, ndjson }

    func validate() throws {
        if let d = duration, d <= 0 { throw ValidationError("--duration must be positive") }
        if let c = count, c <= 0 { throw ValidationError("--count must be positive") }
        if rotateSize != nil && write == nil { throw ValidationError("--rotate-size needs --write") }
        if rotateFiles < 1 { throw ValidationError("--rotate-files must be at least 1") }
        // libpcap takes an Int32 of bytes.
        if bufferSize < 1 || bufferSize > 2047 { throw ValidationError("--buffer-size must be 1 to 2047 MiB") }
    }

    func run() throws {
        let store: CredentialStore
        do { store = try credentials.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore() } catch {
            throw ValidationError("\(error)")
        }
        let source: LiveCaptureSource
        do {
            source = try LiveCaptureSource(interface: interface, bufferSize: bufferSize << 20, immediate: immediate,
                                           filter: filter)
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
        let printer = LiveEventPrinter(format: format.rendererFormat, output: out)
        let analysis = LiveAnalysis(source: source, writer: writer, credentials: store, events: printer,
                                    configuration: LiveAnalysis.Configuration(duration: duration, packetLimit: count, metrics: metrics != nil))
        let line = progress.startProgressLine()
        analysis.progress = line.map { $0.showLive }
        if out.isTerminal { out.statusLine = line }
        var server: MetricsHTTPServer?
        if let address = metrics, let tee = analysis.metrics {
            do {
                server = try MetricsHTTPServer(address: address, body: tee.scrape)
                server?.start()
                StandardError.report("metrics at http://\(address.contains(":") ? address : "127.0.0.1:" + address)/metrics")
            } catch {
                StandardError.report("\(error)")
                throw ExitStatus.liveCaptureError
            }
        }

        let result = analysis.run()
        line?.finish()
        printer.summary(result.document, capture: result.captureName)
        StandardError.report(result.summary)
        server?.stop()
        source.close()
        if let e = result.captureError {
            StandardError.report("\(e)")
            throw ExitStatus.liveCaptureError
        }
    }
}

extension LiveCommand.LiveFormat {
    var rendererFormat: Renderers.LiveFormat { self == .text ? .text : .ndjson }
}
