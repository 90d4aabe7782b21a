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
    public var answered: Bool
    public var responseOrigin: String?
    public var mapped: String?
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
