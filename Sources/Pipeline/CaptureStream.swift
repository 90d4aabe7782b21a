import CaptureSource
import NetworkVocabulary
import PacketDecoding
import Reconstruction

/// Which capture files to read and which packets of them to keep.
public struct CaptureInput: Sendable {
    public var captures: [String]
    /// A BPF expression (tcpdump syntax); frame numbers stay those of the file.
    public var filter: String?

    public init(captures: [String], filter: String? = nil) {
        self.captures = captures
        self.filter = filter
    }
}

/// Capture files -> optional BPF filter -> packet decoder.
///
/// Errors do not stop the run early: damaged files end where the damage is,
/// each problem is handed to `report` as it is found (the CLI prints it on
/// stderr at once), and `exitCode` is 2 after everything read was decoded.
public final class CaptureStream {
    public let input: CaptureInput
    public private(set) var readers: [PcapFileReader] = []
    public private(set) var errors: [CaptureError] = []
    private var filter: PacketFilter?
    private let report: (CaptureError) -> Void

    public init(input: CaptureInput, report: @escaping (CaptureError) -> Void = { _ in }) {
        self.input = input
        self.report = report
    }

    /// Opens every file and compiles the filter; returns false when nothing can be read.
    public func open() -> Bool {
        for (index, path) in input.captures.enumerated() {
            do {
                readers.append(try PcapFileReader(path: path, fileIndex: index))
            } catch let error as CaptureError {
                record(error)
            } catch {
                record(.cannotOpen(file: path, reason: "\(error)"))
            }
        }
        if let expression = input.filter {
            let f = PacketFilter(expression: expression)
            do {
                for r in readers { try f.compile(for: r.linkType) }
                filter = f
            } catch let error as CaptureError {
                record(error)
                return false
            } catch {
                return false
            }
        }
        return !readers.isEmpty
    }

    private func record(_ error: CaptureError) {
        errors.append(error)
        report(error)
    }

    /// Reads every packet through the decoder. `each` runs after every decoded packet;
    /// `progress` every `RunProgress.interval` or so (the clock is read once per
    /// `RunProgress.packetsBetweenClockReads` packets) and once at the end. The decoder
    /// is finished at the end.
    public func run(into decoder: PacketDecoder, each: ((CapturedPacket) -> Void)? = nil,
                    progress: ((RunProgress) -> Void)? = nil) {
        let set = CaptureFileSet(readers: readers)
        let totalBytes = progress == nil ? nil : input.totalBytes
        var packets = 0
        var untilClockRead = RunProgress.packetsBetweenClockReads
        var nextReport = ContinuousClock.now + RunProgress.interval
        while true {
            let next: CapturedPacket?
            do { next = try set.nextPacket() } catch { break }
            guard let packet = next else { break }
            packets &+= 1
            if let progress {
                untilClockRead &-= 1
                if untilClockRead == 0 {
                    untilClockRead = RunProgress.packetsBetweenClockReads
                    let now = ContinuousClock.now
                    if now >= nextReport {
                        nextReport = now + RunProgress.interval
                        progress(RunProgress(bytesRead: set.bytesRead, totalBytes: totalBytes, packets: packets))
                    }
                }
            }
            if let f = filter, !((try? f.matches(packet)) ?? false) { continue }
            decoder.decode(packet)
            each?(packet)
        }
        decoder.finish()
        for e in set.errors { record(e) }
        progress?(RunProgress(bytesRead: set.bytesRead, totalBytes: totalBytes, packets: packets, finished: true))
    }

    public var exitCode: Int32 { errors.isEmpty ? 0 : 2 }

    /// What each file was, for the document's `captures` list.
    public var captureSummaries: [CaptureFileSummary] {
        readers.map { CaptureFileSummary(file: $0.path, format: $0.format.rawValue, linkType: $0.linkType.name, packets: $0.packetsRead) }
    }
}
