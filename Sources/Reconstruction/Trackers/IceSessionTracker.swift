import NetworkVocabulary
import OrderedCollections
import StunWire

/// One candidate pair of an ICE session, keyed by the two sides' addresses
/// as seen at the vantage point: `e0` belongs to the session's agent 0,
/// `e1` to agent 1 (for checks through TURN, the relayed address and the peer).
struct IcePairKey: Hashable {
    var e0: Endpoint
    var e1: Endpoint
    var transport: TransportProtocol

    func side(_ i: Int) -> Endpoint { i == 0 ? e0 : e1 }
}

/// What one agent's checks on a pair did.
struct IceDirectionState {
    var requests = 0
    var retransmissions = 0
    var successes = 0
    /// Error responses, every one (also a second answer to an answered check, or one to a retransmission).
    var errors = 0
    var errorCodes: [Int] = []
    /// The error responses per code, in the order first seen (bounded).
    var errorAnswers: [IceErrorAnswers] = []
    var firstRequest: CaptureTime?
    var lastRequest: CaptureTime?
    var firstResponse: CaptureTime?
    var lastResponse: CaptureTime?
    var firstRequestFrame: Int?
    var firstSuccessFrame: Int?
    var firstSuccessTime: CaptureTime?
    var rtts: [Double] = []
    var useCandidate = 0
    var firstUseCandidateTime: CaptureTime?
    var useCandidateSuccessFrame: Int?
    var useCandidateSuccessTime: CaptureTime?
    /// Highest NOMINATION (0xC001) value sent, and when its check succeeded.
    var nomination: UInt32?
    var nominationSuccessTime: CaptureTime?
    var nominationSuccessFrame: Int?
    /// A check without USE-CANDIDATE succeeded before the first one with it (regular nomination).
    var plainSuccessBeforeUseCandidate = false
    /// XOR-MAPPED-ADDRESS of the success responses: this side as the other agent saw it.
    var mapped: Endpoint?
    /// The first success response that carried one (its frame), for the NAT view.
    var mappedFrame: Int?
    /// Request send times (first transmissions), bounded: consent cadence.
    var requestTimes: [CaptureTime] = []
    var requestFrames: [Int] = []
    /// Success response times (bounded): consent responses.
    var successTimes: [CaptureTime] = []
    var integrity: [String: Int] = [:]
}

/// The error responses with one code to one agent's checks on a pair.
struct IceErrorAnswers {
    var code: Int
    var reason: String?
    var count = 0
    /// Answers to a check that had already got a success response.
    var afterSuccess = 0
    /// Answers that came after the check was retransmitted.
    var toRetransmissions = 0
    var frames: [Int] = []

    static let maxCodes = 16
    static let maxFrames = 16
}

final class IcePairState {
    let key: IcePairKey
    let firstSeen: CaptureTime
    /// Side i reached the other through its own TURN allocation (its candidate is a relayed address).
    var relaySide = [false, false]
    var dir = [IceDirectionState(), IceDirectionState()]

    /// Moves direction `i` out (an empty one stands in) so that the caller's copy is the only
    /// reference to its arrays and dictionaries: changed and put back without copying them.
    func takeDirection(_ i: Int) -> IceDirectionState {
        var d = IceDirectionState()
        swap(&d, &dir[i])
        return d
    }
    /// The agent index whose check came first (agent "A" of the 4-way handshake, RFC 8445 section 7.2.5.4 / docs/analyze.md).
    var initiator: Int?
    /// Frames of: A's check, B's response, B's (triggered) check, A's response.
    var handshakeFrames: [Int?] = [nil, nil, nil, nil]
    /// Media per sending agent and leg (0: as is, 1: inside ChannelData to the TURN
    /// server, 2: inside ChannelData from it): a relay capture shows one packet on two
    /// legs (relay to relay: ChannelData in and out), so the largest leg counts.
    var mediaLegPackets = [[0, 0, 0], [0, 0, 0]]
    var mediaLegBytes = [[0, 0, 0], [0, 0, 0]]
    var mediaPackets: [Int] { mediaLegPackets.map { $0.max() ?? 0 } }
    var mediaBytes: [Int] { mediaLegBytes.map { $0.max() ?? 0 } }
    var firstMedia: (time: CaptureTime, frame: Int)?
    var indicationTimes: [CaptureTime] = []
    var indications = 0

