import Foundation
import Reconstruction

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
    public static func map<T>(_ count: Int, jobs: Int, _ body: @escaping (Int) -> T) -> [T] {
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

extension ParallelRuns {
    /// One analysis of all the files, or with `jobs` > 1 and several files one per file, merged.
    public static func analyze(_ input: CaptureInput, jobs: Int,
                               _ run: @escaping (CaptureInput) -> (document: AnalysisDocument, exitCode: Int32)) -> (document: AnalysisDocument, exitCode: Int32) {
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
