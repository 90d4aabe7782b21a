import Foundation
import Reconstruction
import StunWire
import WireEvents

/// The whole pipeline for commands that need the session model (`analyze`,
/// `export`, the golden tests): capture -> decode -> dissect -> reconstruct.
public struct AnalysisPipeline {
    public var input: CaptureInput
    public var credentialsFile: String?
    public var sdpFiles: [String] = []
    public var turnPorts: [UInt16] = []
    /// Capture and set-up problems, as they are found (the CLI prints them on stderr).
    public var report: (String) -> Void = { _ in }
    /// How far the reading has got, a few times a second and once at the end (the progress line).
    public var progress: ((RunProgress) -> Void)? = nil

    public init(input: CaptureInput, credentialsFile: String? = nil, sdpFiles: [String] = [], turnPorts: [UInt16] = [],
                report: @escaping (String) -> Void = { _ in }) {
        self.input = input
        self.credentialsFile = credentialsFile
        self.sdpFiles = sdpFiles
        self.turnPorts = turnPorts
        self.report = report
    }

    /// Runs the pipeline; `exitCode` is 2 when a capture could not be fully read.
    public func run() -> (document: AnalysisDocument, exitCode: Int32) {
        let store: CredentialStore
        let sdp: SdpInput
        do {
            store = try credentialsFile.map { try CredentialStore(contentsOfFile: $0) } ?? CredentialStore()
            sdp = try SdpInput(paths: sdpFiles)
            sdp.addCredentials(to: store)
        } catch {
            report("\(error)")
            return (AnalysisDocument(), 2)
        }
        let report = self.report
        let stream = CaptureStream(input: input) { report($0.description) }
        guard stream.open() else { return (AnalysisDocument(), 2) }
        let reconstructor = SessionReconstructor()
        reconstructor.dropsCopiesAcrossFiles = stream.readers.count > 1
        for d in sdp.descriptions { reconstructor.signalledSdp(d.sdp, source: d.source) }
        let dissection = Dissection(consumer: reconstructor, credentials: store, turnPorts: turnPorts)
        stream.run(into: dissection.decoder, progress: progress.map { progress in
            { position in
                var position = position
                position.sessionsAlive = reconstructor.sessionsAlive
                progress(position)
            }
        })
        dissection.finish()
        reconstructor.lowerStageEvictions = dissection.evictions.lowerStages
        var doc = reconstructor.finish(packets: dissection.decoder.currentStatistics().packets)
        doc.captures = stream.captureSummaries
        return (doc, stream.exitCode)
    }
}