    init(key: IcePairKey, firstSeen: CaptureTime) {
        self.key = key
        self.firstSeen = firstSeen
    }

    static let maxSamples = 4_096
}

final class IceAgentState {
    let ufrag: String
    var role: IceRole?
    var initialRole: IceRole?
    var tieBreaker: UInt64?
    var checksSent = 0
    var roleSwitches: [IceRoleSwitch] = []
    var lastConflictFrame: Int?

    init(ufrag: String) { self.ufrag = ufrag }
}

/// What a viewer (agent index) did with one remote address: when it first
/// sent a check to it, when a check first came from it, and from which of
/// its own addresses it checked it (evidence that the address was signalled,
/// not learnt from an incoming check).
struct IceContact {
    var firstSent: CaptureTime?
    var firstReceived: CaptureTime?
    var locals: [Endpoint] = []
}

struct IceContactKey: Hashable {
    var viewer: Int
    var address: Endpoint
}

final class IceSessionState {
    let id: Int
    /// Agent 0 and agent 1 ufrags (sorted; a single element for checks without USERNAME).
    let ufrags: [String]
    let agents: [IceAgentState]
    let start: CaptureTime
    var last: CaptureTime
    var firstCheck: CaptureTime?
    /// Candidate pairs in the order their first check was seen.
    var pairs: OrderedDictionary<IcePairKey, IcePairState> = [:]
    var pairsDropped = 0
    var timeline: [TimelineEntry] = []
    var timelineDropped = 0
    var roleConflictFrames: [Int] = []
    var integrity: [String: Int] = [:]
    var contacts: [IceContactKey: IceContact] = [:]
    var transports: Set<TransportProtocol> = []
    var checks = 0
    var responses = 0
    /// Wire addresses each agent sent checks from (bounded).
    var checkSources: [[Endpoint]] = [[], []]
    var relayedWithoutAllocation = 0
    var unresolvedCarrierChecks = 0

    init(id: Int, ufrags: [String], start: CaptureTime) {
        self.id = id
        self.ufrags = ufrags
        self.agents = ufrags.map(IceAgentState.init)
        self.start = start
        self.last = start
    }

    func index(of ufrag: String) -> Int { ufrags.firstIndex(of: ufrag) ?? 0 }

    static let maxPairs = 1_000
    static let maxTimeline = 2_000
    static let maxContacts = 4_096

    func log(_ ctx: FrameContext, from: Endpoint, to: Endpoint, _ kind: TimelineEvent, _ note: TimelineNote, rtt: Double? = nil) {
        guard timeline.count < IceSessionState.maxTimeline else {
            timelineDropped &+= 1
            return
        }
        timeline.append(TimelineEntry(time: ctx.time.epochSeconds, frame: ctx.frame, fileIndex: ctx.fileIndex == 0 ? nil : ctx.fileIndex,
                                      place: .endpoints(from: from, to: to), kind: kind, note: note, rtt: rtt))
    }

    func contact(viewer: Int, address: Endpoint, _ change: (inout IceContact) -> Void) {
        let key = IceContactKey(viewer: viewer, address: address)
        if var c = contacts[key] {
            change(&c)
            contacts[key] = c
        } else if contacts.count < IceSessionState.maxContacts {
            var c = IceContact()
            change(&c)
            contacts[key] = c
        }
    }
}

