import NetworkVocabulary

/// One TURN allocation's life, keyed by the client's 5-tuple at the server.
public struct TurnAllocationSummary: Encodable, Sendable {
    public enum Outcome: String, ContractValue {
        case deleted, expired, active, failed, closed
    }

    public var id: Int
    public var client: String
    public var server: String
    public var transport: TransportProtocol
    public var relayed: [String] = []
    public var mapped: String?
    public var username: String?
    public var realm: String?
    public var software: String?
    public var requestedTransport: String?
    public var requestedAddressFamily: String?
    public var additionalAddressFamily: String?
    public var evenPort: Bool?
    public var reservationToken: String?
    public var dontFragment: Bool = false
    public var start: Double
    public var end: Double
    public var outcome: Outcome
    /// The final error when the allocation never succeeded.
    public var finalError: ErrorCount?
    /// Last granted lifetime (seconds).
    public var lifetime: Int?
    /// The lifetime the (last successful) Allocate granted.
    public var allocateLifetime: Int?
    /// Seconds of lifetime left at the end of the capture, for allocations still active then.
    public var remainingAtCaptureEnd: Double?
    /// Lifetimes granted by successful Refresh responses, in order (0 = deleted).
    public var refreshes: [Int] = []
    public var expiresAt: Double?
    public var authRoundTrips = 0
    public var errors: [ErrorCount] = []
    public var permissions: [PermissionSummary] = []
    public var channels: [ChannelSummary] = []
    public var traffic = RelayTraffic()
    public var peers: [PeerSummary] = []
    public var tcpConnections: [TcpRelayConnection] = []
    public var timeline: [TimelineEntry] = []
}

public struct ErrorCount: Encodable, Sendable, Equatable {
    public var code: Int
    public var count: Int
    public var reason: String?
    public var meaning: String

    public init(code: Int, count: Int, reason: String?, meaning: String) {
        self.code = code
        self.count = count
        self.reason = reason
        self.meaning = meaning
    }
}

public struct PermissionSummary: Encodable, Sendable {
    public var peer: String
    public var created: Double
    public var refreshes: Int
    public var lastRefreshed: Double
    public var expiresAt: Double
    /// True when capture time passed the permission's 300 s lifetime with no refresh.
    public var expired: Bool
    public var implicit: Bool
}

public struct ChannelSummary: Encodable, Sendable {
    public var number: Int
    public var peer: String
    public var bound: Double
    public var refreshes: Int
    public var expiresAt: Double
    public var expired: Bool
    public var framesToServer: Int
    public var framesFromServer: Int
    public var bytesToServer: Int
    public var bytesFromServer: Int
}

public struct RelayTraffic: Encodable, Sendable {
    /// Every packet on the client <-> server 5-tuple (STUN and ChannelData), like coturn's rp/sp.
    public var clientToServer = 0
    public var serverToClient = 0
    /// Their transport payload bytes (STUN message or ChannelData frame with header).
    public var clientToServerBytes = 0
    public var serverToClientBytes = 0
    public var sendIndications = 0
    public var dataIndications = 0
    public var channelDataToServer = 0
    public var channelDataFromServer = 0
    public var peerLegToPeer = 0
    public var peerLegFromPeer = 0
    public var sendIndicationBytes = 0
    public var dataIndicationBytes = 0
    public var channelDataToServerBytes = 0
    public var channelDataFromServerBytes = 0
    public var peerLegToPeerBytes = 0
    public var peerLegFromPeerBytes = 0

    public init() {}
}

public struct DelayStatistics: Encodable, Sendable {
    public var samples: Int
    public var median: Double
    public var p95: Double
    public var max: Double
}

public struct PeerSummary: Encodable, Sendable {
    public var peer: String
    public var sendIndications = 0
    public var dataIndications = 0
    public var channelDataToServer = 0
    public var channelDataFromServer = 0
    public var peerLegToPeer = 0
    public var peerLegFromPeer = 0
    public var bytesToPeer = 0
    public var bytesFromPeer = 0
    /// Server forwarding delay, client leg -> peer leg (Send / ChannelData in, raw UDP out).
    public var forwardingDelayToPeer: DelayStatistics?
    /// Peer leg -> client leg (raw UDP in, Data / ChannelData out).
    public var forwardingDelayFromPeer: DelayStatistics?
    /// Datagrams seen arriving on one leg with no matching datagram on the other.
    public var neverForwardedToPeer = 0
    public var neverForwardedFromPeer = 0
    /// Datagrams from this peer that reached the relayed address while it had no permission:
    /// the server drops them (RFC 8656 section 9).
    public var droppedNoPermission = 0
    /// Of those, ICE connectivity checks: the owner of the relay candidate never paired it with
    /// this peer, so that candidate pair fails by design (RFC 8445 leaves it to other pairs).
    public var droppedChecksNoPermission = 0
    /// The peer is another allocation's relayed address on the same server: the hop between
    /// the two allocations happens inside the server and is on no wire.
    public var chainedAllocation: Int?
}

public struct TcpRelayConnection: Encodable, Sendable {
    public var peer: String
    public var connectionId: UInt32?
    public var initiatedBy: TcpConnectionInitiator
    public var requested: Double
    public var bound: Double?
    public var dataConnection: String?
    public var outcome: TcpConnectionOutcome
}

/// What became of an RFC 6062 TCP relay connection.
public enum TcpConnectionOutcome: Sendable, Equatable, ContractText {
    /// ConnectionAttempt seen, no ConnectionBind yet.
    case attempted
    /// Connect succeeded, no ConnectionBind yet.
    case connected
    case bound
    /// Connect answered with this error code.
    case failed(code: Int)
    /// ConnectionBind answered with this error code.
    case bindFailed(code: Int)

    /// `attempted`, `connected`, `bound`, `bind failed (CODE)`.
    public var description: String {
        switch self {
        case .attempted: return "attempted"
        case .connected: return "connected"
        case .bound: return "bound"
        case let .failed(code): return "failed (\(code))"
        case let .bindFailed(code): return "bind failed (\(code))"
        }
    }
}
