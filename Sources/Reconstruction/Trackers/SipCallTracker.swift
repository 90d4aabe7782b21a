import NetworkVocabulary
import SipWire

/// What the SIP call tracker needs from one SIP message.
public struct ObservedSipMessage {
    public var context: FrameContext
    public var flow: FiveTuple
    public var message: SipMessage
    public var sdp: SdpSession?

    public init(context: FrameContext, flow: FiveTuple, message: SipMessage, sdp: SdpSession?) {
        self.context = context
        self.flow = flow
        self.message = message
        self.sdp = sdp
    }
}

/// SIP calls by Call-ID: the message ladder, the offer/answer SDPs, and
/// (at the end) the tie to the ICE session whose ufrags the SDPs carry.
struct SipCallTracker {
    final class Call {
        let callId: String
        var from: String?
        var to: String?
        var caller: Endpoint?
        var callee: Endpoint?
        var transport: TransportProtocol
        var state = SipCallState.attempted
        var messages: [SipMessageSummary] = []
        var dropped = 0
        var offer: (sdp: SdpSession, carriedIn: String, frame: Int, fromCaller: Bool)?
        var answer: (sdp: SdpSession, carriedIn: String, frame: Int, fromCaller: Bool)?
        var renegotiations = 0
        var last: CaptureTime

        init(callId: String, transport: TransportProtocol, at t: CaptureTime) {
            self.callId = callId
            self.transport = transport
            self.last = t
        }
    }

    private(set) var calls: [Call] = []
    private var byId: [String: Call] = [:]
    /// SDPs given with `--sdp`.
    private(set) var external: [(sdp: SdpSession, source: String)] = []
    var maxCalls = 10_000
    var maxMessagesPerCall = 200
    private(set) var evicted = 0
    private(set) var messagesWithoutCallId = 0

    mutating func addExternal(_ sdp: SdpSession, source: String) {
        if external.count < 256 { external.append((sdp, source)) }
    }

    mutating func handle(_ o: ObservedSipMessage) {
        let m = o.message
        guard let rawId = m.callID, !rawId.isEmpty else {
            messagesWithoutCallId &+= 1
            return
        }
        let callId = String(rawId.prefix(256))
        let call: Call
        if let c = byId[callId] {
            call = c
        } else {
            if calls.count >= maxCalls {
                // The least recently active eighth goes at once (amortised cost under a flood).
                let victims = calls.sorted { $0.last < $1.last }.prefix(max(1, calls.count / 8))
                let ids = Set(victims.map(\.callId))
                calls.removeAll { ids.contains($0.callId) }
                for id in ids { byId.removeValue(forKey: id) }
                evicted &+= ids.count
            }
            call = Call(callId: callId, transport: o.flow.transport, at: o.context.time)
            calls.append(call)
            byId[callId] = call
        }
        call.last = max(call.last, o.context.time)
        if call.from == nil { call.from = m.from.map { String($0.prefix(512)) } }
        if call.to == nil { call.to = m.to.map { String($0.prefix(512)) } }
        let cseq = m.cseq
        if m.isRequest, call.caller == nil, m.method != "ACK" {
            call.caller = o.flow.source
            call.callee = o.flow.destination
        }
        let fromCaller = call.caller.map { $0 == o.flow.source } ?? m.isRequest

        // Dialog state.
        if let method = m.method {
            switch method {
            case "INVITE": if call.state == .attempted || call.state == .failed { call.state = .attempted }
            case "BYE": call.state = .ended
            case "CANCEL": call.state = .cancelled
            default: break
            }
        } else if let code = m.statusCode, cseq?.method == "INVITE" {
            switch code {
            case 180...189: if call.state == .attempted { call.state = .ringing }
            case 200...299: if call.state != .ended { call.state = .established }
            case 487: call.state = .cancelled
            case 300...699: if call.state == .attempted || call.state == .ringing { call.state = .failed }
            default: break
            }
        }

        // Offer / answer (RFC 3264): the first SDP is the offer, the next one from the other side the answer.
        if let sdp = o.sdp {
            let carried = m.method ?? (m.statusCode.map { String($0) } ?? "?")
            if call.offer == nil {
                call.offer = (sdp, carried, o.context.frame, fromCaller)
            } else if call.answer == nil, call.offer!.fromCaller != fromCaller {
                call.answer = (sdp, carried, o.context.frame, fromCaller)
            } else {
                call.renegotiations &+= 1
            }
        }

        if call.messages.count < maxMessagesPerCall {
            call.messages.append(SipMessageSummary(frame: o.context.frame, time: o.context.time.epochSeconds,
                                                   src: o.flow.source.description, dst: o.flow.destination.description,
                                                   line: String(m.summaryLine.prefix(256)),
                                                   cseq: cseq.map { "\($0.number) \($0.method)" }, hasSdp: o.sdp != nil))
        } else {
            call.dropped &+= 1
        }
    }