/// Rebuilds ICE sessions (RFC 8445) from connectivity checks: sessions by
/// ufrag pair, candidate pairs with their checks, responses, RTTs and
/// 4-way handshakes, roles and 487 conflicts, nominations, consent
/// freshness (RFC 7675) and the media on each pair. Checks that travelled
/// through TURN (ChannelData, Send/Data DATA attributes) are put on the pair
/// (relayed address, peer). Types, selection and findings are worked out at
/// the end (`IceSessionSummaryBuilder`), when the STUN server and TURN
/// observations of the whole capture are known.
struct IceSessionTracker {
    /// `live`: told when a candidate pair first succeeds and when a pair is nominated.
    weak var observer: LiveEventObserver?

    struct OpenCheck {
        var session: Int
        var key: IcePairKey
        var sender: Int
        var time: CaptureTime
        var frame: Int
        var useCandidate: Bool
        var nomination: UInt32?
        /// Bit 0: seen directly, bit 1: inside TURN toward the server, bit 2: inside TURN from it (the legs of one relayed send).
        var legs: UInt8
        /// The leg the check was first seen on: a relayed retransmission shows on both legs, and counts once.
        var firstLeg: UInt8 = 0
        var answered: Bool
        /// The check was sent again before (or after) its answer: which send a response answers is unknown.
        var retransmitted = false
        /// It got a success response.
        var succeeded = false
    }

    struct FlowKey: Hashable {
        var src: Endpoint
        var dst: Endpoint
        var transport: TransportProtocol
    }

    private(set) var sessions: [IceSessionState] = []
    private var byKey: [String: IceSessionState] = [:]
    /// A check's USERNAME -> its session and sender ufrag: consent checks repeat the same
    /// USERNAME every few seconds, so the split and the session key are made once per pair.
    private var byUsername: [String: (session: IceSessionState, sender: String)] = [:]
    static let maxUsernames = 16_384
    private var byId: [Int: IceSessionState] = [:]
    private var open: [TransactionKeyBits: OpenCheck] = [:]
    private var openOrder: [TransactionKeyBits] = []
    private var openOldest = 0
    /// Logical flow -> (session, pair, sending agent), for indications and media.
    private var flows: [FlowKey: (session: Int, key: IcePairKey, sender: Int)] = [:]
    private var nextId = 1
    var maxSessions = 10_000
    var maxOpenChecks = 65_536
    var maxFlows = 200_000
    private(set) var evicted = 0

    // MARK: Session lookup

    private static func sessionKey(_ a: String, _ b: String) -> String {
        a <= b ? a + "\u{0}" + b : b + "\u{0}" + a
    }

    private mutating func session(receiver: String, sender: String, at t: CaptureTime) -> IceSessionState {
        let key = IceSessionTracker.sessionKey(receiver, sender)
        if let s = byKey[key] { return s }
        if sessions.count >= maxSessions { evictOldest() }
        let ufrags = receiver == sender ? [receiver] : [min(receiver, sender), max(receiver, sender)]
        let s = IceSessionState(id: nextId, ufrags: ufrags, start: t)
        nextId += 1
        sessions.append(s)
        byKey[key] = s
        byId[s.id] = s
        return s
    }

    /// Sessions with a check or media within the consent timeout (RFC 7675: 30 s) before `now`:
    /// after that the agents have stopped sending on every pair.
    func aliveCount(at now: CaptureTime) -> Int {
        let horizon = Int64(IceSessionContext.consentTimeout * 1e9)
        return sessions.reduce(0) { $0 &+ (now.nanoseconds &- $1.last.nanoseconds <= horizon ? 1 : 0) }
    }

