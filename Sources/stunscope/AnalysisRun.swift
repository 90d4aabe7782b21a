import CaptureSource
import Foundation
import PacketDecoding
import Reconstruction

/// The whole pipeline for commands that need the session model
/// (`analyze`, `export`): capture -> decode -> dissect -> reconstruct.
struct AnalysisRun {
    var input: CaptureOptions
    var credentialsFile: String?
    var sdpFiles: [String] = []

    /// Runs the pipeline; `exitCode` is 2 when a capture could not be fully read.
    func run() -> (document: AnalysisDocument, exitCode: Int32) {
        let pipeline = CapturePipeline(options: input)
        guard pipeline.open() else { return (AnalysisDocument(), 2) }
        let reconstructor = SessionReconstructor()
        let sink = DiscardingSink()   // replaced by the dissector stage (WireEvents) when it lands
        let decoder = PacketDecoder(sink: sink)
        pipeline.run(into: decoder)
        let stats = decoder.currentStatistics()
        var doc = reconstructor.finish(packets: stats.packets)
        doc.captures = pipeline.readers.map { r in
            CaptureFileSummary(file: r.path, format: r.format.rawValue, linkType: r.linkType.name, packets: r.packetsRead)
        }
        return (doc, pipeline.exitCode)
    }
}
