import NetworkVocabulary

/// Plain (non-ICE) Binding exchanges between a client endpoint and a STUN server.
public struct BindingSessionSummary: Encodable, Sendable {
    public var id: Int
    public var client: String
    public var server: String
    public var transport: TransportProtocol
    public var classic: Bool
    public var start: Double
    public var end: Double
    public var requests: Int
    public var responses: Int
    public var errorResponses: Int
    public var indications: Int
    public var retransmissions: Int
    /// Reflexive addresses the server reported (XOR-MAPPED-ADDRESS or MAPPED-ADDRESS), in order of first report.
    public var reflexive: [String]
    public var rtt: DelayStatistics?
    /// Seconds between consecutive keepalives (requests or indications).
    public var keepaliveInterval: DelayStatistics?
    public var longestGap: Double?
    public var software: String?
    /// RFC 5780 / RFC 3489 NAT-behaviour tests seen in this session.
    public var natTests: [NatTest] = []
    public var otherAddress: String?
    public var responseOrigin: String?
    public var changedAddress: String?
}

public struct NatTest: Encodable, Sendable {
    public var frame: Int
    public var changeIP: Bool
    public var changePort: Bool
    /// RFC 5780 RESPONSE-PORT: the client port the answer was asked to go to.
    public var responsePort: UInt16?
    public var answered: Bool
    /// The answer's frame and source: the alternate address/port when CHANGE-REQUEST asked for it.
    public var answerFrame: Int?
    public var answeredFrom: String?
    public var responseOrigin: String?
    public var mapped: String?

    public init(frame: Int, changeIP: Bool, changePort: Bool, responsePort: UInt16? = nil, answered: Bool,
                answerFrame: Int? = nil, answeredFrom: String? = nil, responseOrigin: String?, mapped: String?) {
        self.frame = frame
        self.changeIP = changeIP
        self.changePort = changePort
        self.responsePort = responsePort
        self.answered = answered
        self.answerFrame = answerFrame
        self.answeredFrom = answeredFrom
        self.responseOrigin = responseOrigin
        self.mapped = mapped
    }
}

/// Per local endpoint, what different servers said about its public mapping.
public struct NatMappingSummary: Encodable, Sendable {
    public var local: String
    public var observations: [Observation]
    /// `endpoint-independent`, `address-dependent` (symmetric), or `unknown` (one server only).
    public var mappingBehavior: NatBehavior
    public var filteringBehavior: NatBehavior?
    public var explanation: String

    public struct Observation: Encodable, Sendable {
        public var server: String
        public var reflexive: String
        public var frame: Int
    }
}