    /// Drops the least recently active eighth of the sessions at once (so a
    /// flood of new ufrag pairs costs O(log n) per session, not O(n)).
    private mutating func evictOldest() {
        let drop = max(1, sessions.count / 8)
        let victims = sessions.sorted { $0.last < $1.last }.prefix(drop)
        let ids = Set(victims.map(\.id))
        sessions.removeAll { ids.contains($0.id) }
        byKey = byKey.filter { !ids.contains($0.value.id) }
        byUsername = byUsername.filter { !ids.contains($0.value.session.id) }
        for id in ids { byId.removeValue(forKey: id) }
        flows = flows.filter { !ids.contains($0.value.session) }
        evicted &+= ids.count
    }

    /// Receiver and sender ufrags of a check: USERNAME is "receiver:sender"
    /// (RFC 8445 7.2.2). Without a colon (old Google ICE, vendor stacks) the
    /// USERNAME names the session and the sender is its address.
    static func ufrags(of m: ObservedStunMessage) -> (receiver: String, sender: String) {
        if let u = m.username, let colon = u.firstIndex(of: ":") {
            let r = String(u[..<colon].prefix(256))
            let s = String(u[u.index(after: colon)...].prefix(256))
            return (r, s)
        }
        if let u = m.username, !u.isEmpty {
            return (String(u.prefix(256)), "@" + m.flow.source.description)
        }
        return ("@" + m.flow.destination.description, "@" + m.flow.source.description)
    }

    static func isCheck(_ m: ObservedStunMessage) -> Bool {
        guard m.method == .binding, m.messageClass == .request, !m.classic else { return false }
        return m.isIceCheck || (m.username?.contains(":") ?? false)
    }

    // MARK: Endpoints

    /// The pair's two addresses for a message, and whether each is a TURN
    /// relayed address. Nil when a carrier's channel is unknown.
    static func resolve(_ m: ObservedStunMessage, allocations: TurnAllocationTracker)
        -> (src: Endpoint, dst: Endpoint, srcRelay: Bool, dstRelay: Bool, relayKnown: Bool)? {
        guard let c = m.carrier else {
            let src = m.flow.source, dst = m.flow.destination
            return (src, dst, allocations.allocation(relayed: src) != nil, allocations.allocation(relayed: dst) != nil, true)
        }
        let alloc = allocations.allocation(for: c.flow)
        let toServer: Bool
        if let alloc {
            toServer = c.flow == alloc.flow
        } else if let type = c.carrierType {
            // The carrier's method as numbered on the wire: RFC 8656's Send goes to the server.
            // (MS-TURN numbers its Send 0x004, which this does not recognise.)
            toServer = type.method == .send
        } else {
            toServer = WellKnownPorts.likelyTurnServer.contains(c.flow.destination.port)
        }
        let peer = c.peer ?? c.channel.flatMap { alloc?.channels[$0]?.peer }
        guard let peer else { return nil }
        let relayed = alloc?.relayed.first
        // Without the Allocate in the capture, the server's address stands in for the relayed one.
        let relay = relayed ?? (toServer ? c.flow.destination : c.flow.source)
        return toServer ? (relay, peer, true, false, relayed != nil) : (peer, relay, false, true, relayed != nil)
    }

    /// What the check responses told each checking host about its reflexive
    /// address (RFC 8445 section 7.2.5.3.1: the XOR-MAPPED-ADDRESS is the
    /// checker as its peer saw it), for the NAT view: the responding peer is
    /// the "server". Relayed sides are left out (their address is the relay's).
    func reflexiveObservations() -> OrderedDictionary<Endpoint, [ReflexiveObservation]> {
        var out: OrderedDictionary<Endpoint, [ReflexiveObservation]> = [:]
        for s in sessions {
            for p in s.pairs.values {
                for side in 0..<2 where !p.relaySide[side] {
                    guard let x = p.dir[side].mapped, let frame = p.dir[side].mappedFrame else { continue }
                    let local = p.key.side(side), peer = p.key.side(s.ufrags.count == 1 ? side : 1 - side)
                    guard peer != local, !(out[local]?.contains { $0.server == peer && $0.reflexive == x } ?? false) else { continue }
                    out[local, default: []].append(ReflexiveObservation(server: peer, reflexive: x, frame: frame))
                }
            }
        }
        return out
    }

