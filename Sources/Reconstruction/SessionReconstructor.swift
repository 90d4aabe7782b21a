import NetworkVocabulary
import StunWire
import OrderedCollections

/// The consumer of dissector events: routes each one to the trackers
/// (transactions, TURN allocations and relay legs, Binding sessions, ICE,
/// SIP) and builds the `AnalysisDocument` at the end. Zeek-style: the
/// dissector emits, these consumers keep state.
public final class SessionReconstructor {
    var transactions = TransactionMatcher()
    var allocations = TurnAllocationTracker()
    var bindings = BindingSessionTracker()
    var findings = FindingCollector()
    var stats = AnalysisStats()
    /// ICE sessions and SIP calls (IceSessionTracker.swift, SipCallTracker.swift).
    var ice = IceSessionTracker()
    var sip = SipCallTracker()
    /// ICMP errors per quoted flow, in the order first seen.
    var icmpByFlow: OrderedDictionary<FiveTuple, (count: Int, frames: [Int], meaning: String, reporter: String)> = [:]
    private var integrityInvalid: [(frame: Int, flow: FiveTuple)] = []
    /// Transaction ids of ICE connectivity checks: their silence is judged by the ICE
    /// reconstructor (per candidate pair), not reported again as an unreachable server.
    var iceCheckIds = Set<TransactionIdentity>()
    /// RFC 3489 / 5780 NAT tests (CHANGE-REQUEST, RESPONSE-PORT): an unanswered one is the
    /// test's result (the NAT's filtering), not a failure.
    var natTestIds = Set<TransactionIdentity>()
    /// Flows the answers to NAT tests took (from the alternate address/port, to RESPONSE-PORT).
    var redirectedAnswerFlows = Set<FiveTuple>()
    /// Sockets an ICMP error refused, with the refused address; and those of them that later
    /// received traffic from another address (a call that went on over another path).
    var icmpRefused: [Endpoint: IPAddress] = [:]
    /// Responses too damaged to decode, by the transaction id their header names.
    var malformedAnswers: [String: (frame: Int, reason: String, flow: FiveTuple)] = [:]
    var servedAfterIcmp = Set<Endpoint>()
    /// Requests of methods no RFC defines (WhatsApp 0x0801, ...): whether they expect an answer is
    /// the application's business, so their silence is not reported as a failure.
    var proprietaryIds = Set<TransactionIdentity>()
    private var fingerprintInvalid: [Int] = []
    /// Messages by method and class, and error responses by code, as values; the document's
    /// text keys (`Allocate request`, `401`) are made at the end.
    private struct MessageKind: Hashable {
        var method: StunMethodMeaning
        var messageClass: ObservedClass
    }
    private var messageCounts: [MessageKind: Int] = [:]
    private var errorCodeCounts: [Int: Int] = [:]
    private(set) var lastTime: CaptureTime?
    private(set) var firstTime: CaptureTime?
    /// Counters the lower stages evicted (TCP streams, IP fragments, TURN 5-tuples), filled in by the caller.
    public var lowerStageEvictions = EvictionCounters()
    /// Stretches of more than 5 minutes without a single packet: the capture was not recording
    /// (spliced or merged files), so what happened then (an allocation's expiry) is not seen.
    private(set) var silences: [ClosedRange<CaptureTime>] = []
    static let silenceNanoseconds: Int64 = 300_000_000_000
    /// Set for runs over several capture files: copies of one packet seen in two files
    /// (two capture points) are left out (`CaptureCopyFilter`). Off for one file: nothing to compare.
    public var dropsCopiesAcrossFiles = false
    private var copyFilter = CaptureCopyFilter()
    /// Copies left out so far (zero unless `dropsCopiesAcrossFiles`).
    public var copiesDropped: Int { copyFilter.copies }

    public init() {}

    /// Receives allocation state changes and completed transactions as they happen (live capture).
    public weak var observer: LiveEventObserver? {
        didSet {
            allocations.observer = observer
            ice.observer = observer
            findings.observer = observer
        }
    }

    /// Moves the clock without a packet (live capture): allocations whose lifetime ran out expire now.
    public func advance(to time: CaptureTime) {
        tick(time)
        allocations.sweep(now: time, findings: &findings)
    }