    // MARK: Signalling for the ICE builder

    /// ICE's four types; anything else an SDP says is `unknown`.
    /// SDP `typ` values outside RFC 8445's four are `unknown`.
    static func candidateType(_ t: String) -> CandidateType {
        switch t {
        case "host": return .host
        case "srflx": return .srflx
        case "prflx": return .prflx
        case "relay": return .relay
        default: return .unknown
        }
    }

    static func candidates(_ sdp: SdpSession) -> [SignalledCandidate] {
        sdp.allCandidates.prefix(512).map { c in
            SignalledCandidate(address: c.address, endpoint: c.endpoint, type: SipCallTracker.candidateType(c.type), transport: c.transport,
                               priority: c.priority, foundation: c.foundation,
                               related: c.relatedEndpoint?.description ?? c.relatedAddress, tcpType: c.tcpType)
        }
    }

    /// One description per ufrag an SDP carries (media-level ufrags may differ).
    static func descriptions(_ sdp: SdpSession, source: String, callId: String?) -> [SignalledDescription] {
        let ufrags = sdp.iceUfrags
        if ufrags.count <= 1 {
            return [SignalledDescription(ufrag: ufrags.first, candidates: candidates(sdp), source: source, callId: callId)]
        }
        var out: [SignalledDescription] = []
        for (i, m) in sdp.media.enumerated() {
            let u = sdp.ufrag(media: i)
            let cands = m.candidates.map { c in
                SignalledCandidate(address: c.address, endpoint: c.endpoint, type: SipCallTracker.candidateType(c.type), transport: c.transport,
                                   priority: c.priority, foundation: c.foundation,
                                   related: c.relatedEndpoint?.description ?? c.relatedAddress, tcpType: c.tcpType)
            }
            if let j = out.firstIndex(where: { $0.ufrag == u }) { out[j].candidates += cands } else {
                out.append(SignalledDescription(ufrag: u, candidates: cands, source: source, callId: callId))
            }
        }
        return out
    }

    var signalled: [SignalledDescription] {
        var out: [SignalledDescription] = []
        for c in calls {
            if let o = c.offer {
                out += SipCallTracker.descriptions(o.sdp, source: "SIP \(o.carriedIn) (frame \(o.frame), Call-ID \(c.callId))", callId: c.callId)
            }
            if let a = c.answer {
                out += SipCallTracker.descriptions(a.sdp, source: "SIP \(a.carriedIn) (frame \(a.frame), Call-ID \(c.callId))", callId: c.callId)
            }
        }
        for e in external {
            out += SipCallTracker.descriptions(e.sdp, source: "--sdp \(e.source)", callId: nil)
        }
        return out
    }

    // MARK: Result

    static func sdpSummary(_ sdp: SdpSession, carriedIn: String?, frame: Int?) -> SdpSummary {
        var s = SdpSummary(iceUfrag: sdp.iceUfrags.first, hasIcePwd: sdp.hasIcePassword, iceOptions: sdp.effectiveIceOptions,
                           setup: sdp.effectiveSetup,
                           connection: (sdp.connection ?? sdp.media.lazy.compactMap(\.connection).first).map { "\($0.networkType) \($0.addressType) \($0.address)" },
                           media: sdp.media.prefix(64).map(\.line),
                           candidates: sdp.allCandidates.prefix(256).map(\.attributeValue))
        s.iceLite = sdp.iceLite
        s.carriedIn = carriedIn
        s.frame = frame
        return s
    }