    // MARK: Events

    /// Returns true when the message was part of an ICE session.
    @discardableResult
    mutating func handle(_ m: ObservedStunMessage, allocations: TurnAllocationTracker) -> Bool {
        guard m.method == .binding else { return false }
        switch m.messageClass {
        case .request:
            guard IceSessionTracker.isCheck(m) else { return false }
            check(m, allocations: allocations)
            return true
        case .success, .error:
            return response(m)
        case .indication:
            guard let ep = IceSessionTracker.resolve(m, allocations: allocations),
                  let f = flows[FlowKey(src: ep.src, dst: ep.dst, transport: m.flow.transport)],
                  let s = byId[f.session], let p = s.pairs[f.key] else { return false }
            p.indications &+= 1
            if p.indicationTimes.count < IcePairState.maxSamples { p.indicationTimes.append(m.context.time) }
            s.last = max(s.last, m.context.time)
            return true
        }
    }

    private mutating func check(_ m: ObservedStunMessage, allocations: TurnAllocationTracker) {
        let t = m.context.time
        let s: IceSessionState
        let senderUfrag: String
        if let u = m.username, let known = byUsername[u] {
            s = known.session
            senderUfrag = known.sender
        } else {
            let names = IceSessionTracker.ufrags(of: m)
            s = session(receiver: names.receiver, sender: names.sender, at: t)
            senderUfrag = names.sender
            // Only "receiver:sender" usernames: without the colon the sender is named by its address.
            if let u = m.username, !names.sender.hasPrefix("@") {
                if byUsername.count >= IceSessionTracker.maxUsernames { byUsername.removeAll(keepingCapacity: true) }
                byUsername[u] = (s, names.sender)
            }
        }
        s.last = max(s.last, t)
        guard let ep = IceSessionTracker.resolve(m, allocations: allocations) else {
            s.unresolvedCarrierChecks &+= 1
            return
        }
        if !ep.relayKnown { s.relayedWithoutAllocation &+= 1 }
        let sender = s.ufrags.count == 1 ? 0 : s.index(of: senderUfrag)
        let receiver = s.ufrags.count == 1 ? 0 : 1 - sender
        let key = sender == 0 ? IcePairKey(e0: ep.src, e1: ep.dst, transport: m.flow.transport)
            : IcePairKey(e0: ep.dst, e1: ep.src, transport: m.flow.transport)
        let pair: IcePairState
        if let p = s.pairs[key] {
            pair = p
        } else {
            guard s.pairs.count < IceSessionState.maxPairs else {
                s.pairsDropped &+= 1
                return
            }
            pair = IcePairState(key: key, firstSeen: t)
            s.pairs[key] = pair
        }
        if ep.srcRelay { pair.relaySide[sender] = true }
        if ep.dstRelay { pair.relaySide[receiver] = true }
        s.transports.insert(m.flow.transport)
        if !ep.srcRelay, s.checkSources[sender].count < 64, !s.checkSources[sender].contains(ep.src) {
            s.checkSources[sender].append(ep.src)
        }
        let flowKey = FlowKey(src: ep.src, dst: ep.dst, transport: m.flow.transport)
        if flows[flowKey] == nil, flows.count < maxFlows {
            flows[flowKey] = (s.id, key, sender)
            flows[FlowKey(src: ep.dst, dst: ep.src, transport: m.flow.transport)] = (s.id, key, receiver)
        }
        // Legs: plain, inside TURN toward the server, inside TURN from it (relay to relay shows both).
        let leg: UInt8 = m.carrier == nil ? 1 : (ep.srcRelay ? 2 : 4)
        if var o = open[m.transactionKey], o.session == s.id {
            if o.legs & leg != 0 {
                o.retransmitted = true
                open[m.transactionKey] = o
                // The same retransmission on the other leg of the relay is not another one.
                guard leg == o.firstLeg else { return }
                pair.dir[sender].retransmissions &+= 1
                s.log(m.context, from: ep.src, to: ep.dst, .iceRetransmission,
                      .iceRetransmission(ofFrame: o.frame, after: t.seconds(since: o.time), afterAnswer: o.answered))
            } else {
                o.legs |= leg
                open[m.transactionKey] = o
            }
            return
        }

        // A new check (first transmission).
        s.checks &+= 1
        if s.firstCheck == nil { s.firstCheck = t }
        let agent = s.agents[sender]
        agent.checksSent &+= 1
        var role: IceRole?
        if let tb = m.iceControlling {
            role = .controlling
            agent.tieBreaker = tb
        } else if let tb = m.iceControlled {
            role = .controlled
            agent.tieBreaker = tb
        }
        if let role {
            if agent.initialRole == nil { agent.initialRole = role }
            if let old = agent.role, old != role {
                agent.roleSwitches.append(IceRoleSwitch(frame: m.context.frame, time: t.epochSeconds, from: old, to: role,
                                                        conflictFrame: agent.lastConflictFrame))
                s.log(m.context, from: ep.src, to: ep.dst, .iceRoleSwitch, .text("\(agent.ufrag): \(old.rawValue) -> \(role.rawValue)"))
            }
            agent.role = role
        }
        var d = pair.takeDirection(sender)
        d.requests &+= 1
        if d.firstRequest == nil {
            d.firstRequest = t
            d.firstRequestFrame = m.context.frame
        }
        d.lastRequest = t
        if m.useCandidate {
            d.useCandidate &+= 1
            if d.firstUseCandidateTime == nil { d.firstUseCandidateTime = t }
        }
        if let n = m.nomination { d.nomination = max(d.nomination ?? 0, n) }
        if d.requestTimes.count < IcePairState.maxSamples {
            d.requestTimes.append(t)
            d.requestFrames.append(m.context.frame)
        }
        let integrity = m.integrity?.rawValue ?? "none"
        d.integrity[integrity, default: 0] &+= 1
        pair.dir[sender] = d
        s.integrity[integrity, default: 0] &+= 1

        if pair.initiator == nil { pair.initiator = sender }
        let step = pair.initiator == sender ? 0 : 2
        if pair.handshakeFrames[step] == nil { pair.handshakeFrames[step] = m.context.frame }

        s.contact(viewer: sender, address: ep.dst) { c in
            if c.firstSent == nil { c.firstSent = t }
            if c.locals.count < 8, !c.locals.contains(ep.src) { c.locals.append(ep.src) }
        }
        s.contact(viewer: receiver, address: ep.src) { c in
            if c.firstReceived == nil { c.firstReceived = t }
        }

        s.log(m.context, from: ep.src, to: ep.dst, .iceCheck(nominating: m.useCandidate || m.nomination != nil),
              .iceCheck(IceCheckNote(role: role, useCandidate: m.useCandidate, nomination: m.nomination, priority: m.priority,
                                     carrier: m.carrier?.kind, integrity: m.integrity)))

        insertOpen(m.transactionKey, OpenCheck(session: s.id, key: key, sender: sender, time: t, frame: m.context.frame,
                                               useCandidate: m.useCandidate, nomination: m.nomination, legs: leg,
                                               firstLeg: leg, answered: false))
    }

