import NetworkVocabulary
import StunWire

/// ICE sessions and SIP calls are rebuilt by the ICE reconstructor (issue 6);
/// the shapes live here so every renderer sees one model.
///
/// Addresses in pairs are as seen at the vantage point (the wire); `local`
/// is always the controlling agent's side (the first checker's when no role
/// was seen). Candidate types are ICE's: `localType` / `remoteType` as the
/// controlling agent sees them, `controlledLocalType` / `controlledRemoteType`
/// as the controlled agent does (a NAT-mapped host is `host` to its owner
/// and `srflx` or `prflx` to its peer).
public struct IceSessionSummary: Encodable, Sendable {
    public var id: Int
    public var ufrags: [String]
    /// The controlling agent's address on the selected pair (else on its first check); nil when unknown.
    public var controlling: String?
    public var controlled: String?
    public var controllingUfrag: String?
    public var controlledUfrag: String?
    /// How the roles were learnt: `ice-controlling` (a check carried it), `inferred` (only the other side's ICE-CONTROLLED was seen), or nil.
    public var roleSource: IceRoleSource?
    public var tieBreakers: [String: String] = [:]
    public var roleConflicts: Int = 0
    /// `regular`, `aggressive`, `renomination` or `none` (no nominating check seen).
    public var nomination: NominationMode
    public var agents: [IceAgentSummary] = []
    public var candidates: [IceCandidateSummary] = []
    public var pairs: [IcePairSummary] = []
    public var pairsDropped = 0
    public var selectedPair: IceSelectedPair?
    /// `udp`, `tcp` (ICE-TCP, RFC 6544).
    public var transports: [TransportProtocol] = []
    public var checks = 0
    public var responses = 0
    public var start: Double
    public var end: Double
    /// Seconds from the first check to the selected pair's nomination.
    public var connectTime: Double?
    /// Epoch seconds of the first non-STUN packet on the selected pair.
    public var firstMediaTime: Double?
    /// Seconds from the first check to that packet.
    public var firstMediaDelay: Double?
    public var consent: ConsentSummary?
    /// nil when no check or response carried MESSAGE-INTEGRITY.
    public var integrity: SessionIntegrity?
    public var integrityCounts: [String: Int] = [:]
    /// The SIP Call-ID tied to this session by its ufrags.
    public var call: String?
    /// What this vantage point could not see (one sentence each).
    public var visibility: [String] = []
    public var timeline: [TimelineEntry] = []
    public var timelineDropped = 0

    public init(id: Int, ufrags: [String], nomination: NominationMode, start: Double, end: Double) {
        self.id = id
        self.ufrags = ufrags
        self.nomination = nomination
        self.start = start
        self.end = end
    }
}

public struct IceAgentSummary: Encodable, Sendable {
    public var ufrag: String
    /// `controlling`, `controlled`, or nil when none of its checks was seen.
    public var role: IceRole?
    public var initialRole: IceRole?
    public var tieBreaker: String?
    /// Wire addresses of this agent's side of the pairs.
    public var addresses: [String] = []
    public var checksSent = 0
    public var roleSwitches: [IceRoleSwitch] = []
    /// The SIP/SDP that signalled this agent's candidates, when one did.
    public var signalledBy: String?
}

public struct IceRoleSwitch: Encodable, Sendable {
    public var frame: Int
    public var time: Double
    public var from: IceRole
    public var to: IceRole
    /// Frame of the 487 Role Conflict that preceded it, when seen.
    public var conflictFrame: Int?
}

public struct IceCandidateSummary: Encodable, Sendable {
    public var address: String
    /// `host`, `srflx`, `relay`, `prflx` (or `unknown`).
    public var type: CandidateType
    /// prflx only.
    public var reason: PrflxReason?
    /// A sentence saying how the type was decided (and for prflx, why the address was new).
    public var explanation: String?
    /// `signalled` (SDP in the capture or `--sdp`) or `observed`.
    public var source: CandidateSource
    /// The ufrag of the agent the candidate belongs to.
    public var agent: String?
    /// prflx: the ufrag of the agent that learnt it.
    public var learntBy: String?
    public var transport: String?
    public var priority: UInt32?
    public var foundation: String?
    public var relatedAddress: String?
    public var checked: Bool

