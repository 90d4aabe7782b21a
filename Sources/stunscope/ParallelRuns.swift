import ArgumentParser
import Foundation
import PacketDecoding
import Reconstruction
import Renderers
import StunWire
import WireEvents

/// `--jobs N`: several capture files analysed at once, one file per worker.
///
/// A single run reads all its files as one timestamp-ordered stream, so a
/// session whose packets are split across rotated files is one session.
/// With `--jobs` above 1 and several files, each file is analysed on its own
/// thread instead and the documents are merged (`AnalysisMerge`): sessions
/// do not join across files, ids are renumbered in file order, lists are
/// concatenated in file order. One file is always one stream.
enum ParallelRuns {
    static var defaultJobs: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// `body(i)` for i in 0..<count on up to `jobs` threads; results in index order.
    static func map<T>(_ count: Int, jobs: Int, _ body: @escaping (Int) -> T) -> [T] {
        if count <= 1 || jobs <= 1 { return (0..<count).map(body) }
        let lock = NSLock()
        var results = [T?](repeating: nil, count: count)
        var next = 0
        let workers = min(jobs, count)
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            let thread = Thread {
                while true {
                    lock.lock()
                    let i = next
                    next += 1
                    lock.unlock()
                    if i >= count { break }
                    let r = body(i)
                    lock.lock()
                    results[i] = r
                    lock.unlock()
                }
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.map { $0! }
    }
}

/// Merges per-file analysis documents (in file order) into one.
enum AnalysisMerge {
    static let maxTransactions = 50_000

    static func merge(_ docs: [AnalysisDocument]) -> AnalysisDocument {
        guard docs.count > 1 else { return docs.first ?? AnalysisDocument() }
        var out = AnalysisDocument()
        var allocationBase = 0, bindingBase = 0, iceBase = 0
        var findings: [Finding] = []
        for (fileIndex, doc) in docs.enumerated() {
            out.captures += doc.captures
            mergeStats(&out.stats, doc.stats, first: fileIndex == 0)
            for var a in doc.allocations {
                a.id += allocationBase
                if fileIndex > 0 {
                    for k in a.timeline.indices where a.timeline[k].fileIndex == nil { a.timeline[k].fileIndex = fileIndex }
                }
                out.allocations.append(a)
            }
            for var b in doc.bindings {
                b.id += bindingBase
                out.bindings.append(b)
            }
            for var s in doc.iceSessions {
                s.id += iceBase
                out.iceSessions.append(s)
            }
            out.natMappings += doc.natMappings
            out.sipCalls += doc.sipCalls
            out.transactions += doc.transactions
            for var f in doc.findings {
                if let s = f.session {
                    f.session = renumber(s, "allocation:", allocationBase) ?? renumber(s, "binding:", bindingBase)
                        ?? renumber(s, "ice:", iceBase) ?? s
                    if allocationBase > 0, s.hasPrefix("allocation:"), let old = Int(s.dropFirst(11)) {
                        f.message = f.message.replacingOccurrences(of: "Allocation \(old)", with: "Allocation \(old + allocationBase)")
                    }
                }
                findings.append(f)
            }
            allocationBase += doc.allocations.map(\.id).max() ?? 0
            bindingBase += doc.bindings.map(\.id).max() ?? 0
            iceBase += doc.iceSessions.map(\.id).max() ?? 0
        }
        // One run keeps the first 50,000 transaction summaries (TransactionMatcher.maxKeptSummaries);
        // so does the merge, or N files would print N times as many as one stream.
        out.transactions.sort { $0.firstRequest < $1.firstRequest }
        if out.transactions.count > AnalysisMerge.maxTransactions { out.transactions.removeLast(out.transactions.count - AnalysisMerge.maxTransactions) }
        // FindingCollector's order: severity first (stable within a severity: file order).
        out.findings = findings.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity > b.element.severity : a.offset < b.offset
        }.map(\.element)
        return out
    }

    private static func renumber(_ session: String, _ prefix: String, _ base: Int) -> String? {
        guard session.hasPrefix(prefix), let n = Int(session.dropFirst(prefix.count)) else { return nil }
        return prefix + String(n + base)
    }