    private mutating func insertOpen(_ key: TransactionKeyBits, _ o: OpenCheck) {
        if open.updateValue(o, forKey: key) != nil { return }
        if openOrder.count < maxOpenChecks {
            openOrder.append(key)
            return
        }
        open.removeValue(forKey: openOrder[openOldest])
        openOrder[openOldest] = key
        openOldest = (openOldest + 1) % maxOpenChecks
    }

    private mutating func response(_ m: ObservedStunMessage) -> Bool {
        guard var o = open[m.transactionKey], let s = byId[o.session], let pair = s.pairs[o.key] else { return false }
        let t = m.context.time
        s.last = max(s.last, t)
        let sender = o.sender
        let responder = s.ufrags.count == 1 ? 0 : 1 - sender
        let from = o.key.side(responder), to = o.key.side(sender)
        if o.answered {
            // A further answer: to a retransmission, or a second answer to the same check
            // (an error after a success). Errors still count: the responder refused the check.
            guard m.messageClass == .error else { return true }
            var d = pair.takeDirection(sender)
            recordError(m, o, into: &d)
            pair.dir[sender] = d
            var detail = ["error \(m.errorCode ?? 0)\(m.errorReason.map { " " + $0 } ?? "")",
                          o.succeeded ? "a further answer to a check already answered with success" : "a further answer to the check"]
            if let i = m.integrity { detail.append("integrity \(i)") }
            s.log(m.context, from: from, to: to, .iceResponse(success: false, nominates: false), .text(detail.joined(separator: ", ")))
            return true
        }
        o.answered = true
        o.succeeded = m.messageClass == .success
        open[m.transactionKey] = o
        s.responses &+= 1
        var d = pair.takeDirection(sender)
        // Karn's rule (RFC 6298 section 3, RFC 8489 section 6.2.1): a response to a retransmitted
        // check cannot be told apart from one to the first send, so it gives no RTT sample.
        let elapsed = Double(t.nanoseconds &- o.time.nanoseconds) / 1e9
        let rtt = o.retransmitted ? -1 : elapsed
        if d.firstResponse == nil { d.firstResponse = t }
        d.lastResponse = t
        let integrity = m.integrity?.rawValue ?? "none"
        d.integrity[integrity, default: 0] &+= 1
        s.integrity[integrity, default: 0] &+= 1
        var note = IceResponseNote(success: m.messageClass == .success, nominates: false, retransmitted: o.retransmitted,
                                   integrity: m.integrity)
        if m.messageClass == .success {
            d.successes &+= 1
            if rtt >= 0, d.rtts.count < IcePairState.maxSamples { d.rtts.append(rtt) }
            if d.successTimes.count < IcePairState.maxSamples { d.successTimes.append(t) }
            if d.firstSuccessFrame == nil {
                d.firstSuccessFrame = m.context.frame
                d.firstSuccessTime = t
                if pair.dir.allSatisfy({ $0.firstSuccessFrame == nil }) {
                    observer?.liveEvent(LiveEvent(time: t.epochSeconds, frame: m.context.frame, kind: .icePairSucceeded, session: .ice(s.id),
                                                  message: "ICE session \(s.id): pair \(from) <-> \(to) succeeded", value: rtt >= 0 ? rtt : nil))
                }
            }
            if o.useCandidate || o.nomination != nil, d.useCandidateSuccessFrame == nil, d.nominationSuccessFrame == nil {
                observer?.liveEvent(LiveEvent(time: t.epochSeconds, frame: m.context.frame, kind: .iceNominated, session: .ice(s.id),
                                              message: "ICE session \(s.id): pair \(from) <-> \(to) nominated"))
            }
            if o.useCandidate, d.useCandidateSuccessFrame == nil {
                d.useCandidateSuccessFrame = m.context.frame
                d.useCandidateSuccessTime = t
            }
            if o.nomination != nil {
                d.nominationSuccessTime = t
                d.nominationSuccessFrame = m.context.frame
            }
            if !o.useCandidate, d.firstUseCandidateTime == nil { d.plainSuccessBeforeUseCandidate = true }
            if let x = m.xorMapped ?? m.mapped {
                d.mapped = x
                if d.mappedFrame == nil { d.mappedFrame = m.context.frame }
                note.mapped = x
            }
            let step = pair.initiator == sender ? 1 : 3
            if pair.handshakeFrames[step] == nil { pair.handshakeFrames[step] = m.context.frame }
            note.nominates = o.useCandidate
        } else {
            recordError(m, o, into: &d)
            let code = m.errorCode ?? 0
            note.errorCode = code
            note.errorReason = m.errorReason
            if code == 487 {
                s.roleConflictFrames.append(m.context.frame)
                s.agents[sender].lastConflictFrame = m.context.frame
                note.roleConflict = s.agents[sender].ufrag
            }
        }
        pair.dir[sender] = d
        s.log(m.context, from: from, to: to, .iceResponse(success: m.messageClass == .success, nominates: m.messageClass == .success && o.useCandidate),
              .iceResponse(note), rtt: m.messageClass == .success && rtt >= 0 ? rtt : nil)
        return true
    }

