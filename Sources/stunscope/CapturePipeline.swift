import CaptureSource
import PacketDecoding

/// Wires capture files -> optional BPF filter -> packet decoder -> a sink.
///
/// Errors do not stop the run early: damaged files end where the damage is,
/// each problem is reported on stderr as it is found, and the command exits
/// with status 2 after printing everything it read.
final class CapturePipeline {
    let options: CaptureOptions
    private(set) var readers: [PcapFileReader] = []
    private(set) var errors: [CaptureError] = []
    private(set) var filter: PacketFilter?

    /// Added to every file's index (`--jobs`: one pipeline per file keeps the file's place in the list).
    var fileIndexBase = 0

    init(options: CaptureOptions) {
        self.options = options
    }

    /// Opens every file and compiles the filter; returns false when nothing can be read.
    func open() -> Bool {
        for (index, path) in options.captures.enumerated() {
            do {
                readers.append(try PcapFileReader(path: path, fileIndex: fileIndexBase + index))
            } catch let error as CaptureError {
                record(error)
            } catch {
                record(.cannotOpen(file: path, reason: "\(error)"))
            }
        }
        if let expression = options.filter {
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
        StandardError.report(error.description)
    }

    /// Reads every packet through the decoder. `each` runs after every decoded packet
    /// (live summaries, progress); the decoder is finished at the end.
    func run(into decoder: PacketDecoder, each: ((CapturedPacket) -> Void)? = nil) {
        let set = CaptureFileSet(readers: readers)
        while true {
            let next: CapturedPacket?
            do { next = try set.nextPacket() } catch { break }
            guard let packet = next else { break }
            if let f = filter, !((try? f.matches(packet)) ?? false) { continue }
            decoder.decode(packet)
            each?(packet)
        }
        decoder.finish()
        for e in set.errors { record(e) }
    }

    var exitCode: Int32 { errors.isEmpty ? 0 : 2 }

    var fileNames: [String] { readers.map(\.path) }
}
