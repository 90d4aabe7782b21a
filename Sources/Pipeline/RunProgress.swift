import Foundation

/// How far a run over capture files has got: what a progress line shows,
/// handed out a few times a second while the files are read (and once at
/// the end), never per packet.
public struct RunProgress: Sendable, Equatable {
    /// Bytes of the capture files read so far, over all of them, headers included.
    public var bytesRead: Int64
    /// The capture files' total size; nil when one of them is not a regular file (a pipe).
    public var totalBytes: Int64?
    /// Packets read so far (before `--filter`).
    public var packets: Int
    /// Allocations, ICE sessions and Binding sessions alive; nil for runs without sessions.
    public var sessionsAlive: Int?
    /// The last report: the files are read (to their end, or to the damage that ended them).
    public var finished: Bool

    public init(bytesRead: Int64, totalBytes: Int64?, packets: Int, sessionsAlive: Int? = nil, finished: Bool = false) {
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.packets = packets
        self.sessionsAlive = sessionsAlive
        self.finished = finished
    }

    /// The clock is read once per this many packets: a clock read (tens of nanoseconds)
    /// per packet would be a visible share of `stats`, which spends ~300 ns on a packet.
    static let packetsBetweenClockReads = 1_024
    /// Shortest time between two reports.
    static let interval: Duration = .milliseconds(250)
}

extension CaptureInput {
    /// The capture files' total size in bytes; nil when one of them is not a regular
    /// file (stdin, a pipe: its size is unknown until it ends) or cannot be looked at.
    public var totalBytes: Int64? {
        var total: Int64 = 0
        for path in captures {
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            total &+= Int64(st.st_size)
        }
        return total
    }
}