    /// One error response to a check from `o.sender`, by code.
    private func recordError(_ m: ObservedStunMessage, _ o: OpenCheck, into d: inout IceDirectionState) {
        d.errors &+= 1
        let code = m.errorCode ?? 0
        if d.errorCodes.count < IceErrorAnswers.maxCodes, !d.errorCodes.contains(code) { d.errorCodes.append(code) }
        let i: Int
        if let found = d.errorAnswers.firstIndex(where: { $0.code == code }) {
            i = found
        } else {
            guard d.errorAnswers.count < IceErrorAnswers.maxCodes else { return }
            d.errorAnswers.append(IceErrorAnswers(code: code, reason: m.errorReason.map { String($0.prefix(64)) }))
            i = d.errorAnswers.count - 1
        }
        d.errorAnswers[i].count &+= 1
        if o.succeeded { d.errorAnswers[i].afterSuccess &+= 1 }
        if o.retransmitted { d.errorAnswers[i].toRetransmissions &+= 1 }
        if d.errorAnswers[i].frames.count < IceErrorAnswers.maxFrames { d.errorAnswers[i].frames.append(m.context.frame) }
    }

    /// A non-STUN datagram (media, DTLS): counted on the pair whose addresses it uses.
    mutating func datagram(_ d: ObservedDatagram) {
        guard let f = flows[FlowKey(src: d.flow.source, dst: d.flow.destination, transport: d.flow.transport)],
              let s = byId[f.session], let p = s.pairs[f.key] else { return }
        countMedia(p, s, sender: f.sender, leg: 0, bytes: d.length, ctx: d.context)
    }

