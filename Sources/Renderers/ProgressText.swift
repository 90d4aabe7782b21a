import Foundation

/// The words of the progress line `stunscope` keeps on stderr while it reads
/// captures or a live interface (the CLI's `ProgressLine` draws them in place).
/// Built from counters only, never from packet contents: nothing to escape.
public enum ProgressText {
    /// Reading capture files, most telling first (a narrow terminal keeps the first parts):
    /// `45.2 MiB of 180.0 MiB (25%)`, `12s left`, `412k packets/s`, `1204 sessions alive`.
    /// Without a total (a pipe) no percentage and no time left; without sessions (`stats`,
    /// `messages`) no session count. Rates are averages since the start (`elapsed` seconds).
    public static func reading(bytesRead: Int64, totalBytes: Int64?, packets: Int, sessionsAlive: Int?,
                               elapsed: Double) -> [String] {
        var parts: [String] = []
        if let total = totalBytes, total > 0 {
            let done = min(max(bytesRead, 0), total)
            parts.append("\(bytes(done)) of \(bytes(total)) (\(done * 100 / total)%)")
            if done > 0, elapsed > 0 {
                parts.append("\(duration(Double(total - done) / (Double(done) / elapsed))) left")
            }
        } else {
            parts.append("\(bytes(max(bytesRead, 0))) read")
        }
        parts.append("\(rate(elapsed > 0 ? Double(packets) / elapsed : 0)) packets/s")
        if let sessionsAlive { parts.append("\(sessionsAlive) \(sessionsAlive == 1 ? "session" : "sessions") alive") }
        return parts
    }

    /// A live capture: `captured 1234567`, `kernel dropped 0`, `shed 0`, `120k packets/s`:
    /// packets read from the interface, dropped by the kernel before libpcap saw them
    /// (absent when libpcap gives no counters), shed because the analysis fell behind, and
    /// the capture rate over the last update.
    public static func live(captured: Int, kernelDropped: Int?, shed: Int, packetsPerSecond: Double) -> [String] {
        var parts = ["captured \(captured)"]
        if let kernelDropped { parts.append("kernel dropped \(kernelDropped)") }
        parts.append("shed \(shed)")
        parts.append("\(rate(packetsPerSecond)) packets/s")
        return parts
    }

    /// `parts` joined by ", ", cut to fit a terminal `columns` wide: whole parts are left
    /// off from the end, and only a first part too long on its own is cut inside. The last
    /// column stays empty: a character there makes some terminals wrap, and the next redraw
    /// would then start a line lower. ASCII only: a column a character.
    public static func line(_ parts: [String], columns: Int) -> String {
        let room = max(columns - 1, 0)
        var line = ""
        for (i, part) in parts.enumerated() {
            let next = i == 0 ? part : line + ", " + part
            if next.utf8.count > room { return i == 0 ? String(next.prefix(room)) : line }
            line = next
        }
        return line
    }

    /// A byte count in binary units with one decimal: `512 B`, `1.5 KiB`, `45.2 MiB`, `3.0 GiB`.
    public static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(n) / 1024
        var unit = 0
        // 1023.96 MiB would print as "1024.0 MiB": switch unit where the rounding does.
        while value >= 1023.95 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f", value) + " " + units[unit]
    }

    /// A rate with about three significant digits: `950`, `41.2k`, `412k`, `1.25M`.
    public static func rate(_ perSecond: Double) -> String {
        guard perSecond.isFinite, perSecond >= 0 else { return "0" }
        if perSecond < 999.5 { return String(Int(perSecond.rounded())) }
        for (scale, suffix) in [(1e3, "k"), (1e6, "M"), (1e9, "G")] {
            let v = perSecond / scale
            if v < 9.995 { return String(format: "%.2f", v) + suffix }
            if v < 99.95 { return String(format: "%.1f", v) + suffix }
            if v < 999.5 || suffix == "G" { return String(format: "%.0f", v) + suffix }
        }
        return "0"
    }

    /// Seconds as `45s`, `2m05s`, `1h02m` (rounded up: a time left never shows 0s early).
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0s" }
        let s = Int(min(seconds, 359_999).rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + twoDigits(s % 60) + "s" }
        return "\(s / 3600)h" + twoDigits(s / 60 % 60) + "m"
    }

    private static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