    /// Summaries, tied to ICE sessions by ufrag; sets `call` on the sessions.
    func summaries(ice: inout [IceSessionSummary], findings: inout FindingCollector) -> [SipCallSummary] {
        var out: [SipCallSummary] = []
        for c in calls {
            var s = SipCallSummary(callId: c.callId)
            s.from = c.from
            s.to = c.to
            s.caller = c.caller?.description
            s.callee = c.callee?.description
            s.transport = c.transport.description
            s.state = c.state
            s.messages = c.messages
            s.messagesDropped = c.dropped
            s.offer = c.offer.map { SipCallTracker.sdpSummary($0.sdp, carriedIn: $0.carriedIn, frame: $0.frame) }
            s.answer = c.answer.map { SipCallTracker.sdpSummary($0.sdp, carriedIn: $0.carriedIn, frame: $0.frame) }
            let offerUfrags = c.offer?.sdp.iceUfrags ?? []
            let answerUfrags = c.answer?.sdp.iceUfrags ?? []
            let all = Set(offerUfrags + answerUfrags)
            // The session that holds both ufrags, else one of them.
            let match = ice.firstIndex { Set($0.ufrags).isSuperset(of: all) && !all.isEmpty }
                ?? ice.firstIndex { !Set($0.ufrags).isDisjoint(with: all) }
            var sides: [(SdpRole, SdpSession, String?)] = []
            if let o = c.offer { sides.append((.offer, o.sdp, o.sdp.iceUfrags.first)) }
            if let a = c.answer { sides.append((.answer, a.sdp, a.sdp.iceUfrags.first)) }
            var checkedSet = Set<String>()
            var tcpIPs = Set<String>()
            var selected = Set<String>()
            if let i = match {
                s.iceSession = ice[i].id
                s.selectedPair = ice[i].selectedPair
                if ice[i].call == nil { ice[i].call = c.callId }
                for p in ice[i].pairs {
                    checkedSet.insert(p.local)
                    checkedSet.insert(p.remote)
                    if p.transport == .tcp {
                        for e in [p.local, p.remote] { if let ep = Endpoint(e) { tcpIPs.insert(ep.address.description) } }
                    }
                    if let x = p.localSeenByRemote { checkedSet.insert(x) }
                    if let x = p.remoteSeenByLocal { checkedSet.insert(x) }
                }
                if let sp = ice[i].selectedPair {
                    selected = [sp.local, sp.remote]
                    for p in ice[i].pairs where p.local == sp.local && p.remote == sp.remote {
                        if let x = p.localSeenByRemote { selected.insert(x) }
                        if let x = p.remoteSeenByLocal { selected.insert(x) }
                    }
                }
            }
            for (side, sdp, ufrag) in sides {
                for cand in sdp.allCandidates.prefix(256) {
                    let address = cand.endpoint?.description ?? "\(cand.address):\(cand.port)"
                    // An ICE-TCP active candidate (port 9) is used from an ephemeral port.
                    let checked = checkedSet.contains(address)
                        || (cand.transport == "tcp" && cand.tcpType == "active" && tcpIPs.contains(cand.endpoint?.address.description ?? cand.address))
                    s.candidates.append(SipCandidateCheck(address: address, type: SipCallTracker.candidateType(cand.type), side: side, ufrag: ufrag,
                                                          checked: checked, selected: selected.contains(address)))
                    s.signalledCandidates += 1
                    if checked { s.checkedCandidates += 1 } else { s.neverChecked.append(address) }
                }
            }
            if s.iceSession != nil, !s.neverChecked.isEmpty {
                findings.add(.info, .sipCandidatesNeverChecked,
                             "SIP call \(c.callId): \(s.neverChecked.count) of \(s.signalledCandidates) signalled candidate(s) were never seen in a check here: \(s.neverChecked.prefix(6).joined(separator: ", ")) (unreachable, pruned, ICE finished before reaching them, or checks on another path).",
                             frames: [], session: s.iceSession.map { .ice($0) })
            }
            if s.iceSession == nil, !all.isEmpty {
                findings.add(.info, .sipIceNoSession,
                             "SIP call \(c.callId) signalled ICE (ufrag \(all.sorted().joined(separator: ", "))) but no connectivity check with these ufrags was seen here.",
                             frames: c.messages.prefix(1).map(\.frame), session: nil)
            }
            out.append(s)
        }
        return out
    }
}
