/// ICE sessions and SIP calls are rebuilt by the ICE reconstructor (issue 6);
/// the shapes live here so every renderer sees one model.
public struct IceSessionSummary: Codable, Sendable {
    public var id: Int
    public var ufrags: [String]
    public var controlling: String?
    public var controlled: String?
    public var tieBreakers: [String: String] = [:]
    public var roleConflicts: Int = 0
    public var nomination: String
    public var candidates: [IceCandidateSummary] = []
    public var pairs: [IcePairSummary] = []
    public var selectedPair: IceSelectedPair?
    public var start: Double
    public var end: Double
    public var connectTime: Double?
    public var firstMediaTime: Double?
    public var consent: ConsentSummary?
    public var integrity: String?
    public var call: String?
    public var visibility: [String] = []
    public var timeline: [TimelineEntry] = []

    public init(id: Int, ufrags: [String], nomination: String, start: Double, end: Double) {
        self.id = id
        self.ufrags = ufrags
        self.nomination = nomination
        self.start = start
        self.end = end
    }
}

public struct IceCandidateSummary: Codable, Sendable {
    public var address: String
    public var type: String
    public var reason: String?
    public var source: String
    public var agent: String?
    public var transport: String?
    public var priority: UInt32?
    public var foundation: String?
    public var relatedAddress: String?
    public var checked: Bool

    public init(address: String, type: String, reason: String? = nil, source: String, agent: String? = nil,
                transport: String? = nil, priority: UInt32? = nil, foundation: String? = nil,
                relatedAddress: String? = nil, checked: Bool) {
        self.address = address
        self.type = type
        self.reason = reason
        self.source = source
        self.agent = agent
        self.transport = transport
        self.priority = priority
        self.foundation = foundation
        self.relatedAddress = relatedAddress
        self.checked = checked
    }
}

public struct IcePairSummary: Codable, Sendable {
    public var local: String
    public var remote: String
    public var localType: String
    public var remoteType: String
    public var transport: String
    public var viaRelay: Bool
    public var state: String
    public var nominated: Bool
    public var requestsSent: Int
    public var responsesReceived: Int
    public var errorResponses: Int
    public var retransmissions: Int
    public var firstRequest: Double?
    public var lastRequest: Double?
    public var firstResponse: Double?
    public var lastResponse: Double?
    public var rtt: DelayStatistics?
    /// Which of the 4-way handshake's steps the capture saw: check, response, triggered check, response.
    public var handshake: [Bool]
}

public struct IceSelectedPair: Codable, Sendable {
    public var local: String
    public var remote: String
    public var localType: String
    public var remoteType: String
}

public struct ConsentSummary: Codable, Sendable {
    public var checks: Int
    public var indications: Int
    public var interval: DelayStatistics?
    public var longestGap: Double?
}

public struct SipCallSummary: Codable, Sendable {
    public var callId: String
    public var from: String?
    public var to: String?
    public var messages: [SipMessageSummary] = []
    public var offer: SdpSummary?
    public var answer: SdpSummary?
    public var iceSession: Int?
    public var signalledCandidates = 0
    public var checkedCandidates = 0
    public var neverChecked: [String] = []

    public init(callId: String) { self.callId = callId }
}

public struct SipMessageSummary: Codable, Sendable {
    public var frame: Int
    public var time: Double
    public var src: String
    public var dst: String
    public var line: String
    public var cseq: String?
}

public struct SdpSummary: Codable, Sendable {
    public var iceUfrag: String?
    public var hasIcePwd: Bool
    public var iceOptions: String?
    public var setup: String?
    public var connection: String?
    public var media: [String]
    public var candidates: [String]
}