    private static func mergeStats(_ s: inout AnalysisStats, _ d: AnalysisStats, first: Bool) {
        s.packets += d.packets
        if let t = d.firstTime { s.firstTime = min(s.firstTime ?? t, t) }
        if let t = d.lastTime { s.lastTime = max(s.lastTime ?? t, t) }
        s.stunMessages += d.stunMessages
        s.classicStunMessages += d.classicStunMessages
        s.channelDataFrames += d.channelDataFrames
        s.malformed += d.malformed
        s.nestedMessages += d.nestedMessages
        s.icmpErrors += d.icmpErrors
        s.transactions += d.transactions
        s.unansweredTransactions += d.unansweredTransactions
        s.retransmissions += d.retransmissions
        s.messagesByMethod.merge(d.messagesByMethod, uniquingKeysWith: +)
        s.errorCodes.merge(d.errorCodes, uniquingKeysWith: +)
        s.evicted.transactions += d.evicted.transactions
        s.evicted.allocations += d.evicted.allocations
        s.evicted.bindings += d.evicted.bindings
        s.evicted.iceSessions += d.evicted.iceSessions
        s.evicted.peerLegDatagrams += d.evicted.peerLegDatagrams
        s.evicted.tcpStreams += d.evicted.tcpStreams
        s.evicted.ipFragments += d.evicted.ipFragments
        s.evicted.turnFiveTuples += d.evicted.turnFiveTuples
    }
}

/// `--jobs` for the commands that read capture files for a document or lines.
struct JobsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Capture files processed in parallel (default: the number of cores). Above 1 with several files, each file is processed on its own and the results merged: a session does not continue from one file into the next. Use --jobs 1 for one timestamp-ordered stream over all files (rotated capture sets).",
                               valueName: "n"))
    var jobs: Int?

    var count: Int { jobs ?? ParallelRuns.defaultJobs }

    func validate() throws {
        if let j = jobs, j < 1 { throw ValidationError("--jobs must be at least 1") }
    }
}

extension ParallelRuns {
    /// One analysis of all the files, or with `jobs` > 1 and several files one per file, merged.
    static func analyze(_ input: CaptureOptions, jobs: Int,
                        _ run: @escaping (CaptureOptions) -> (document: AnalysisDocument, exitCode: Int32)) -> (document: AnalysisDocument, exitCode: Int32) {
        guard jobs > 1, input.captures.count > 1 else { return run(input) }
        let results = map(input.captures.count, jobs: jobs) { i -> (document: AnalysisDocument, exitCode: Int32) in
            var one = input
            one.captures = [input.captures[i]]
            return run(one)
        }
        let docs = results.map(\.document).filter { !$0.captures.isEmpty }
        let status = results.map(\.exitCode).max() ?? 0
        return (AnalysisMerge.merge(docs), status)
    }
}

// MARK: - messages --jobs

/// Rendered lines of one file, handed from its worker to the merging thread.
final class LineChunk {
    var bytes: [UInt8] = []
    /// (capture time in ns, end offset in `bytes`) per line.
    var lines: [(time: Int64, end: Int)] = []
}

/// A bounded queue of chunks from one worker (backpressure keeps memory flat).
final class LineChannel {
    private let condition = NSCondition()
    private var queue: [LineChunk] = []
    private var closed = false
    private let capacity = 4

    func push(_ chunk: LineChunk) {
        condition.lock()
        while queue.count >= capacity { condition.wait() }
        queue.append(chunk)
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk, nil when the worker is done.
    func pop() -> LineChunk? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        if queue.isEmpty { return nil }
        let c = queue.removeFirst()
        condition.broadcast()
        return c
    }
}

/// Renders `messages` lines like `MessagesPrinter`, into chunks for a `LineChannel`.
final class ChunkingPrinter: WireEventConsumer {
    private let format: MessagesCommand.MessagesFormat
    private let ndjson: MessagesNDJSON
    private let text: MessagesText
    private var writer = JSONByteWriter()
    private let channel: LineChannel
    private var chunk = LineChunk()

    init(format: MessagesCommand.MessagesFormat, includeFileIndex: Bool, colour: Bool, channel: LineChannel) {
        self.format = format
        self.ndjson = MessagesNDJSON(includeFileIndex: includeFileIndex)
        self.text = MessagesText(style: TerminalStyle(enabled: colour))
        self.channel = channel
    }

    func wireEvent(_ event: WireEvent) {
        let before = chunk.bytes.count
        switch format {
        case .ndjson:
            writer.reset()
            if ndjson.write(event, to: &writer) { chunk.bytes.append(contentsOf: writer.bytes) }
        case .text:
            if let line = text.line(event) {
                chunk.bytes.append(contentsOf: line.utf8)
                chunk.bytes.append(0x0a)
            }
        }
        if chunk.bytes.count > before {
            chunk.lines.append((event.context.time.nanoseconds, chunk.bytes.count))
            if chunk.bytes.count >= 1 << 18 { flush() }
        }
    }

