/// A STUN request and its answer, matched by 5-tuple + transaction id + method.
public struct TransactionSummary: Codable, Sendable {
    public var transactionId: String
    public var method: String
    public var client: String
    public var server: String
    public var transport: String
    public var firstRequest: Double
    public var lastRequest: Double
    public var requestFrames: [Int]
    public var retransmissions: Int
    /// Seconds between successive sends of the same request.
    public var retransmissionSpacing: [Double]
    /// `success`, `error`, `unanswered`, `timed-out` (no answer within RFC 8489's Rc/Rm timeout)
    public var state: String
    public var responseFrame: Int?
    public var responseTime: Double?
    public var errorCode: Int?
    /// From the first request to the response (RFC 8489 uses the first send when retransmitted).
    public var rtt: Double?
    public var nested: Bool
}

public struct Finding: Codable, Sendable {
    public enum Severity: String, Codable, Sendable, Comparable {
        case info, warning, error
        public static func < (a: Severity, b: Severity) -> Bool {
            let order: [Severity] = [.info, .warning, .error]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }
    public var severity: Severity
    /// Stable code, e.g. `turn.auth.wrong-credentials` (docs/findings.md lists them all).
    public var code: String
    public var message: String
    public var frames: [Int]
    /// `allocation:3`, `binding:1`, `ice:2`, or nil for capture-wide findings.
    public var session: String?

    public init(severity: Severity, code: String, message: String, frames: [Int], session: String? = nil) {
        self.severity = severity
        self.code = code
        self.message = message
        self.frames = frames
        self.session = session
    }
}
