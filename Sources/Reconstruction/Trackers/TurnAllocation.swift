import NetworkVocabulary
import OrderedCollections

/// The live state of one TURN allocation while the capture is read.
final class TurnAllocation {
    enum State: String { case pending, active, deleted, expired, failed, closed }

    struct Permission {
        var created: CaptureTime
        var lastRefreshed: CaptureTime
        var expiresAt: CaptureTime
        var refreshes: Int
        var implicit: Bool
    }

    struct Channel {
        var number: UInt16
        var peer: Endpoint
        var bound: CaptureTime
        var expiresAt: CaptureTime
        var refreshes: Int
        var framesToServer = 0
        var framesFromServer = 0
        var bytesToServer = 0
        var bytesFromServer = 0
    }

    static let permissionLifetime: Int64 = 300_000_000_000
    static let channelLifetime: Int64 = 600_000_000_000
    static let maxTimelineEntries = 1_000

    let id: Int
    /// client -> server
    let flow: FiveTuple
    let start: CaptureTime
    var last: CaptureTime
    var state: State = .pending
    var endTime: CaptureTime?
    var expiresAt: CaptureTime?
    var relayed: [Endpoint] = []
    var mapped: Endpoint?
    var username: String?
    var realm: String?
    var software: String?
    var requestedTransport: UInt8?
    var requestedAddressFamily: UInt8?
    var additionalAddressFamily: UInt8?
    var evenPort: Bool?
    var reservationToken: String?
    var dontFragment = false
    var lifetime: UInt32?
    var allocateLifetime: UInt32?
    /// Speaks MS-TURN (no permissions).
    var msTurn = false
    var refreshes: [Int] = []
    var authRoundTrips = 0
    /// Error responses per code, in the order first seen.
    var errorCounts: OrderedDictionary<Int, (count: Int, reason: String?)> = [:]
    var lastError: (code: Int, reason: String?)?
    /// Permissions and channels in the order first installed.
    var permissions: OrderedDictionary<IPAddress, Permission> = [:]
    var channels: OrderedDictionary<UInt16, Channel> = [:]
    var traffic = RelayTraffic()
    /// Peers in the order first seen.
    var peers: OrderedDictionary<Endpoint, PeerSummary> = [:]
    /// Peer updates not kept because `peers` reached `maxPeers`.
    var peersDropped = 0
    var toPeer = RelayLegCorrelator()
    var fromPeer = RelayLegCorrelator()
    var peerLegSeen = false
    var tcpConnections: [TcpRelayConnection] = []
    var timeline: [TimelineEntry] = []
    var timelineDropped = 0
    /// Index of the last timeline entry when it is a band of repeated relay data, with its counts.
    private var band: RelayBand?
    /// Bands that stay open once `individualRelayEntries` relay entries exist.
    private var stickyBands: [RelayBand] = []
    /// Position of each key's band in `stickyBands` (a linear search per relayed packet would cost up to 1,000 compares).
    private var stickyIndex: [RelayBandKey: Int] = [:]
    /// The sticky band each direction's last relayed packet joined (`RelayBandKey.slot`).
    private var lastSticky: [Int?] = [nil, nil, nil, nil, nil]
    private var relayEntries = 0
    /// Requests waiting for their answer, by transaction, with what they asked for.
    var openRequests: [TransactionKeyBits: ObservedStunMessage] = [:]
    var lastClientPacket: CaptureTime?
    /// NONCEs the server answered 438 to, with when it first did; requests that carry one
    /// again well after that (frames) make a stale-nonce loop.
    var staleNonces: [String: CaptureTime] = [:]
    var staleNonceReuses: [Int] = []
    /// ChannelBind requests that tried to re-bind a bound channel to another peer.
    var conflictingChannelBinds = Set<TransactionKeyBits>()
    /// A request sent within this many seconds of the 438 was already in flight.
    static let staleNonceGrace = 1.0
    /// Private / loopback peers the server refused with 403, with the answer's frame.
    var forbiddenPrivatePeers: [(address: IPAddress, frame: Int)] = []
    /// Peer datagrams that arrived without a permission (dropped by the server), first frames.
    var noPermissionFrames: [Int] = []
    /// Receives state changes as they happen (live capture).
    weak var observer: LiveEventObserver?
    var longestClientGap: (seconds: Double, frame: Int)?

