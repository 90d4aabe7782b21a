import NetworkVocabulary

/// A STUN request and its answer, matched by 5-tuple + transaction id + method.
public struct TransactionSummary: Encodable, Sendable {
    public var transactionId: String
    public var method: String
    public var client: String
    public var server: String
    public var transport: TransportProtocol
    public var firstRequest: Double
    public var lastRequest: Double
    public var requestFrames: [Int]
    public var retransmissions: Int
    /// Seconds between successive sends of the same request.
    public var retransmissionSpacing: [Double]
    /// `success`, `error`, `unanswered`, `timed-out` (no answer within RFC 8489's Rc/Rm timeout)
    public var state: TransactionState
    public var responseFrame: Int?
    public var responseTime: Double?
    public var errorCode: Int?
    /// Where the answer came from when not the request's destination, or went to when not its
    /// source: an RFC 3489 / 5780 NAT test answered from the alternate address or port, or to
    /// RESPONSE-PORT (`203.0.113.21:3479 -> 203.0.113.2:40001`). Absent for ordinary answers.
    public var responseFlow: String?
    /// From the request to the response; nil when the request was retransmitted (Karn's rule,
    /// RFC 6298 section 3: the response cannot be told to answer one send or another).
    public var rtt: Double?
    public var nested: Bool
}

public struct Finding: Encodable, Sendable {
    public enum Severity: String, ContractValue, Comparable, CaseIterable {
        case info, warning, error
        private var rank: Int {
            switch self {
            case .info: return 0
            case .warning: return 1
            case .error: return 2
            }
        }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }
    public var severity: Severity
    /// Stable code, e.g. `turn.auth.wrong-credentials` (docs/findings.md lists them all).
    public var code: FindingCode
    public var message: FindingMessage
    public var frames: [Int]
    /// The session it is about, or nil for capture-wide findings.
    public var session: SessionRef?

    public init(severity: Severity, code: FindingCode, message: FindingMessage, frames: [Int], session: SessionRef? = nil) {
        self.severity = severity
        self.code = code
        self.message = message
        self.frames = frames
        self.session = session
    }
}
