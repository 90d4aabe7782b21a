import OrderedCollections

/// Collects findings, merging repeats of the same code on the same session
/// into one finding with all their frames (bounded) and a count.
struct FindingCollector {
    private struct Key: Hashable {
        var code: FindingCode
        var session: SessionRef?
        var severity: Finding.Severity
        /// Keeps capture-wide findings about different things apart (e.g. one per flow).
        var subject: String?
    }
    /// In the order first raised.
    private var findings: OrderedDictionary<Key, (finding: Finding, count: Int)> = [:]
    /// The keys raised on each session (nil: capture-wide), so that asking about one session
    /// does not scan every finding of a capture with hundreds of thousands of sessions.
    private var keysBySession: [SessionRef?: [Key]] = [:]
    static let maxFramesPerFinding = 50
    /// `live`: told of each new finding (code and session) when it is first raised.
    weak var observer: LiveEventObserver?
    /// Capture time of the latest packet: when a finding is raised.
    var clock: Double = 0

    /// `message` and `frames` are only evaluated when needed: a repeat keeps the first message,
    /// and its frames only until the finding holds `maxFramesPerFinding`. A finding raised per
    /// packet (ChannelData on an expired channel, a flood) then costs a count, not text.
    mutating func add(_ severity: Finding.Severity, _ code: FindingCode, _ message: @autoclosure () -> FindingMessage,
                      frames: @autoclosure () -> [Int], session: SessionRef? = nil, subject: String? = nil) {
        let key = Key(code: code, session: session, severity: severity, subject: subject)
        if let index = findings.index(forKey: key) {
            if findings.values[index].finding.frames.count < FindingCollector.maxFramesPerFinding {
                Self.merge(frames(), into: &findings.values[index].finding.frames)
            }
            findings.values[index].count &+= 1
            return
        }
        let message = message()
        let frames = frames()
        observer?.liveEvent(LiveEvent(time: clock, frame: frames.first ?? 0, kind: .finding, session: session,
                                      message: "\(severity.rawValue) \(code.rawValue): \(message)", findingCode: code))
        var distinct: [Int] = []
        Self.merge(frames, into: &distinct)
        findings[key] = (Finding(severity: severity, code: code, message: message, frames: distinct, session: session), 1)
        keysBySession[session, default: []].append(key)
    }

    /// Adds the frames not listed yet, up to `maxFramesPerFinding`.
    private static func merge(_ frames: [Int], into list: inout [Int]) {
        for f in frames where list.count < maxFramesPerFinding && !list.contains(f) { list.append(f) }
    }

    /// Replaces the message of an existing finding (e.g. to state a final count).
    mutating func update(_ code: FindingCode, session: SessionRef?, message: (Int) -> FindingMessage) {
        for key in keysBySession[session] ?? [] where key.code == code {
            findings[key]!.finding.message = message(findings[key]!.count)
        }
    }

    /// Whether a finding with one of these codes was raised on this session.
    func has(_ codes: Set<FindingCode>, session: SessionRef?) -> Bool {
        keysBySession[session]?.contains { codes.contains($0.code) } ?? false
    }

    /// Drops a finding raised earlier (a later, more specific one explains the same problem).
    mutating func remove(_ code: FindingCode, session: SessionRef?) {
        guard let keys = keysBySession[session] else { return }
        for key in keys where key.code == code {
            findings.removeValue(forKey: key)
        }
        keysBySession[session] = keys.filter { $0.code != code }
    }

    var all: [Finding] {
        findings.values.map(\.finding)
            .sorted { ($0.severity, $1.frames.first ?? 0) > ($1.severity, $0.frames.first ?? 0) }
    }
}