    init(id: Int, flow: FiveTuple, start: CaptureTime) {
        self.id = id
        self.flow = flow
        self.start = start
        self.last = start
    }

    var isLive: Bool { state == .pending || state == .active }

    func noteError(_ code: Int, _ reason: String?) {
        errorCounts[code, default: (0, reason)].count &+= 1
        lastError = (code, reason)
    }

    func peer(_ e: Endpoint) -> PeerSummary {
        if let p = peers[e] { return p }
        let p = PeerSummary(peer: e.description)
        guard !peersFull else {
            peersDropped &+= 1
            return p
        }
        peers[e] = p
        return p
    }

    /// One hash lookup and an in-place change (no copy of the summary) for a known peer.
    func updatePeer(_ e: Endpoint, _ change: (inout PeerSummary) -> Void) {
        if let i = peers.index(forKey: e) {
            change(&peers.values[i])
            return
        }
        guard !peersFull else {
            peersDropped &+= 1
            return
        }
        var p = peer(e)
        change(&p)
        peers[e] = p
    }

    func hasLivePermission(for address: IPAddress, at t: CaptureTime) -> Bool {
        guard let p = permissions[address] else { return false }
        return p.expiresAt >= t
    }

    func installPermission(_ address: IPAddress, at t: CaptureTime, implicit: Bool) {
        if var p = permissions[address] {
            p.lastRefreshed = t
            p.expiresAt = t.adding(nanoseconds: TurnAllocation.permissionLifetime)
            p.refreshes &+= 1
            p.implicit = p.implicit && implicit
            permissions[address] = p
        } else {
            permissions[address] = Permission(created: t, lastRefreshed: t,
                                              expiresAt: t.adding(nanoseconds: TurnAllocation.permissionLifetime),
                                              refreshes: 0, implicit: implicit)
        }
    }

    // MARK: Timeline

    func log(_ ctx: FrameContext, _ direction: TimelineDirection, _ kind: TimelineEvent, _ detail: String, rtt: Double? = nil) {
        closeBand()
        if let o = observer, let live = TurnAllocation.liveKind(kind) {
            o.liveEvent(LiveEvent(time: ctx.time.epochSeconds, frame: ctx.frame, kind: live, session: .allocation(id),
                                  message: "allocation \(id) \(flow.source) -> \(flow.destination): \(kind.title)\(detail.isEmpty ? "" : ", " + detail)",
                                  value: rtt))
        }
        append(TimelineEntry(time: ctx.time.epochSeconds, frame: ctx.frame, fileIndex: ctx.fileIndex == 0 ? nil : ctx.fileIndex,
                             direction: direction, kind: kind, detail: detail, rtt: rtt))
    }

    struct RelayBandKey: Hashable {
        var direction: TimelineDirection
        var kind: RelayBandSummary.Kind
        var peer: Endpoint?

        /// 0-3 for the four legs, 4 for anything else.
        static func slot(_ d: TimelineDirection) -> Int {
            switch d {
            case .clientToServer: return 0
            case .serverToClient: return 1
            case .relayToPeer: return 2
            case .peerToRelay: return 3
            case .state, .between: return 4
            }
        }

        /// Hashed for every relayed packet: relay entries only go one of four ways.
        func hash(into hasher: inout Hasher) {
            switch direction {
            case .clientToServer: hasher.combine(0 as UInt8)
            case .serverToClient: hasher.combine(1 as UInt8)
            case .relayToPeer: hasher.combine(2 as UInt8)
            case .peerToRelay: hasher.combine(3 as UInt8)
            case .state, .between: hasher.combine(4 as UInt8)
            }
            hasher.combine(kind)
            hasher.combine(peer)
        }
    }

    /// A timeline entry that counts repeated relay data; its counts are written into the entry when it is read.
    struct RelayBand {
        var key: RelayBandKey
        var index: Int
        var count: Int
        var bytes: Int
        var lastFrame: Int

