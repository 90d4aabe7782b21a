import Crypto
import Foundation
import Reconstruction

/// One capture file and the session model rebuilt from it: the unit every
/// export format writes (`stunscope export` analyses each file on its own
/// unless told to merge them).
public struct ExportCapture: Sendable {
    /// The file as named on the command line (or the merged set's names).
    public var file: String
    public var document: AnalysisDocument

    public init(file: String, document: AnalysisDocument) {
        self.file = file
        self.document = document
    }

    /// The document's summary of this file, or one made from the stats.
    public var summary: CaptureFileSummary {
        if let s = document.captures.first(where: { $0.file == file }) { return s }
        if document.captures.count == 1, let s = document.captures.first { return s }
        return CaptureFileSummary(file: file, format: "", linkType: "", packets: document.stats.packets,
                                  firstTime: document.stats.firstTime, lastTime: document.stats.lastTime)
    }
}

public enum ExportSupport {
    /// SHA-256 of a file, hex, read in 1 MiB blocks; nil when it cannot be read.
    public static func sha256(ofFile path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { return nil }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Fills each capture summary's sha256 and first/last time (from the stats
    /// when the document covers that one file).
    public static func complete(_ doc: inout AnalysisDocument) {
        for i in doc.captures.indices {
            if doc.captures[i].sha256 == nil { doc.captures[i].sha256 = sha256(ofFile: doc.captures[i].file) }
            if doc.captures.count == 1 {
                if doc.captures[i].firstTime == nil { doc.captures[i].firstTime = doc.stats.firstTime }
                if doc.captures[i].lastTime == nil { doc.captures[i].lastTime = doc.stats.lastTime }
            }
        }
    }

    /// `2024-05-01T10:00:00.123Z` for an epoch time.
    public static func isoTime(_ t: Double) -> String {
        let whole = floor(t)
        let millis = Int(((t - whole) * 1000).rounded(.down))
        var tm = tm()
        var secs = time_t(whole)
        gmtime_r(&secs, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                      Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), millis)
    }

    /// Seconds with millisecond precision: `12.345 s`.
    public static func seconds(_ v: Double) -> String { String(format: "%.3f s", v) }
    /// `1.2 ms`.
    public static func millis(_ v: Double) -> String { String(format: "%.1f ms", v * 1000) }

    /// Every session of a document as (key, kind): `allocation:1`, `binding:2`,
    /// `ice:3`, `sip:1` — the keys findings use in `session`.
    public static func sessionKeys(_ doc: AnalysisDocument) -> [String] {
        doc.allocations.map { "allocation:\($0.id)" } + doc.bindings.map { "binding:\($0.id)" }
            + doc.iceSessions.map { "ice:\($0.id)" } + doc.sipCalls.indices.map { "sip:\($0 + 1)" }
    }
}