    /// Allocations currently alive.
    public var activeAllocations: Int { allocations.activeCount }

    /// Sessions alive at the reconstruction's clock (the latest message time): allocations
    /// active and within their lifetime, ICE sessions within the consent timeout and
    /// Binding sessions within the NAT-binding horizon of their last packet. Walks every
    /// session: for a progress line a few times a second, not per packet.
    public var sessionsAlive: Int {
        guard let now = lastTime else { return 0 }
        return allocations.aliveCount(at: now) &+ ice.aliveCount(at: now) &+ bindings.aliveCount(at: now)
    }

    private func tick(_ t: CaptureTime) {
        // Hostile timestamps jump anywhere: the range is only formed when t is really later.
        if let last = lastTime, t > last, t.nanoseconds &- last.nanoseconds > SessionReconstructor.silenceNanoseconds, silences.count < 100 {
            silences.append(last...t)
        }
        if firstTime == nil || t < firstTime! { firstTime = t }
        if lastTime == nil || t > lastTime! { lastTime = t }
        findings.clock = lastTime!.epochSeconds
    }

    // MARK: Events

    public func stunMessage(_ m: ObservedStunMessage) {
        tick(m.context.time)
        if dropsCopiesAcrossFiles,
           copyFilter.isCopy(.stun, flow: m.flow, hash: m.payloadHash, length: m.payloadLength, context: m.context) { return }
        stats.stunMessages &+= 1
        if m.classic { stats.classicStunMessages &+= 1 }
        if m.carrier != nil { stats.nestedMessages &+= 1 }
        messageCounts[MessageKind(method: m.method, messageClass: m.messageClass), default: 0] &+= 1
        if let code = m.errorCode { errorCodeCounts[code, default: 0] &+= 1 }
        if m.integrity == .invalid, integrityInvalid.count < 50 { integrityInvalid.append((m.context.frame, m.flow)) }

        var rtt: Double?
        var retransmission = false
        var requestFlow: FiveTuple?
        /// An answer in an application's own message type, or a copy of a request seen on another path.
        var notARequest = false
        switch m.messageClass {
        case .request:
            switch transactions.classify(m) {
            case .new: break
            case .retransmission: retransmission = true
            case let .answer(match):
                rtt = match.rtt
                notARequest = true
            case .copy: notARequest = true
            }
        case .success, .error:
            let match = transactions.response(m)
            rtt = match?.rtt
            requestFlow = match?.requestFlow
            if match?.redirected == true, redirectedAnswerFlows.count < 10_000 { redirectedAnswerFlows.insert(m.flow) }
            if let o = observer, match != nil {
                o.liveEvent(LiveEvent(time: m.context.time.epochSeconds, frame: m.context.frame, kind: .transactionCompleted,
                                      session: nil, message: "\(m.methodName) \(m.messageClass.rawValue)", value: rtt))
            }
        case .indication: break
        }

        if m.carrier == nil {
            if m.method.isTURN || allocations.allocation(for: m.flow) != nil {
                // An answer from a sibling address of the server belongs to the request's allocation.
                var routed = m
                if let rf = requestFlow, rf != m.flow.reversed, m.method.isTURN { routed.flow = rf.reversed }
                allocations.handle(routed, rtt: rtt, findings: &findings)
            } else {
                // A STUN message on a relayed address is peer-leg traffic (e.g. a relayed ICE check).
                allocations.handlePeerLeg(context: m.context, flow: m.flow, length: m.payloadLength, hash: m.payloadHash,
                                          iceCheck: m.isIceCheck)
            }
            if m.method != .connectionBind { allocations.countClientLeg(flow: m.flow, bytes: m.payloadLength) }
            if m.method == .allocate, m.messageClass == .success, let x = m.xorMapped ?? m.mapped {
                bindings.noteReflexive(local: m.flow.destination, server: m.flow.source, reflexive: x, frame: m.context.frame)
            }
        }
        if m.isIceCheck && iceCheckIds.count < 100_000 { iceCheckIds.insert(m.identity) }
        if m.isRedirectedRequest && natTestIds.count < 100_000 { natTestIds.insert(m.identity) }
        if m.messageClass == .request, !notARequest, !m.method.isStandardRequest, proprietaryIds.count < 100_000 {
            proprietaryIds.insert(m.identity)
        }
        if m.method == .binding && !m.isIceCheck && m.carrier == nil && !notARequest && m.username.map({ !$0.contains(":") }) ?? true {
            bindings.handle(m, rtt: rtt, retransmission: retransmission, requestFlow: requestFlow)
        }
        ice.handle(m, allocations: allocations)
    }