        var summary: RelayBandSummary {
            RelayBandSummary(kind: key.kind, peer: key.peer?.description, frames: count, bytes: bytes)
        }

        var note: TimelineNote {
            .relay(peer: key.peer, frames: count, bytes: bytes, lastFrame: lastFrame, forwardedAfter: nil)
        }
    }

    /// Relay data gets entries of its own (consecutive repeats banded) until this many
    /// relay entries exist; after that each kind/direction/peer has one band that stays
    /// open, so a long relay phase costs a few entries and no strings per packet.
    static let individualRelayEntries = 32

    /// Relay data: consecutive repeats of the same kind, direction and peer collapse into one counted
    /// band; past `individualRelayEntries` relay entries, all further repeats join that key's band.
    func logRelay(_ ctx: FrameContext, _ direction: TimelineDirection, _ kind: RelayBandSummary.Kind, peer: Endpoint?, bytes: Int,
                  forwardedAfter: Double? = nil) {
        let key = RelayBandKey(direction: direction, kind: kind, peer: peer)
        if relayEntries >= TurnAllocation.individualRelayEntries {
            // Relay traffic alternates between a few bands (one per direction and peer): the band
            // the previous packet of this direction joined is tried before the hash lookup.
            let slot = RelayBandKey.slot(direction)
            if let i = lastSticky[slot], i < stickyBands.count, stickyBands[i].key == key {
                stickyBands[i].count &+= 1
                stickyBands[i].bytes &+= bytes
                stickyBands[i].lastFrame = ctx.frame
                return
            }
            if let i = stickyIndex[key] {
                lastSticky[slot] = i
                stickyBands[i].count &+= 1
                stickyBands[i].bytes &+= bytes
                stickyBands[i].lastFrame = ctx.frame
                return
            }
        } else if var b = band, b.key == key, b.index == timeline.count - 1 {
            b.count &+= 1
            b.bytes &+= bytes
            b.lastFrame = ctx.frame
            band = b
            return
        }
        closeBand()
        let made = RelayBand(key: key, index: timeline.count, count: 1, bytes: bytes, lastFrame: ctx.frame)
        let entry = TimelineEntry(time: ctx.time.epochSeconds, frame: ctx.frame, fileIndex: ctx.fileIndex == 0 ? nil : ctx.fileIndex,
                                  place: .leg(direction), kind: .relay(made.summary),
                                  note: .relay(peer: peer, frames: 1, bytes: bytes, lastFrame: nil, forwardedAfter: forwardedAfter), rtt: nil)
        guard append(entry) else { return }
        relayEntries &+= 1
        if relayEntries > TurnAllocation.individualRelayEntries {
            stickyIndex[key] = stickyBands.count
            stickyBands.append(made)
        } else {
            band = made
        }
    }

    /// Writes a band's counts into its entry.
    private func write(_ b: RelayBand) {
        guard b.count > 1, b.index < timeline.count else { return }
        timeline[b.index].kind = .relay(b.summary)
        timeline[b.index].note = b.note
    }

    private func closeBand() {
        if let b = band { write(b) }
        band = nil
    }

    /// Writes every band's counts into its entry; call before reading `timeline`.
    func finalizeTimeline() {
        closeBand()
        stickyBands.forEach(write)
    }

    /// Which timeline entries are live events.
    static func liveKind(_ kind: TimelineEvent) -> LiveEvent.Kind? {
        switch kind {
        case .allocation(.created): return .allocationCreated
        case .allocation(.deleted): return .allocationDeleted
        case .allocation(.expired): return .allocationExpired
        case .allocation(.closed): return .allocationClosed
        case .success(method: "Refresh"): return .allocationRefreshed
        case .success(method: "CreatePermission"): return .permissionInstalled
        case .success(method: "ChannelBind"): return .channelBound
        case .errorResponse: return .requestError
        default: return nil
        }
    }

    @discardableResult
    private func append(_ e: TimelineEntry) -> Bool {
        guard timeline.count < TurnAllocation.maxTimelineEntries else {
            timelineDropped &+= 1
            return false
        }
        timeline.append(e)
        return true
    }
}
