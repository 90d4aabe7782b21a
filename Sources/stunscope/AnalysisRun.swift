import CaptureSource
import Foundation
import PacketDecoding
import Reconstruction
import StunWire
import WireEvents

/// The whole pipeline for commands that need the session model
/// (`analyze`, `export`): capture -> decode -> dissect -> reconstruct.
struct AnalysisRun {
    var input: CaptureOptions
    var credentialsFile: String?
    var sdpFiles: [String] = []
    var turnPorts: [UInt16] = []
    /// Called now and then with the bytes read so far (export's progress bar).
    var progress: ((Int64) -> Void)? = nil

    /// Runs the pipeline; `exitCode` is 2 when a capture could not be fully read.
    func run() -> (document: AnalysisDocument, exitCode: Int32) {
        let store: CredentialStore
        let sdp: SdpInput
        do {
            store = try credentialsFile.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore()
            sdp = try SdpInput(paths: sdpFiles)
            sdp.addCredentials(to: store)
        } catch {
            StandardError.report("\(error)")
            return (AnalysisDocument(), 2)
        }
        let pipeline = CapturePipeline(options: input)
        guard pipeline.open() else { return (AnalysisDocument(), 2) }
        let reconstructor = SessionReconstructor()
        for d in sdp.descriptions { reconstructor.signalledSdp(d.sdp, source: d.source) }
        var configuration = WireDissector.Configuration()
        configuration.turnServerPorts.formUnion(turnPorts)
        let dissector = WireDissector(consumer: reconstructor, credentials: store, configuration: configuration)
        let decoder = PacketDecoder(sink: dissector)
        var bytesRead: Int64 = 0
        var packetsSinceReport = 0
        pipeline.run(into: decoder, each: progress.map { report in
            { packet in
                bytesRead += Int64(packet.bytes.count + 16)
                packetsSinceReport += 1
                if packetsSinceReport >= 4096 {
                    packetsSinceReport = 0
                    report(bytesRead)
                }
            }
        })
        dissector.finish()
        let stats = decoder.currentStatistics()
        let wire = dissector.statistics
        var lower = EvictionCounters()
        lower.tcpStreams = stats.tcpStreamsEvicted + wire.tcpStreamsEvicted
        lower.ipFragments = stats.fragmentDatagramsEvicted
        lower.turnFiveTuples = wire.turnFlowsEvicted
        reconstructor.lowerStageEvictions = lower
        var doc = reconstructor.finish(packets: stats.packets)
        doc.captures = pipeline.readers.map { r in
            CaptureFileSummary(file: r.path, format: r.format.rawValue, linkType: r.linkType.name, packets: r.packetsRead)
        }
        return (doc, pipeline.exitCode)
    }
}
