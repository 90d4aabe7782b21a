import NetworkVocabulary
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
    private var icmpByFlow: OrderedDictionary<FiveTuple, (count: Int, frames: [Int], meaning: String, reporter: String)> = [:]
    private var integrityInvalid: [Int] = []
    /// Transaction ids of ICE connectivity checks: their silence is judged by the ICE
    /// reconstructor (per candidate pair), not reported again as an unreachable server.
    private var iceCheckIds = Set<String>()
    private var fingerprintInvalid: [Int] = []
    private(set) var lastTime: CaptureTime?
    private(set) var firstTime: CaptureTime?
    /// Counters the lower stages evicted (TCP streams, IP fragments, TURN 5-tuples), filled in by the caller.
    public var lowerStageEvictions = EvictionCounters()

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

    private func tick(_ t: CaptureTime) {
        if firstTime == nil || t < firstTime! { firstTime = t }
        if lastTime == nil || t > lastTime! { lastTime = t }
        findings.clock = lastTime!.epochSeconds
    }

    // MARK: Events

    public func stunMessage(_ m: ObservedStunMessage) {
        tick(m.context.time)
        stats.stunMessages &+= 1
        if m.classic { stats.classicStunMessages &+= 1 }
        if m.carrier != nil { stats.nestedMessages &+= 1 }
        stats.messagesByMethod[m.methodName + " " + m.messageClass.rawValue, default: 0] &+= 1
        if let code = m.errorCode { stats.errorCodes[String(code), default: 0] &+= 1 }
        if m.integrity == .invalid, integrityInvalid.count < 50 { integrityInvalid.append(m.context.frame) }

        var rtt: Double?
        var retransmission = false
        switch m.messageClass {
        case .request: retransmission = transactions.request(m)
        case .success, .error:
            let match = transactions.response(m)
            rtt = match?.rtt
            if let o = observer, match != nil {
                o.liveEvent(LiveEvent(time: m.context.time.epochSeconds, frame: m.context.frame, kind: .transactionCompleted,
                                      session: nil, message: "\(m.methodName) \(m.messageClass.rawValue)", value: rtt))
            }
        case .indication: break
        }

        if m.carrier == nil {
            if m.method.isTURN || allocations.allocation(for: m.flow) != nil {
                allocations.handle(m, rtt: rtt, findings: &findings)
            } else {
                // A STUN message on a relayed address is peer-leg traffic (e.g. a relayed ICE check).
                allocations.handlePeerLeg(context: m.context, flow: m.flow, length: m.payloadLength, hash: m.payloadHash)
            }
            if m.method != .connectionBind { allocations.countClientLeg(flow: m.flow, bytes: m.payloadLength) }
            if m.method == .allocate, m.messageClass == .success, let x = m.xorMapped ?? m.mapped {
                bindings.noteReflexive(local: m.flow.destination, server: m.flow.source, reflexive: x, frame: m.context.frame)
            }
        }
        if m.isIceCheck && iceCheckIds.count < 100_000 { iceCheckIds.insert(m.transactionId) }
        if m.method == .binding && !m.isIceCheck && m.carrier == nil && m.username.map({ !$0.contains(":") }) ?? true {
            bindings.handle(m, rtt: rtt, retransmission: retransmission)
        }
        ice.handle(m, allocations: allocations)
    }

    public func channelData(_ c: ObservedChannelData) {
        tick(c.context.time)
        stats.channelDataFrames &+= 1
        allocations.handleChannelData(c, findings: &findings)
        allocations.countClientLeg(flow: c.flow, bytes: 4 &+ c.length)
        ice.channelData(c, allocations: allocations)
    }

    public func datagram(_ d: ObservedDatagram) {
        tick(d.context.time)
        ice.datagram(d)
        if d.flow.transport == .tcp, allocations.handleDataConnection(context: d.context, flow: d.flow, length: d.length) { return }
        allocations.handlePeerLeg(context: d.context, flow: d.flow, length: d.length, hash: d.payloadHash)
    }

    public func malformed(_ context: FrameContext, reason: String) {
        tick(context.time)
        stats.malformed &+= 1
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
        stats.firstTime = firstTime?.epochSeconds
        stats.lastTime = lastTime?.epochSeconds
        stats.transactions = transactions.total
        stats.unansweredTransactions = transactions.unanswered
        stats.retransmissions = transactions.retransmissions
        var ev = lowerStageEvictions
        ev.transactions = transactions.evicted
        ev.allocations = allocations.evicted
        ev.bindings = bindings.evicted
        doc.allocations = allocations.allocations.map { AllocationSummaryBuilder.summary(of: $0, findings: &findings) }
        ev.peerLegDatagrams = allocations.allocations.reduce(0) { $0 + $1.toPeer.evicted + $1.fromPeer.evicted }
        ev.allocationDetail = allocations.detailDropped + allocations.allocations.reduce(0) { $0 + $1.peersDropped }
        ev.iceSessions = ice.evicted
        stats.evicted = ev
        doc.bindings = bindings.summaries(findings: &findings)
        doc.natMappings = bindings.natMappings(fromPeers: ice.reflexiveObservations(), findings: &findings)
        let iceBuilder = IceSessionSummaryBuilder(reflexiveByLocal: bindings.reflexiveByLocal, allocations: allocations.allocations,
                                                  signalled: sip.signalled, natMappings: doc.natMappings, end: end)
        doc.iceSessions = ice.sessions.map { iceBuilder.summary(of: $0, findings: &findings) }
        // Symmetric NATs only the ICE checks show: in the NAT view too, and reported like the others.
        for m in iceBuilder.natMappings(sessions: ice.sessions, summaries: doc.iceSessions) {
            doc.natMappings.append(m)
            findings.add(.warning, .natSymmetric,
                         "\(m.local) is behind a symmetric (\(m.mappingBehavior.rawValue) mapping) NAT: \(m.observations.map { "\($0.server) saw \($0.reflexive)" }.joined(separator: ", ")). Its srflx candidates will fail; expect relay or prflx pairs.",
                         frames: m.observations.map(\.frame), session: nil)
        }
        doc.sipCalls = sip.summaries(ice: &doc.iceSessions, findings: &findings)
        doc.transactions = transactions.summaries
        addCaptureWideFindings(doc)
        doc.stats = stats
        doc.findings = findings.all
        return doc
    }

    private func addCaptureWideFindings(_ doc: AnalysisDocument) {
        for (flow, e) in icmpByFlow {
            findings.add(.error, .icmpUnreachable,
                         "\(e.count) ICMP error(s) (\(e.meaning)) from \(e.reporter) for \(flow.transport) \(flow.source) -> \(flow.destination): the destination did not accept the STUN/TURN traffic.",
                         frames: e.frames)
        }
        // Relayed checks (nested in ChannelData / DATA) are the ICE reconstructor's to judge: their
        // carrier flow names the TURN server, not the peer that did not answer.
        let unanswered = doc.transactions.filter {
            !$0.nested && !iceCheckIds.contains($0.transactionId) && ($0.state == .unanswered || $0.state == .timedOut)
        }
        if !unanswered.isEmpty {
            // Per method, client and server, in the order first seen.
            let byPair = OrderedDictionary(grouping: unanswered) { [$0.method, $0.client, $0.server] }
            for ts in byPair.values {
                let t0 = ts[0]
                let sends = ts.reduce(0) { $0 + $1.requestFrames.count }
                let retransmitted = sends > ts.count
                let cutOff = ts.allSatisfy { $0.state == .unanswered }
                let severity: Finding.Severity = retransmitted ? .error : .warning
                var message = "\(ts.count) \(t0.method) request(s) from \(t0.client) to \(t0.server) got no answer (\(sends) sends incl. retransmissions, last at frame \(ts.last!.requestFrames.last!))"
                message += cutOff ? "; the capture ended less than 39.5 s after the last send, so an answer may have come later." : "."
                findings.add(severity, retransmitted ? .stunServerUnreachable : .stunRequestUnanswered, FindingMessage(message),
                             frames: ts.flatMap(\.requestFrames), session: nil)
            }
        }
        if !integrityInvalid.isEmpty {
            findings.add(.warning, .stunIntegrityInvalid,
                         "\(integrityInvalid.count) message(s) failed MESSAGE-INTEGRITY with the given credentials: wrong password, or the message was altered.",
                         frames: integrityInvalid)
        }
        if !fingerprintInvalid.isEmpty {
            findings.add(.warning, .stunFingerprintInvalid,
                         "\(fingerprintInvalid.count) message(s) carry a FINGERPRINT that does not match: corrupted or non-standard messages.",
                         frames: fingerprintInvalid)
        }
        let ev = stats.evicted
        if ev.total > 0 {
            findings.add(.info, .captureStateEvicted,
                         "To stay within memory bounds, state was evicted: \(ev.transactions) transactions, \(ev.allocations) allocations, \(ev.bindings) binding sessions, \(ev.tcpStreams) TCP streams, \(ev.ipFragments) incomplete IP datagrams, \(ev.peerLegDatagrams) unmatched relay datagrams, \(ev.turnFiveTuples) TURN 5-tuples, \(ev.allocationDetail) per-allocation items (requests, permissions, peers, connections beyond their bounds). Counts above are complete; per-session detail for evicted state is not.",
                         frames: [])
        }
    }
}
