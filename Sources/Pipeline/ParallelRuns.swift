import Foundation
import Synchronization

/// `--jobs N`: independent analyses run at once, one per worker.
///
/// Only work whose result cannot depend on the number of workers runs here:
/// `export` without `--merge` (one document per file, each file its own
/// run). Several files read together (`analyze`, `messages`, `export --merge`)
/// are always one timestamp-ordered stream on one thread: a session split
/// across rotated files is one session, a packet seen at two capture points is
/// recognised as a copy, and the output is the same for every `--jobs`.
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