    func flush() {
        guard !chunk.lines.isEmpty else { return }
        channel.push(chunk)
        chunk = LineChunk()
    }
}

extension WireEvent {
    /// The frame context of whatever the event is about.
    var context: FrameContext {
        switch self {
        case let .stunMessage(e): return e.context
        case let .channelData(e): return e.context
        case let .malformed(e): return e.context
        case let .otherPayload(e): return e.context
        case let .icmpError(e): return e.context
        case let .tcpConnection(e): return e.context
        case let .streamSkipped(e): return e.context
        }
    }
}

enum ParallelMessages {
    /// Each file decoded and dissected on its own worker; lines merged by capture time (ties:
    /// the lower file index first, as the single-stream merge does). Returns the exit status.
    static func run(_ input: CaptureOptions, jobs: Int, format: MessagesCommand.MessagesFormat, store: CredentialStore,
                    turnPorts: [UInt16], out: OutputStream) -> Int32 {
        let files = input.captures
        let channels = files.map { _ in LineChannel() }
        let colour = format == .text && out.isTerminal
        let lock = NSLock()
        var status: Int32 = 0
        var statistics = WireStatistics()
        var fragmentsEvicted = 0
        var opened = 0
        let finished = DispatchSemaphore(value: 0)
        let workers = Thread {
            defer { finished.signal() }
            _ = ParallelRuns.map(files.count, jobs: jobs) { i -> Int in
                var one = input
                one.captures = [files[i]]
                let pipeline = CapturePipeline(options: one)
                pipeline.fileIndexBase = i
                guard pipeline.open() else {
                    lock.lock(); status = 2; lock.unlock()
                    channels[i].close()
                    return 0
                }
                let printer = ChunkingPrinter(format: format, includeFileIndex: files.count > 1, colour: colour, channel: channels[i])
                var configuration = WireDissector.Configuration()
                configuration.turnServerPorts.formUnion(turnPorts)
                let dissector = WireDissector(consumer: printer, credentials: store, configuration: configuration)
                let decoder = PacketDecoder(sink: dissector)
                pipeline.run(into: decoder)
                dissector.finish()
                printer.flush()
                let s = dissector.statistics
                let decoded = decoder.currentStatistics()
                lock.lock()
                opened += 1
                if pipeline.exitCode != 0 { status = pipeline.exitCode }
                statistics.turnFlowsEvicted += s.turnFlowsEvicted
                statistics.tcpStreamsEvicted += s.tcpStreamsEvicted + decoded.tcpStreamsEvicted
                fragmentsEvicted += decoded.fragmentDatagramsEvicted
                statistics.integrityTransactionsEvicted += s.integrityTransactionsEvicted
                lock.unlock()
                // Closed only now: the merging thread may finish as soon as every channel is closed.
                channels[i].close()
                return 0
            }
        }
        workers.stackSize = 8 << 20
        workers.start()

        // k-way merge of the files' line streams.
        var current: [LineChunk?] = channels.map { $0.pop() }
        var line = [Int](repeating: 0, count: files.count)
        while true {
            var best = -1
            var bestTime = Int64.max
            for i in 0..<files.count {
                guard let c = current[i] else { continue }
                let t = c.lines[line[i]].time
                if best < 0 || t < bestTime { best = i; bestTime = t }
            }
            if best < 0 { break }
            let c = current[best]!
            let start = line[best] == 0 ? 0 : c.lines[line[best] - 1].end
            let end = c.lines[line[best]].end
            c.bytes.withUnsafeBytes { out.write(bytes: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            line[best] += 1
            if line[best] == c.lines.count {
                current[best] = channels[best].pop()
                line[best] = 0
            }
        }
        out.flush()
        finished.wait()
        lock.lock()
        defer { lock.unlock() }
        // The same note as the single-stream path (MessagesCommand), summed over the files.
        if statistics.turnFlowsEvicted > 0 || statistics.tcpStreamsEvicted > 0 || statistics.integrityTransactionsEvicted > 0
            || fragmentsEvicted > 0 {
            StandardError.report("note: bounded tables forgot \(statistics.turnFlowsEvicted) TURN 5-tuples, "
                + "\(statistics.tcpStreamsEvicted) TCP streams, \(fragmentsEvicted) incomplete IP datagrams and "
                + "\(statistics.integrityTransactionsEvicted) request keys; some later messages, ChannelData or "
                + "integrity results may be missing")
        }
        if opened == 0 && status == 0 { status = 2 }
        return status
    }
}