    public func channelData(_ c: ObservedChannelData) {
        tick(c.context.time)
        if dropsCopiesAcrossFiles,
           copyFilter.isCopy(.channelData, flow: c.flow, hash: c.payloadHash ^ UInt64(c.channel), length: c.length, context: c.context) { return }
        stats.channelDataFrames &+= 1
        guard let a = allocations.handleChannelData(c, findings: &findings) else { return }
        allocations.countClientLeg(a, toServer: c.flow == a.flow, bytes: 4 &+ c.length)
        ice.channelData(c, allocation: a)
    }

    public func datagram(_ d: ObservedDatagram) {
        tick(d.context.time)
        if dropsCopiesAcrossFiles,
           copyFilter.isCopy(.datagram, flow: d.flow, hash: d.payloadHash, length: d.length, context: d.context) { return }
        if !icmpRefused.isEmpty, let refused = icmpRefused[d.flow.destination], refused != d.flow.source.address,
           servedAfterIcmp.count < 1_000 {
            servedAfterIcmp.insert(d.flow.destination)
        }
        ice.datagram(d)
        if d.flow.transport == .tcp, allocations.handleDataConnection(context: d.context, flow: d.flow, length: d.length) { return }
        allocations.handlePeerLeg(context: d.context, flow: d.flow, length: d.length, hash: d.payloadHash)
    }

    /// `answersTransaction`: the id (hex) of the request a malformed success/error response answers.
    public func malformed(_ context: FrameContext, reason: String, flow: FiveTuple? = nil, answersTransaction: String? = nil) {
        tick(context.time)
        stats.malformed &+= 1
        if let id = answersTransaction, let flow, malformedAnswers.count < 1_000, malformedAnswers[id] == nil {
            malformedAnswers[id] = (context.frame, reason, flow)
        }
    }

    public func fingerprintInvalid(_ context: FrameContext) {
        if fingerprintInvalid.count < 50 { fingerprintInvalid.append(context.frame) }
    }

    /// An ICMP error quoting a datagram of a STUN/TURN flow (or any UDP flow).
    public func icmpError(_ context: FrameContext, quotedFlow: FiveTuple, reporter: IPAddress, meaning: String, quotesStun: Bool) {
        tick(context.time)
        stats.icmpErrors &+= 1
        guard quotesStun || allocations.allocation(for: quotedFlow) != nil || allocations.allocation(relayed: quotedFlow.source) != nil else { return }
        if icmpByFlow[quotedFlow] == nil {
            guard icmpByFlow.count < 1_000 else { return }
            icmpRefused[quotedFlow.source] = quotedFlow.destination.address
            icmpByFlow[quotedFlow] = (0, [], meaning, reporter.description)
        }
        icmpByFlow[quotedFlow]!.count &+= 1
        if icmpByFlow[quotedFlow]!.frames.count < 20 { icmpByFlow[quotedFlow]!.frames.append(context.frame) }
    }

    public func tcpClosed(_ flow: FiveTuple, context: FrameContext) {
        allocations.tcpClosed(flow: flow, at: context)
    }

    /// A SIP request or response (SipEventBridge.swift feeds these from the dissector).
    public func sipMessage(_ o: ObservedSipMessage) {
        tick(o.context.time)
        sip.handle(o)
    }

    // MARK: Result