    public init(address: String, type: CandidateType, reason: PrflxReason? = nil, source: CandidateSource, agent: String? = nil,
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

public struct IcePairSummary: Encodable, Sendable {
    public var local: String
    public var remote: String
    public var localType: CandidateType
    public var remoteType: CandidateType
    public var controlledLocalType: CandidateType?
    public var controlledRemoteType: CandidateType?
    /// The local side as the remote agent saw it (XOR-MAPPED-ADDRESS of its responses), and vice versa.
    public var localSeenByRemote: String?
    public var remoteSeenByLocal: String?
    public var transport: TransportProtocol
    public var viaRelay: Bool
    public var state: PairState
    public var nominated: Bool
    /// Counts over both directions (distinct transactions; retransmissions apart).
    public var requestsSent: Int
    public var responsesReceived: Int
    public var errorResponses: Int
    public var retransmissions: Int
    /// Per direction: local -> remote, remote -> local.
    public var checksFromLocal = 0
    public var checksFromRemote = 0
    public var responsesToLocal = 0
    public var responsesToRemote = 0
    public var useCandidateChecks = 0
    public var errorCodes: [Int] = []
    public var firstRequest: Double?
    public var lastRequest: Double?
    public var firstResponse: Double?
    public var lastResponse: Double?
    public var rtt: DelayStatistics?
    /// Which of the 4-way handshake's steps the capture saw, in RFC 8445's
    /// order: check, response, triggered check, response (the first checker
    /// of the pair is `handshakeInitiator`).
    public var handshake: [Bool]
    public var handshakeFrames: [Int?] = []
    public var handshakeInitiator: PairSide?
    public var nominationFrame: Int?
    public var mediaPackets = 0
    public var mediaBytes = 0
    /// Error responses to checks on this pair, per refusing agent and code (nil when none).
    public var refusals: [IceCheckRefusal]?
    /// The addresses the four types refer to, when they differ from the wire
    /// address: an agent's own candidate is its base (`localCandidate`, the host
    /// address behind its NAT when known), its peer's view is what the peer
    /// addressed (the XOR-MAPPED-ADDRESS of the responses).
    public var localCandidate: String?
    public var remoteCandidate: String?
    public var controlledLocalCandidate: String?
    public var controlledRemoteCandidate: String?
}

/// Why an agent answered checks with an error (RFC 8445 section 7.3.1.1, RFC 8489 section 14.8).
public enum IceRefusalCause: String, ContractValue {
    /// 401 Unauthorized / 400 with a bad MESSAGE-INTEGRITY or USERNAME: the check could not be authenticated.
    case integrity
    /// 487 Role Conflict.
    case role
    /// 500 Server Error: the agent failed to process the check.
    case serverError = "server-error"
    /// 400 Bad Request / 420 Unknown Attribute.
    case badRequest = "bad-request"
    case other
}

/// The error responses with one code that one agent sent to the other's checks on a pair.
public struct IceCheckRefusal: Encodable, Sendable {
    /// The ufrag of the agent that answered with the error, and of the agent whose checks it refused.
    public var refusedBy: String
    public var checksFrom: String
    /// The address the refused checks came from, as the capture shows it.
    public var checker: String
    public var code: Int
    public var reason: String?
    public var cause: IceRefusalCause
    public var count: Int
    /// Of those, answers to a check that had already got a success response.
    public var afterSuccess: Int
    /// Of those, answers that came after the check was retransmitted.
    public var toRetransmissions: Int
    public var frames: [Int]
    public var explanation: String
}

public struct IceSelectedPair: Encodable, Sendable {
    public var local: String
    public var remote: String
    public var localType: CandidateType
    public var remoteType: CandidateType
    public var controlledLocalType: CandidateType?
    public var controlledRemoteType: CandidateType?
    public var viaRelay: Bool = false
    public var basis: PairSelectionBasis?
    public var nominationFrame: Int?
    /// As in `IcePairSummary`: the addresses the types refer to.
    public var localCandidate: String?
    public var remoteCandidate: String?
    public var controlledLocalCandidate: String?
    public var controlledRemoteCandidate: String?
}

/// How text, HTML and Mermaid write one side of a pair, from the JSON's own
/// fields (so every output says the same): `host 10.0.1.10:39262`, `host
/// 10.0.1.10:39262 (as 203.0.113.2:39262)` when the wire shows another address,
/// `host behind 203.0.113.2:39262` when the candidate behind the wire address is not seen here.
public enum IcePairLabel {
    public static func side(_ type: CandidateType, candidate: String?, wire: String, own: Bool) -> String {
        guard let candidate else { return own ? "\(type) behind \(wire)" : "\(type) \(wire)" }
        return candidate == wire ? "\(type) \(wire)" : "\(type) \(candidate) (as \(wire))"
    }
}

extension IcePairSummary {
    /// The controlling agent's view: its own candidate, and the peer's as it addressed it.
    public var localLabel: String { IcePairLabel.side(localType, candidate: localCandidate, wire: local, own: true) }
    public var remoteLabel: String { IcePairLabel.side(remoteType, candidate: remoteCandidate, wire: remote, own: false) }
}

extension IceSelectedPair {
    public var localLabel: String { IcePairLabel.side(localType, candidate: localCandidate, wire: local, own: true) }
    public var remoteLabel: String { IcePairLabel.side(remoteType, candidate: remoteCandidate, wire: remote, own: false) }
}

public struct ConsentSummary: Encodable, Sendable {
    /// Checks on the selected pair after its nomination (RFC 7675 consent freshness).
    public var checks: Int
    public var responses: Int = 0
    /// Binding indications on the selected pair (keepalives).
    public var indications: Int
    public var interval: DelayStatistics?
    public var longestGap: Double?
    public var longestGapFrame: Int?
}

public struct SipCallSummary: Encodable, Sendable {
    public var callId: String
    public var from: String?
    public var to: String?
    public var caller: String?
    public var callee: String?
    public var transport: String?
    public var state: SipCallState?
    public var messages: [SipMessageSummary] = []
    public var messagesDropped = 0
    public var offer: SdpSummary?
    public var answer: SdpSummary?
    public var iceSession: Int?
    public var signalledCandidates = 0
    public var checkedCandidates = 0
    public var neverChecked: [String] = []
    public var candidates: [SipCandidateCheck] = []
    /// The selected pair of the tied ICE session, when there is one.
    public var selectedPair: IceSelectedPair?

    public init(callId: String) { self.callId = callId }
}

public struct SipCandidateCheck: Encodable, Sendable {
    public var address: String
    public var type: CandidateType
    public var side: SdpRole
    public var ufrag: String?
    public var checked: Bool
    public var selected: Bool = false
}

public struct SipMessageSummary: Encodable, Sendable {
    public var frame: Int
    public var time: Double
    public var src: String
    public var dst: String
    public var line: String
    public var cseq: String?
    public var hasSdp: Bool = false
}

public struct SdpSummary: Encodable, Sendable {
    public var iceUfrag: String?
    public var hasIcePwd: Bool
    public var iceOptions: String?
    public var iceLite: Bool = false
    public var setup: String?
    public var connection: String?
    public var media: [String]
    public var candidates: [String]
    /// Where it came from: the SIP message (`INVITE`, `200`), or `--sdp FILE`.
    public var carriedIn: String?
    public var frame: Int?
}