    /// ChannelData on a pair (relayed address, channel peer): media, unless the
    /// dissector found a STUN message inside (a relayed check, handled as such).
    /// Either way the session was active then.
    /// `alloc`: the allocation whose 5-tuple carried the frame.
    mutating func channelData(_ c: ObservedChannelData, allocation alloc: TurnAllocation) {
        guard let relayed = alloc.relayed.first,
              let peer = alloc.channels[c.channel]?.peer else { return }
        let toServer = c.flow == alloc.flow
        let key = toServer ? FlowKey(src: relayed, dst: peer, transport: .udp) : FlowKey(src: peer, dst: relayed, transport: .udp)
        guard let f = flows[key] ?? flows[FlowKey(src: key.src, dst: key.dst, transport: c.flow.transport)],
              let s = byId[f.session], let p = s.pairs[f.key] else { return }
        if c.carriesStun {
            s.last = max(s.last, c.context.time)
            return
        }
        countMedia(p, s, sender: f.sender, leg: toServer ? 1 : 2, bytes: c.length, ctx: c.context)
    }

    private func countMedia(_ p: IcePairState, _ s: IceSessionState, sender: Int, leg: Int, bytes: Int, ctx: FrameContext) {
        p.mediaLegPackets[sender][leg] &+= 1
        p.mediaLegBytes[sender][leg] &+= bytes
        if p.firstMedia == nil { p.firstMedia = (ctx.time, ctx.frame) }
        s.last = max(s.last, ctx.time)
    }
}
