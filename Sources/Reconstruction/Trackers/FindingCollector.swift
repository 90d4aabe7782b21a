import OrderedCollections

/// Collects findings, merging repeats of the same code on the same session
/// into one finding with all their frames (bounded) and a count.
struct FindingCollector {
    private struct Key: Hashable {
        var code: FindingCode
        var session: SessionRef?
    }
    /// In the order first raised.
    private var findings: OrderedDictionary<Key, (finding: Finding, count: Int)> = [:]
    static let maxFramesPerFinding = 50
    /// `live`: told of each new finding (code and session) when it is first raised.
    weak var observer: LiveEventObserver?
    /// Capture time of the latest packet: when a finding is raised.
    var clock: Double = 0

    mutating func add(_ severity: Finding.Severity, _ code: FindingCode, _ message: FindingMessage, frames: [Int], session: SessionRef? = nil) {
        let key = Key(code: code, session: session)
        if var existing = findings[key] {
            for f in frames where existing.finding.frames.count < FindingCollector.maxFramesPerFinding
                && !existing.finding.frames.contains(f) {
                existing.finding.frames.append(f)
            }
            existing.count &+= 1
            findings[key] = existing
            return
        }
        observer?.liveEvent(LiveEvent(time: clock, frame: frames.first ?? 0, kind: .finding, session: session,
                                      message: "\(severity.rawValue) \(code.rawValue): \(message)", findingCode: code))
        findings[key] = (Finding(severity: severity, code: code, message: message,
                                 frames: Array(frames.prefix(FindingCollector.maxFramesPerFinding)), session: session), 1)
    }

    /// Replaces the message of an existing finding (e.g. to state a final count).
    mutating func update(_ code: FindingCode, session: SessionRef?, message: (Int) -> FindingMessage) {
        let key = Key(code: code, session: session)
        guard var existing = findings[key] else { return }
        existing.finding.message = message(existing.count)
        findings[key] = existing
    }

    func count(_ code: FindingCode, session: SessionRef?) -> Int {
        findings[Key(code: code, session: session)]?.count ?? 0
    }

    var all: [Finding] {
        findings.values.map(\.finding)
            .sorted { ($0.severity, $1.frames.first ?? 0) > ($1.severity, $0.frames.first ?? 0) }
    }
}
