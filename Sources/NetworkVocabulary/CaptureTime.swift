/// A capture timestamp: nanoseconds since the Unix epoch.
///
/// One integer instead of (seconds, fraction) keeps comparisons and
/// differences cheap on the hot path and loses nothing: files are opened with
/// nanosecond precision, and Int64 nanoseconds reach the year 2262.
public struct CaptureTime: Hashable, Comparable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public init(seconds: Int64, nanoseconds fraction: Int64) {
        self.nanoseconds = seconds &* 1_000_000_000 &+ fraction
    }

    public static func < (lhs: CaptureTime, rhs: CaptureTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Seconds since the epoch, fractional (the JSON representation).
    public var epochSeconds: Double { Double(nanoseconds) / 1e9 }

    public static func - (lhs: CaptureTime, rhs: CaptureTime) -> Duration {
        Duration.nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    public func adding(seconds: Double) -> CaptureTime {
        CaptureTime(nanoseconds: nanoseconds &+ Int64(seconds * 1e9))
    }

    public func adding(nanoseconds delta: Int64) -> CaptureTime {
        CaptureTime(nanoseconds: nanoseconds &+ delta)
    }

    /// Seconds from `earlier` to `self`.
    public func seconds(since earlier: CaptureTime) -> Double {
        Double(nanoseconds &- earlier.nanoseconds) / 1e9
    }

    /// `2024-05-01T10:11:12.123456789Z`, the precision the capture holds.
    public var iso8601: String {
        // Floor division without overflow: pcapng timestamps can be anything, Int64.min included.
        var secs = nanoseconds / 1_000_000_000
        var frac = nanoseconds % 1_000_000_000
        if frac < 0 { secs -= 1; frac += 1_000_000_000 }
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 { days -= 1; rem += 86_400 }
        let (y, m, d) = CaptureTime.civilFromDays(days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem % 3600 / 60, 2)):\(pad(rem % 60, 2)).\(pad(frac, 9))Z"
    }

    // Howard Hinnant's days-from-civil inverse; avoids Foundation's calendar on the output path.
    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
