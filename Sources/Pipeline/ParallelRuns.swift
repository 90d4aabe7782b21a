import Foundation
import Reconstruction
import Synchronization

/// `--jobs N`: several capture files analysed at once, one file per worker.
///
/// A single run reads all its files as one timestamp-ordered stream, so a
/// session whose packets are split across rotated files is one session.
/// With `--jobs` above 1 and several files, each file is analysed on its own
/// thread instead and the documents are merged (`AnalysisDocument.merged`):
/// sessions do not join across files, ids are renumbered in file order,
/// lists are concatenated in file order. One file is always one stream.
public enum ParallelRuns {
    public static var defaultJobs: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// `body(i)` for i in 0..<count on up to `jobs` threads; results in index order.
    public static func map<T: Sendable>(_ count: Int, jobs: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        if count <= 1 || jobs <= 1 { return (0..<count).map(body) }
        let work = WorkList<T>(count: count)
        let done = DispatchGroup()
        for _ in 0..<min(jobs, count) {
            done.enter()
            let thread = Thread {
                while let i = work.next() {
                    work.store(body(i), at: i)
                }
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return work.results()
    }
}

/// The indexes `ParallelRuns.map` hands out and the results the workers hand
/// back, behind one lock. The calling thread reads the results once every
/// worker has left the group.
private final class WorkList<T: Sendable>: Sendable {
    private struct State {
        var next = 0
        var results: [T?]
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(results: [T?](repeating: nil, count: count)))
    }

    /// The next index to work on, nil when every index has been handed out.
    func next() -> Int? {
        state.withLock { s in
            guard s.next < s.results.count else { return nil }
            defer { s.next += 1 }
            return s.next
        }
    }

    func store(_ result: T, at index: Int) {
        state.withLock { $0.results[index] = result }
    }

    /// Every result, in index order (call after every worker has finished).
    func results() -> [T] {
        state.withLock { $0.results.map { $0! } }
    }
}

extension ParallelRuns {
    /// One analysis of all the files, or with `jobs` > 1 and several files one per file, merged.
    public static func analyze(_ input: CaptureInput, jobs: Int,
                               _ run: @escaping @Sendable (CaptureInput) -> (document: AnalysisDocument, exitCode: Int32)) -> (document: AnalysisDocument, exitCode: Int32) {
        guard jobs > 1, input.captures.count > 1 else { return run(input) }
        let results = map(input.captures.count, jobs: jobs) { i -> (document: AnalysisDocument, exitCode: Int32) in
            var one = input
            one.captures = [input.captures[i]]
            return run(one)
        }
        let docs = results.map(\.document).filter { !$0.captures.isEmpty }
        let status = results.map(\.exitCode).max() ?? 0
        return (AnalysisDocument.merged(docs), status)
    }
}