    public func finish(packets: Int) -> AnalysisDocument {
        let end = lastTime ?? CaptureTime(nanoseconds: 0)
        transactions.finish(at: end)
        allocations.finish(at: end)
        var doc = AnalysisDocument()
        stats.packets = packets
        for (kind, n) in messageCounts { stats.messagesByMethod[kind.method.name + " " + kind.messageClass.rawValue, default: 0] &+= n }
        for (code, n) in errorCodeCounts { stats.errorCodes[String(code), default: 0] &+= n }
        stats.firstTime = firstTime?.epochSeconds
        stats.lastTime = lastTime?.epochSeconds
        stats.transactions = transactions.total
        stats.unansweredTransactions = transactions.unanswered
        stats.retransmissions = transactions.retransmissions
        var ev = lowerStageEvictions
        ev.transactions = transactions.evicted
        ev.allocations = allocations.evicted
        ev.bindings = bindings.evicted
        let chained = AllocationSummaryBuilder.chainedPeers(allocations.allocations)
        let allocated = Set(allocations.allocations.filter { $0.state != .failed && $0.state != .pending }.map(\.flow.source))
        doc.allocations = allocations.allocations.map {
            AllocationSummaryBuilder.summary(of: $0, chained: chained[$0.id] ?? [:], captureEnd: end, silences: silences,
                                             clientServedElsewhere: allocated.contains($0.flow.source), findings: &findings)
        }
        ev.peerLegDatagrams = allocations.allocations.reduce(0) { $0 + $1.toPeer.evicted + $1.fromPeer.evicted }
        ev.allocationDetail = allocations.detailDropped + allocations.allocations.reduce(0) { $0 + $1.peersDropped }
        ev.iceSessions = ice.evicted
        stats.evicted = ev
        doc.bindings = bindings.summaries(findings: &findings)
        doc.natMappings = bindings.natMappings(fromPeers: ice.reflexiveObservations(), findings: &findings)
        let iceBuilder = IceSessionSummaryBuilder(reflexiveByLocal: bindings.reflexiveByLocal, allocations: allocations.allocations,
                                                  signalled: sip.signalled, natMappings: doc.natMappings, end: end)
        doc.iceSessions = ice.sessions.map { iceBuilder.summary(of: $0, findings: &findings) }
        // Symmetric NATs only the ICE checks show: in the NAT view too (the ICE findings explain them).
        doc.natMappings += iceBuilder.natMappings(sessions: ice.sessions, summaries: doc.iceSessions)
        doc.sipCalls = sip.summaries(ice: &doc.iceSessions, findings: &findings)
        doc.transactions = transactions.summaries
        addCaptureWideFindings(doc)
        doc.stats = stats
        doc.findings = findings.all
        return doc
    }

    private func addCaptureWideFindings(_ doc: AnalysisDocument) {
        addIcmpFindings(doc)
        addUnansweredFindings(doc)
        // Requests of an allocation the server refused for wrong credentials fail integrity with
        // the right password too: that is the same problem, already said.
        let unexplained = integrityInvalid.filter { e in
            guard let a = allocations.allocation(for: e.flow) ?? allocations.allocation(for: e.flow.reversed) else { return true }
            return !findings.has([.turnAuthWrongCredentials], session: .allocation(a.id))
        }
        if !unexplained.isEmpty {
            findings.add(.warning, .stunIntegrityInvalid,
                         "\(unexplained.count) message(s) failed MESSAGE-INTEGRITY with the given credentials: wrong password, or the message was altered.",
                         frames: unexplained.map(\.frame))
        }
        if !fingerprintInvalid.isEmpty {
            findings.add(.warning, .stunFingerprintInvalid,
                         "\(fingerprintInvalid.count) message(s) carry a FINGERPRINT that does not match: corrupted or non-standard messages.",
                         frames: fingerprintInvalid)
        }
        let ev = stats.evicted
        if ev.total > 0 {
            let parts: [(Int, String)] = [
                (ev.transactions, "transactions"), (ev.allocations, "allocations"), (ev.bindings, "binding sessions"),
                (ev.iceSessions, "ICE sessions"), (ev.tcpStreams, "TCP streams"), (ev.ipFragments, "incomplete IP datagrams"),
                (ev.peerLegDatagrams, "unmatched relay datagrams"), (ev.turnFiveTuples, "TURN 5-tuples"),
                (ev.allocationDetail, "per-allocation items (requests, permissions, peers, connections beyond their bounds)"),
            ]
            findings.add(.info, .captureStateEvicted,
                         "To stay within memory bounds, state was evicted: \(parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")). Counts above are complete; per-session detail for evicted state is not.",
                         frames: [])
        }
    }
}
