import Foundation
import Stitching
import StunWire

/// `analyze --stitch`: each capture file is one vantage point, read through
/// its own decoder and dissector (never merged into one stream), then
/// stitched.
public struct StitchRun {
    public struct VantageFile: Sendable {
        public var name: String
        public var path: String

        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }

        /// `NAME=FILE`, or a bare file named after itself (its file name without directories and extension).
        public init(argument: String) {
            if let eq = argument.firstIndex(of: "="), eq != argument.startIndex {
                name = String(argument[..<eq])
                path = String(argument[argument.index(after: eq)...])
            } else {
                path = argument
                name = ((argument as NSString).lastPathComponent as NSString).deletingPathExtension
            }
        }
    }

    public var vantages: [VantageFile]

    /// `--vantage NAME=FILE` arguments first, then bare capture files (named after the file).
    public static func vantageFiles(named: [String], unnamed: [String]) -> [VantageFile] {
        named.map { VantageFile(argument: $0) } + unnamed.map { VantageFile(name: VantageFile(argument: $0).name, path: $0) }
    }

    /// A name two vantage points share (their sightings could not be told apart in the output).
    public static func duplicateName(in files: [VantageFile]) -> String? {
        var seen = Set<String>()
        return files.first { !seen.insert($0.name).inserted }?.name
    }
    public var filter: String?
    public var credentialsFile: String?
    public var report: (String) -> Void

    public init(vantages: [VantageFile], filter: String? = nil, credentialsFile: String? = nil, report: @escaping (String) -> Void = { _ in }) {
        self.vantages = vantages
        self.filter = filter
        self.credentialsFile = credentialsFile
        self.report = report
    }

    public enum Outcome {
        case stitched(StitchDocument, exitCode: Int32)
        /// Nothing could be read, or the stitch was refused (the reason was reported).
        case failed(exitCode: Int32)
    }

    public func run() -> Outcome {
        let store: CredentialStore
        do {
            store = try credentialsFile.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore()
        } catch {
            report("\(error)")
            return .failed(exitCode: 2)
        }
        var captures: [VantageCapture] = []
        var sightings: [Sighting] = []
        var status: Int32 = 0
        let report = self.report
        for (index, v) in vantages.enumerated() {
            let stream = CaptureStream(input: CaptureInput(captures: [v.path], filter: filter)) { report($0.description) }
            guard stream.open() else { return .failed(exitCode: 2) }
            let start = sightings.count
            let collector = SightingCollector(vantage: index, appendingTo: sightings)
            sightings = []  // the collector holds the only reference: appending does not copy
            let dissection = Dissection(consumer: collector, credentials: store)
            stream.run(into: dissection.decoder)
            dissection.finish()
            if stream.exitCode != 0 { status = stream.exitCode }
            if collector.dropped > 0 {
                report("\(v.path): \(collector.dropped) packets past the stitch's limit of \(StitchLimits.sightings) sightings were not stitched")
            }
            sightings = collector.take()
            captures.append(VantageCapture(name: v.name, file: v.path, range: start..<sightings.count, sightingsDropped: collector.dropped))
        }
        do {
            return .stitched(try Stitcher().stitch(captures, sightings: sightings), exitCode: status)
        } catch {
            report(error.description)
            return .failed(exitCode: 2)
        }
    }
}
