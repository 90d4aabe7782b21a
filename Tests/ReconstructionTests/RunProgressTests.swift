import Foundation
import Pipeline
import Reconstruction
import StunWire
import Testing

/// What a progress line is fed: the reading position over the capture files
/// and the sessions alive, checked against the files and the finished model.
@Suite("Run progress")
struct RunProgressTests {
    static func path(_ name: String) -> String {
        GoldenDocumentTests.repository.appendingPathComponent("captures").appendingPathComponent(name).path
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? -1
    }

    @Test("the last report has read every byte and packet of the file", arguments: GoldenDocumentTests.captureNames)
    func lastReportCoversTheFile(name: String) {
        let path = RunProgressTests.path(name)
        var pipeline = AnalysisPipeline(input: CaptureInput(captures: [path]))
        var reports: [RunProgress] = []
        pipeline.progress = { reports.append($0) }
        let (doc, status) = pipeline.run()
        guard status == 0, let last = reports.last else {
            #expect(status != 0, "an undamaged file gets its last report")
            return
        }
        #expect(last.totalBytes == RunProgressTests.fileSize(path))
        #expect(last.bytesRead == RunProgressTests.fileSize(path))
        #expect(last.packets == doc.captures.first?.packets)
        #expect(last.sessionsAlive != nil)
        #expect(last.finished && reports.dropLast().allSatisfy { !$0.finished })
        #expect(reports.allSatisfy { $0.bytesRead <= last.bytesRead && $0.packets <= last.packets })
    }

    @Test("several files: bytes over all of them, packets before the filter")
    func severalFilesAndAFilter() {
        let names = ["decode-rotate.0.pcap", "decode-rotate.1.pcap", "decode-rotate.2.pcap", "decode-rotate.3.pcap"]
        let paths = names.map(RunProgressTests.path)
        var run = StatisticsRun(input: CaptureInput(captures: paths, filter: "tcp"))
        var last: RunProgress?
        run.progress = { last = $0 }
        let (report, status) = run.run()
        #expect(status == 0)
        let total = paths.map(RunProgressTests.fileSize).reduce(0, +)
        #expect(last == RunProgress(bytesRead: total, totalBytes: total,
                                    packets: report?.files.map(\.packets).reduce(0, +) ?? -1, sessionsAlive: nil,
                                    finished: true))
    }

    @Test("a file that is not a regular file has no total")
    func pipeHasNoTotal() {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("runprogress-\(getpid()).fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        #expect(CaptureInput(captures: [RunProgressTests.path("decode-merge.client.pcap"), fifo]).totalBytes == nil)
        #expect(CaptureInput(captures: [RunProgressTests.path("decode-merge.client.pcap")]).totalBytes
            == RunProgressTests.fileSize(RunProgressTests.path("decode-merge.client.pcap")))
    }

    /// The sessions alive once every packet is in, as the finished document tells them:
    /// allocations still active, ICE and Binding sessions whose last packet is within 30 s
    /// of the last message.
    @Test("sessions alive at the end agree with the finished document", arguments: GoldenDocumentTests.captureNames)
    func sessionsAliveAgreeWithTheDocument(name: String) {
        let reconstructor = SessionReconstructor()
        let stream = CaptureStream(input: CaptureInput(captures: [RunProgressTests.path(name)]))
        guard stream.open() else { return }
        let dissection = Dissection(consumer: reconstructor, credentials: CredentialStore())
        stream.run(into: dissection.decoder)
        dissection.finish()
        let alive = reconstructor.sessionsAlive
        let doc = reconstructor.finish(packets: 0)
        guard let end = doc.stats.lastTime else {
            #expect(alive == 0)
            return
        }
        let expected = doc.allocations.filter { $0.outcome == .active }.count
            + doc.iceSessions.filter { end - $0.end <= 30 }.count
            + doc.bindings.filter { end - $0.end <= 30 }.count
        #expect(alive == expected)
    }
}
