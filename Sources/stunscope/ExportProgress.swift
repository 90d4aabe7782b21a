import Pipeline
import Synchronization

/// export's reading progress over every group of files, analysed one after
/// the other or by several workers at once: the latest report of each group,
/// summed into one line.
final class ExportProgress: Sendable {
    private let line: ProgressLine
    /// Every capture file's size together; nil when one of them is not a regular file.
    private let totalBytes: Int64?
    private let latest: Mutex<[RunProgress?]>

    init(groups: Int, totalBytes: Int64?, line: ProgressLine) {
        self.line = line
        self.totalBytes = totalBytes
        latest = Mutex([RunProgress?](repeating: nil, count: groups))
    }

    /// Group `group` has got to `progress`: shows the sum over the groups.
    func update(group: Int, _ progress: RunProgress) {
        let sum = latest.withLock { latest -> RunProgress in
            if group < latest.count { latest[group] = progress }
            // A group's last report only updates a line already shown, as for one run.
            var sum = RunProgress(bytesRead: 0, totalBytes: totalBytes, packets: 0, sessionsAlive: 0, finished: progress.finished)
            for case let p? in latest {
                sum.bytesRead &+= p.bytesRead
                sum.packets &+= p.packets
                sum.sessionsAlive = sum.sessionsAlive.map { $0 &+ (p.sessionsAlive ?? 0) }
            }
            return sum
        }
        line.showReading(sum)
    }
}
