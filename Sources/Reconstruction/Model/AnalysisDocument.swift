/// The session model: what `analyze --format json` prints and every
/// renderer (text, CSV, SQLite, HTML, Mermaid) draws from.
///
/// Times are epoch seconds (fractional); endpoints are `ip:port` strings
/// (`[v6]:port`); field names are the documented JSON contract (docs/analyze.md).
public struct AnalysisDocument: Encodable, Sendable {
    public static let currentSchemaVersion = "1.0"

    public var schemaVersion = AnalysisDocument.currentSchemaVersion
    public var generator = "stunscope"
    public var captures: [CaptureFileSummary] = []
    public var stats = AnalysisStats()
    public var allocations: [TurnAllocationSummary] = []
    public var bindings: [BindingSessionSummary] = []
    public var natMappings: [NatMappingSummary] = []
    public var iceSessions: [IceSessionSummary] = []
    public var sipCalls: [SipCallSummary] = []
    public var transactions: [TransactionSummary] = []
    public var findings: [Finding] = []

    public init() {}
}

public struct CaptureFileSummary: Encodable, Sendable {
    public var file: String
    public var format: String
    public var linkType: String
    public var packets: Int
    public var sha256: String?
    public var firstTime: Double?
    public var lastTime: Double?
    public var error: String?

    public init(file: String, format: String, linkType: String, packets: Int, sha256: String? = nil,
                firstTime: Double? = nil, lastTime: Double? = nil, error: String? = nil) {
        self.file = file
        self.format = format
        self.linkType = linkType
        self.packets = packets
        self.sha256 = sha256
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.error = error
    }
}

public struct AnalysisStats: Encodable, Sendable {
    public var packets = 0
    public var firstTime: Double?
    public var lastTime: Double?
    public var stunMessages = 0
    public var classicStunMessages = 0
    public var channelDataFrames = 0
    public var malformed = 0
    public var nestedMessages = 0
    public var icmpErrors = 0
    public var transactions = 0
    public var unansweredTransactions = 0
    public var retransmissions = 0
    public var messagesByMethod: [String: Int] = [:]
    public var errorCodes: [String: Int] = [:]
    /// State dropped to stay within memory bounds (a flood, or a very long capture).
    public var evicted = EvictionCounters()

    public init() {}
}

public struct EvictionCounters: Encodable, Sendable, Equatable {
    public var transactions = 0
    public var allocations = 0
    public var bindings = 0
    public var iceSessions = 0
    public var peerLegDatagrams = 0
    public var tcpStreams = 0
    public var ipFragments = 0
    public var turnFiveTuples = 0
    /// Per-allocation detail not kept beyond its bounds: open requests, permissions,
    /// peers, TCP connections, refresh grants, connection-id index entries.
    public var allocationDetail = 0

    public init() {}

    public var total: Int {
        transactions + allocations + bindings + iceSessions + peerLegDatagrams + tcpStreams + ipFragments + turnFiveTuples
            + allocationDetail
    }
}
