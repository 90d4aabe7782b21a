import CaptureSource
import PacketDecoding
import Renderers

/// Counts only: `stats` needs the decoder's work, not the units themselves.
public final class DiscardingSink: TransportSink {
    public init() {}
    public func udpDatagram(_ datagram: UDPDatagram) {}
    public func tcpData(_ data: TCPStreamData) {}
    public func tcpEvent(_ event: TCPStreamEvent) {}
    public func icmpError(_ error: ICMPError) {}
}

/// `stunscope stats`: the capture files through the packet decoder only
/// (no dissection), summed into a `StatsReport`.
public struct StatisticsRun {
    public var input: CaptureInput
    /// Capture problems as they are found (the CLI prints them on stderr).
    public var report: (String) -> Void
    /// How far the reading has got, a few times a second and once at the end (the progress line).
    public var progress: ((RunProgress) -> Void)?

    public init(input: CaptureInput, report: @escaping (String) -> Void = { _ in }) {
        self.input = input
        self.report = report
    }

    /// The report (nil when no file could be opened or the filter is invalid) and the
    /// exit status: 2 when a capture could not be fully read.
    public func run() -> (report: StatsReport?, exitCode: Int32) {
        let report = self.report
        let stream = CaptureStream(input: input) { report($0.description) }
        guard stream.open() else { return (nil, 2) }
        let decoder = PacketDecoder(sink: DiscardingSink())
        stream.run(into: decoder, progress: progress)
        let files = stream.readers.map { r in
            StatsReport.File(path: r.path, format: r.format.rawValue, linkType: r.linkType.name, packets: r.packetsRead)
        }
        return (StatsReport(files: files, stats: decoder.currentStatistics(), errors: stream.errors.map(\.description)),
                stream.exitCode)
    }
}
