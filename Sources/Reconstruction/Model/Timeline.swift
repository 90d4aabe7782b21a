/// One row of a session's timeline (an allocation's or an ICE session's).
///
/// `kind` and `direction` are what code reads (ladders, SQL columns, live
/// events, styling); `event` and `detail` are the sentence written for
/// people, in the JSON (`event`, `detail`) and every text output. Nothing
/// reads the sentence back, so it is kept as values (`TimelineNote`,
/// `TimelinePlace`) and written only when an output asks for it: a session's
/// thousands of checks cost no string work and no heap per entry.
public struct TimelineEntry: Encodable, Sendable {
    public var time: Double
    public var frame: Int
    public var fileIndex: Int?
    var place: TimelinePlace
    public var kind: TimelineEvent
    var note: TimelineNote
    public var rtt: Double?

    public var direction: TimelineDirection {
        get { place.direction }
        set { place = TimelinePlace(newValue) }
    }
    public var event: String { kind.title }
    public var detail: String {
        get { note.text }
        set { note = .text(newValue) }
    }

    enum CodingKeys: String, CodingKey {
        case time, frame, fileIndex, direction, event, detail, rtt
    }

    public init(time: Double, frame: Int, fileIndex: Int? = nil, direction: TimelineDirection, kind: TimelineEvent,
                detail: String, rtt: Double? = nil) {
        self.init(time: time, frame: frame, fileIndex: fileIndex, place: TimelinePlace(direction), kind: kind,
                  note: .text(detail), rtt: rtt)
    }

    init(time: Double, frame: Int, fileIndex: Int?, place: TimelinePlace, kind: TimelineEvent, note: TimelineNote, rtt: Double?) {
        self.time = time
        self.frame = frame
        self.fileIndex = fileIndex
        self.place = place
        self.kind = kind
        self.note = note
        self.rtt = rtt
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(time, forKey: .time)
        try c.encode(frame, forKey: .frame)
        try c.encodeIfPresent(fileIndex, forKey: .fileIndex)
        try c.encode(direction, forKey: .direction)
        try c.encode(event, forKey: .event)
        try c.encode(detail, forKey: .detail)
        try c.encodeIfPresent(rtt, forKey: .rtt)
    }
}

/// Which way a timeline entry went. Allocations name the legs of the relay
/// exchange (docs/relay-exchange.md); ICE sessions name the wire endpoints.
/// Written `client->server`, `server->client`, `relay->peer`, `peer->relay`,
/// `state`, or `FROM->TO`.
public enum TimelineDirection: Sendable, Equatable, ContractText {
    case clientToServer
    case serverToClient
    case relayToPeer
    case peerToRelay
    /// A derived event (allocation created, expired, ...), not a packet.
    case state
    case between(from: String, to: String)

    public var description: String {
        switch self {
        case .clientToServer: return "client->server"
        case .serverToClient: return "server->client"
        case .relayToPeer: return "relay->peer"
        case .peerToRelay: return "peer->relay"
        case .state: return "state"
        case let .between(from, to): return "\(from)->\(to)"
        }
    }

    /// On the relay-peer leg of an allocation.
    public var isPeerLeg: Bool { self == .relayToPeer || self == .peerToRelay }
}

/// What a timeline entry records, as values.
public enum TimelineEvent: Sendable, Equatable {
    // TURN (RFC 8656, RFC 6062)
    case request(method: String)
    case success(method: String)
    case errorResponse(method: String, code: Int)
    case connectionAttempt
    case allocation(AllocationChange)
    /// Relayed application data; consecutive repeats are one band.
    case relay(RelayBandSummary)
    // ICE (RFC 8445)
    /// `nominating`: USE-CANDIDATE or NOMINATION on the check.
    case iceCheck(nominating: Bool)
    /// A check sent again with the same transaction ID (RFC 8489 section 6.2.1).
    case iceRetransmission
    /// `nominates`: the answered check carried USE-CANDIDATE.
    case iceResponse(success: Bool, nominates: Bool)
    case iceRoleSwitch
    /// The session had more entries than are kept.
    case timelineTruncated

    public enum AllocationChange: String, ContractValue {
        case created, deleted, expired, closed
    }

    /// The `event` column: a few words.
    public var title: String {
        switch self {
        case let .request(method): return "\(method) request"
        case let .success(method): return "\(method) success"
        case let .errorResponse(method, _): return "\(method) error"
        case .connectionAttempt: return "ConnectionAttempt"
        case let .allocation(change): return "allocation \(change.rawValue)"
        case let .relay(band): return band.kind.title
        case .iceCheck: return "check"
        case .iceRetransmission: return "retransmission"
        case let .iceResponse(success, _): return success ? "success" : "error response"
        case .iceRoleSwitch: return "role switch"
        case .timelineTruncated: return "timeline truncated"
        }
    }

    public var relay: RelayBandSummary? {
        if case let .relay(band) = self { return band }
        return nil
    }

    /// An error response, unbound ChannelData, an expired allocation: drawn in red.
    public var isProblem: Bool {
        switch self {
        case .errorResponse, .allocation(.expired): return true
        case let .relay(band):
            if case .channelDataUnbound = band.kind { return true }
            return false
        case let .iceResponse(success, _): return !success
        default: return false
        }
    }

    /// A check or response that nominates its pair.
    public var isNomination: Bool {
        switch self {
        case let .iceCheck(nominating): return nominating
        case let .iceResponse(_, nominates): return nominates
        default: return false
        }
    }
}

/// Relayed data of one kind, direction and peer: one packet, or a band of repeats.
public struct RelayBandSummary: Sendable, Equatable {
    public init(kind: Kind, peer: String?, frames: Int, bytes: Int) {
        self.kind = kind
        self.peer = peer
        self.frames = frames
        self.bytes = bytes
    }

    public enum Kind: Hashable, Sendable {
        case send, data, udp, tcp, tcpDataConnection
        case channelData(UInt16)
        case channelDataUnbound(UInt16)

        public var title: String {
            switch self {
            case .send: return "Send indication"
            case .data: return "Data indication"
            case .udp: return "UDP"
            case .tcp: return "TCP"
            case .tcpDataConnection: return "TCP data connection"
            case let .channelData(c): return "ChannelData " + RelayBandSummary.hex4(c)
            case let .channelDataUnbound(c): return "ChannelData " + RelayBandSummary.hex4(c) + " (unbound)"
            }
        }
    }

    public var kind: Kind
    /// `ip:port`, nil when the capture does not say (unbound channel, Data to an unknown peer).
    public var peer: String?
    public var frames: Int
    public var bytes: Int

    static func hex4(_ n: UInt16) -> String {
        let digits = String(n, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
