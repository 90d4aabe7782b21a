import Foundation
import Renderers
import StunWire
import Synchronization
import WireEvents

/// Rendered lines of one file, handed from its worker to the merging thread.
struct LineChunk: Sendable {
    var bytes: [UInt8] = []
    /// (capture time in ns, end offset in `bytes`) per line.
    var lines: [(time: Int64, end: Int)] = []
}

/// A bounded queue of chunks from one worker (backpressure keeps memory flat).
final class LineChannel: Sendable {
    private struct State {
        var queue: [LineChunk] = []
        var closed = false
    }

    private let state = WaitableMutex(State())
    private let capacity = 4

    func push(_ chunk: LineChunk) {
        state.withLock(waitingUntil: { $0.queue.count < capacity }) { $0.queue.append(chunk) }
    }

    func close() {
        state.withLock { $0.closed = true }
    }

    /// The next chunk, nil when the worker is done.
    func pop() -> LineChunk? {
        state.withLock(waitingUntil: { !$0.queue.isEmpty || $0.closed }) { s in
            s.queue.isEmpty ? nil : s.queue.removeFirst()
        }
    }
}

/// Renders `messages` lines like `MessagesPrinter`, into chunks for a `LineChannel`.
final class ChunkingPrinter: WireEventConsumer {
    private var renderer: MessageLineRenderer
    private let channel: LineChannel
    private var chunk = LineChunk()

    init(format: MessagesFormat, includeFileIndex: Bool, colour: Bool, channel: LineChannel) {
        renderer = MessageLineRenderer(format: format, includeFileIndex: includeFileIndex, colour: colour)
        self.channel = channel
    }

    func wireEvent(_ event: WireEvent) {
        if renderer.append(event, to: &chunk.bytes) {
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

/// `stunscope messages`: one line per STUN message or ChannelData frame, in capture order.
public struct MessagesRun {
    public var input: CaptureInput
    public var format: MessagesFormat
    public var credentials: CredentialStore
    public var turnPorts: [UInt16]
    /// Capture problems as they are found (the CLI prints them on stderr).
    public var report: @Sendable (String) -> Void

    public init(input: CaptureInput, format: MessagesFormat, credentials: CredentialStore, turnPorts: [UInt16],
                report: @escaping @Sendable (String) -> Void) {
        self.input = input
        self.format = format
        self.credentials = credentials
        self.turnPorts = turnPorts
        self.report = report
    }

    public struct Outcome: Sendable {
        public var exitCode: Int32
        /// What bounded tables forgot: some later messages may be missing.
        public var evictions: DissectionEvictions
    }

    /// One timestamp-ordered stream over all the files, or with `jobs` > 1 and several
    /// files one worker per file with the lines merged by capture time.
    public func run(jobs: Int, to out: FileDescriptorOutput) -> Outcome {
        if jobs > 1 && input.captures.count > 1 { return runParallel(jobs: jobs, to: out) }
        let report = self.report
        let stream = CaptureStream(input: input) { report($0.description) }
        guard stream.open() else { return Outcome(exitCode: 2, evictions: DissectionEvictions()) }
        let printer = MessagesPrinter(format: format, output: out, includeFileIndex: stream.readers.count > 1,
                                      colour: format == .text && out.isTerminal)
        let dissection = Dissection(consumer: printer, credentials: credentials, turnPorts: turnPorts)
        stream.run(into: dissection.decoder)
        dissection.finish()
        out.flush()
        return Outcome(exitCode: stream.exitCode, evictions: dissection.evictions)
    }

    /// Each file decoded and dissected on its own worker; lines merged by capture time (ties:
    /// the lower file index first, as the single-stream merge does).
    private func runParallel(jobs: Int, to out: FileDescriptorOutput) -> Outcome {
        let files = input.captures
        let channels = files.map { _ in LineChannel() }
        let colour = format == .text && out.isTerminal
        let results = WorkerResults()
        let finished = DispatchSemaphore(value: 0)
        // Each worker dissects with a store of its own: the SIP stage adds the ICE passwords it
        // learns to its store, and a file's passwords stay with that file (as `analyze --jobs`).
        let input = input, format = format, credentials = credentials.contents, turnPorts = turnPorts, report = report
        let workers = Thread {
            defer { finished.signal() }
            _ = ParallelRuns.map(files.count, jobs: jobs) { i -> Int in
                var one = input
                one.captures = [files[i]]
                let stream = CaptureStream(input: one) { report($0.description) }
                stream.fileIndexBase = i
                guard stream.open() else {
                    results.add(exitCode: 2, evictions: nil)
                    channels[i].close()
                    return 0
                }
                let printer = ChunkingPrinter(format: format, includeFileIndex: files.count > 1, colour: colour, channel: channels[i])
                let dissection = Dissection(consumer: printer, credentials: CredentialStore(credentials), turnPorts: turnPorts)
                stream.run(into: dissection.decoder)
                dissection.finish()
                printer.flush()
                results.add(exitCode: stream.exitCode, evictions: dissection.evictions)
                // Closed only now: the merging thread may finish as soon as every channel is closed.
                channels[i].close()
                return 0
            }
        }
        workers.stackSize = 8 << 20
        workers.start()
        LineChannel.merge(channels, to: out)
        out.flush()
        finished.wait()
        return results.outcome
    }
}

/// Exit status and evictions summed over the workers of a parallel run, behind one lock.
private final class WorkerResults: Sendable {
    private struct Sums {
        var status: Int32 = 0
        var opened = 0
        var evictions = DissectionEvictions()
    }

    private let sums = Mutex(Sums())

    /// `evictions` is nil for a file that could not be opened.
    func add(exitCode: Int32, evictions e: DissectionEvictions?) {
        sums.withLock { s in
            if exitCode != 0 { s.status = exitCode }
            if let e {
                s.opened += 1
                s.evictions.add(e)
            }
        }
    }

    var outcome: MessagesRun.Outcome {
        sums.withLock { s in
            MessagesRun.Outcome(exitCode: s.opened == 0 && s.status == 0 ? 2 : s.status, evictions: s.evictions)
        }
    }
}

extension LineChannel {
    /// k-way merge of the workers' line streams, by capture time.
    static func merge(_ channels: [LineChannel], to out: FileDescriptorOutput) {
        var current: [LineChunk?] = channels.map { $0.pop() }
        var line = [Int](repeating: 0, count: channels.count)
        while true {
            var best = -1
            var bestTime = Int64.max
            for i in 0..<channels.count {
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
    }
}
