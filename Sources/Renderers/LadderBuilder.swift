import Foundation
import Reconstruction

/// A sequence ("ladder") diagram of one session: participants as columns,
/// one row per message, band, note or internal hop. The HTML report draws it
/// as SVG, the Mermaid export as a `sequenceDiagram`.
public struct Ladder: Sendable {
    /// `allocation:1`, `binding:2`, `ice:3`, `sip:1`; nil for a ladder that is not one
    /// session's (the stitched view of several vantage points).
    public var session: SessionRef?
    public var title: String
    public var lanes: [Lane]
    public var rows: [Row]
    /// Rows not drawn (beyond `LadderBuilder.maxRows`).
    public var omitted = 0
    /// Time the `+seconds` labels count from.
    public var origin: Double

    public struct Lane: Sendable, Equatable {
        public var role: String
        public var address: String
        public var kind: Kind
        public enum Kind: String, Sendable { case client, nat, server, relay, peer, agent, other }
    }

    public enum RowKind: String, Sendable { case message, band, note, hop }

    public struct Row: Sendable {
        public var kind: RowKind
        public var time: Double?
        public var frame: Int?
        public var from: Int
        public var to: Int
        public var label: String
        public var detail: String = ""
        /// Frames a band stands for.
        public var count: Int?
        /// The relay exchange step(s) of docs/relay-exchange.md this arrow is (`1-2`, `3`, `4-5`, ...).
        public var step: String?
        /// Lanes the arrow crosses where a NAT translates it.
        public var via: [Int] = []
        public var style: Set<Style> = []
    }

    public enum Style: String, Sendable { case error, relay, notSeen = "not-seen", nominated, selected, handshake, state }
}

public enum LadderBuilder {
    public static let maxRows = 400
    public static let maxPeerLanes = 4

    /// Ladders for every session of a document, in the order of
    /// `ExportSupport.sessionKeys`.
    public static func ladders(_ doc: AnalysisDocument) -> [Ladder] {
        doc.allocations.map(allocation) + doc.bindings.map(binding) + doc.iceSessions.map(ice)
            + doc.sipCalls.enumerated().map { sip($0.element, index: $0.offset + 1) }
    }

    // MARK: - Helpers

    /// The relayed data an entry counts (ChannelData, Send/Data, peer-leg datagrams), if any.
    /// TCP data-connection bytes are relayed too but drawn as plain messages, as before.
    public static func relayData(_ e: TimelineEntry) -> RelayBandSummary? {
        guard let band = e.kind.relay, band.kind != .tcpDataConnection else { return nil }
        return band
    }

    static func host(_ endpoint: String) -> String {
        if endpoint.hasPrefix("["), let close = endpoint.firstIndex(of: "]") {
            return String(endpoint[endpoint.index(after: endpoint.startIndex)..<close])
        }
        if let colon = endpoint.lastIndex(of: ":"), endpoint.firstIndex(of: ":") == colon {
            return String(endpoint[..<colon])
        }
        return endpoint
    }

    static func cap(_ ladder: inout Ladder) {
        if ladder.rows.count > maxRows {
            ladder.omitted = ladder.rows.count - maxRows
            ladder.rows.removeLast(ladder.omitted)
        }
    }

    // MARK: - TURN allocation

    public static func allocation(_ a: TurnAllocationSummary) -> Ladder {
        var lanes: [Ladder.Lane] = [Ladder.Lane(role: "client", address: a.client, kind: .client)]
        var nat: Int?
        if let m = a.mapped, m != a.client {
            nat = lanes.count
            lanes.append(.init(role: "client NAT", address: m, kind: .nat))
        }
        let server = lanes.count
        lanes.append(.init(role: "TURN server", address: a.server, kind: .server))
        let relay = lanes.count
        lanes.append(.init(role: "relayed", address: a.relayed.isEmpty ? "(none)" : a.relayed.joined(separator: " "), kind: .relay))

        // Peers: per-peer summaries, channels, then timeline mentions.
        var peerNames: [String] = []
        func notePeer(_ p: String) { if !peerNames.contains(p) { peerNames.append(p) } }
        a.peers.forEach { notePeer($0.peer) }
        a.channels.forEach { notePeer($0.peer) }
        for e in a.timeline { if let p = Self.relayData(e)?.peer { notePeer(p) } }
        let shown = peerNames.prefix(maxPeerLanes)
        var peerLane: [String: Int] = [:]
        for p in shown {
            peerLane[p] = lanes.count
            lanes.append(.init(role: "peer", address: p, kind: .peer))
        }
        var otherPeers: Int?
        if peerNames.count > shown.count || peerNames.isEmpty && a.timeline.contains(where: { $0.direction.isPeerLeg }) || !a.permissions.isEmpty && peerNames.isEmpty {
            otherPeers = lanes.count
            lanes.append(.init(role: peerNames.isEmpty ? "peer" : "other peers", address: peerNames.isEmpty ? (a.permissions.map(\.peer).first ?? "") : "\(peerNames.count - shown.count) more", kind: .peer))
        }
        func lane(forPeer p: String?) -> Int {
            if let p = p, let l = peerLane[p] { return l }
            if let p = p, let l = peerLane.first(where: { host($0.key) == host(p) })?.value { return l }
            return otherPeers ?? peerLane.values.min() ?? relay
        }

        var rows: [Ladder.Row] = []
        var lastRelay: (dir: TimelineDirection, peer: String?, time: Double)?
        for e in a.timeline {
            var row = Ladder.Row(kind: .message, time: e.time, frame: e.frame == 0 ? nil : e.frame, from: 0, to: 0,
                                 label: e.event, detail: e.detail)
            if let rtt = e.rtt { row.detail += (row.detail.isEmpty ? "" : ", ") + "rtt " + ExportSupport.millis(rtt) }
            let band = Self.relayData(e)
            let relayData = band != nil
            if let c = band?.frames, c > 1 { row.kind = .band; row.count = c }
            if relayData { row.style.insert(.relay) }
            if e.kind.isProblem && e.direction != .state { row.style.insert(.error) }
            let p = band?.peer
            switch e.direction {
            case .clientToServer:
                row.from = 0; row.to = server
                if let n = nat { row.via = [n] }
                if relayData { row.step = "6-7" }
            case .serverToClient:
                row.from = server; row.to = 0
                if let n = nat { row.via = [n] }
                if relayData { row.step = "4-5" }
            case .relayToPeer:
                row.from = relay; row.to = lane(forPeer: p)
                row.step = "9-10"
            case .peerToRelay:
                row.from = lane(forPeer: p); row.to = relay
                row.step = "1-2"
            case .state, .between:
                row.kind = .note
                row.from = server; row.to = relay
                row.style.insert(.state)
                if e.kind == .allocation(.expired) { row.style.insert(.error) }
            }
            // The server's internal hop between its STUN port and the relayed port (steps 3 and 8).
            if relayData, let last = lastRelay, last.peer == p || last.peer == nil || p == nil {
                if last.dir == .peerToRelay && e.direction == .serverToClient {
                    rows.append(Ladder.Row(kind: .hop, time: nil, frame: nil, from: relay, to: server,
                                           label: "wrap", detail: "+" + ExportSupport.millis(e.time - last.time), step: "3"))
                } else if last.dir == .clientToServer && e.direction == .relayToPeer {
                    rows.append(Ladder.Row(kind: .hop, time: nil, frame: nil, from: server, to: relay,
                                           label: "unwrap", detail: "+" + ExportSupport.millis(e.time - last.time), step: "8"))
                }
            }
            lastRelay = relayData ? (e.direction, p, e.time) : nil
            rows.append(row)
        }
        if a.timeline.isEmpty {
            rows.append(Ladder.Row(kind: .note, time: a.start, frame: nil, from: 0, to: relay, label: "no timeline entries", detail: a.outcome.rawValue))
        }
        var ladder = Ladder(session: .allocation(a.id), title: "Allocation \(a.id): \(a.transport.description.uppercased()) \(a.client) -> \(a.server), \(a.outcome.rawValue)",
                            lanes: lanes, rows: rows, origin: a.start)
        cap(&ladder)
        return ladder
    }

    // MARK: - Binding session

    public static func binding(_ b: BindingSessionSummary) -> Ladder {
        var lanes: [Ladder.Lane] = [.init(role: "client", address: b.client, kind: .client)]
        var via: [Int] = []
        if let r = b.reflexive.first, r != b.client {
            via = [lanes.count]
            lanes.append(.init(role: "client NAT", address: b.reflexive.joined(separator: " "), kind: .nat))
        }
        let server = lanes.count
        lanes.append(.init(role: b.classic ? "STUN server (RFC 3489)" : "STUN server", address: b.server, kind: .server))
        var rows: [Ladder.Row] = []
        if b.requests > 0 {
            rows.append(.init(kind: .message, time: b.start, frame: nil, from: 0, to: server, label: "Binding request",
                              detail: b.retransmissions > 0 ? "\(b.retransmissions) retransmission(s) in the session" : "", via: via))
            if b.responses > 0 {
                var r = Ladder.Row(kind: .message, time: nil, frame: nil, from: server, to: 0, label: "Binding success",
                                   detail: b.reflexive.isEmpty ? "" : "mapped " + b.reflexive[0], via: via)
                if let rtt = b.rtt { r.detail += ", rtt " + ExportSupport.millis(rtt.median) }
                rows.append(r)
            } else if b.errorResponses == 0 {
                rows.append(.init(kind: .message, time: nil, frame: nil, from: server, to: 0, label: "no response", detail: "",
                                  via: via, style: [.notSeen, .error]))
            }
            if b.errorResponses > 0 {
                rows.append(.init(kind: .message, time: nil, frame: nil, from: server, to: 0, label: "Binding error", detail: "\(b.errorResponses) error response(s)", via: via, style: [.error]))
            }
        }
        if b.requests > 1 || b.indications > 0 {
            var d = "\(b.requests) requests, \(b.responses) responses, \(b.indications) indications"
            if let k = b.keepaliveInterval { d += ", every " + ExportSupport.seconds(k.median) }
            rows.append(.init(kind: .band, time: nil, frame: nil, from: 0, to: server, label: "requests and indications in the session", detail: d,
                              count: b.requests + b.indications, via: via))
        }
        for t in b.natTests {
            var change: [String] = []
            if t.changeIP { change.append("IP") }
            if t.changePort { change.append("port") }
            let what = "CHANGE-REQUEST " + (change.isEmpty ? "none" : change.joined(separator: "+"))
            rows.append(.init(kind: .message, time: nil, frame: t.frame, from: 0, to: server, label: what, detail: "", via: via))
            rows.append(.init(kind: .message, time: nil, frame: t.answerFrame, from: server, to: 0, label: t.answered ? "answered" : "no answer seen",
                              detail: [(t.answeredFrom ?? t.responseOrigin).map { "from " + $0 }, t.mapped.map { "mapped " + $0 }].compactMap { $0 }.joined(separator: ", "),
                              via: via, style: t.answered ? [] : [.notSeen]))
        }
        if let gap = b.longestGap, gap > 30 {
            rows.append(.init(kind: .note, time: nil, frame: nil, from: 0, to: server, label: "longest gap " + ExportSupport.seconds(gap),
                              detail: "longer than a typical 30 s NAT binding timeout", style: [.error, .state]))
        }
        var ladder = Ladder(session: .binding(b.id), title: "Binding session \(b.id): \(b.transport.description.uppercased()) \(b.client) -> \(b.server)",
                            lanes: lanes, rows: rows, origin: b.start)
        cap(&ladder)
        return ladder
    }

    // MARK: - ICE session

    public static func ice(_ s: IceSessionSummary) -> Ladder {
        // Columns: the local side's candidates, then the remote side's.
        var locals: [String] = []
        var remotes: [String] = []
        for p in s.pairs {
            if !locals.contains(p.local) { locals.append(p.local) }
            if !remotes.contains(p.remote) { remotes.append(p.remote) }
        }
        if s.pairs.isEmpty {
            for c in s.candidates {
                let isLocalAgent = c.agent == nil || c.agent == s.candidates.first?.agent
                if isLocalAgent { if !locals.contains(c.address) { locals.append(c.address) } } else if !remotes.contains(c.address) { remotes.append(c.address) }
            }
        }
        // A lane is one agent's wire address: its type is the candidate list's for that agent and
        // address (the JSON's one classification), else what the pairs say of it.
        // Pairs' `local` is the controlling agent's side; with roles unknown, any agent's entry.
        let localAgent = s.controllingUfrag, remoteAgent = s.controlledUfrag
        func type(of address: String, agent: String?) -> String {
            s.candidates.first { $0.address == address && ($0.agent == agent || agent == nil) }?.type.rawValue
                ?? s.pairs.first { $0.local == address }?.localType.rawValue ?? s.pairs.first { $0.remote == address }?.remoteType.rawValue ?? "?"
        }
        let maxPerSide = 4
        var lanes: [Ladder.Lane] = []
        var laneOf: [String: Int] = [:]
        func addSide(_ list: [String], _ side: String, agent: String?) {
            for a in list.prefix(maxPerSide) {
                laneOf[a] = lanes.count
                lanes.append(.init(role: "\(side) \(type(of: a, agent: agent))", address: a, kind: .agent))
            }
            if list.count > maxPerSide {
                let other = lanes.count
                lanes.append(.init(role: "\(side) others", address: "\(list.count - maxPerSide) more", kind: .other))
                for a in list.dropFirst(maxPerSide) { laneOf[a] = other }
            }
        }
        let localControls = s.controlling.map { c in locals.contains(c) || locals.contains { host($0) == host(c) } } ?? true
        addSide(locals, localControls && s.controlling != nil ? "controlling" : (s.controlled != nil && !localControls ? "controlled" : "local"),
                agent: s.pairs.isEmpty ? nil : localAgent)
        addSide(remotes, !localControls ? "controlling" : (s.controlled != nil ? "controlled" : "remote"),
                agent: s.pairs.isEmpty ? nil : remoteAgent)
        if lanes.isEmpty { lanes = [.init(role: "agent", address: s.controlling ?? "?", kind: .agent), .init(role: "agent", address: s.controlled ?? "?", kind: .agent)] }

        var rows: [Ladder.Row] = []
        // Timeline entries whose endpoints resolve to columns are drawn as they are.
        var resolved = 0
        var timelineRows: [Ladder.Row] = []
        // Frames of the 4-way handshake steps and of the nominations, from the pairs.
        var stepOfFrame: [Int: Int] = [:]
        var nominationFrames = Set<Int>()
        for p in s.pairs {
            for (i, f) in p.handshakeFrames.enumerated() { if let f = f { stepOfFrame[f] = i + 1 } }
            if let f = p.nominationFrame { nominationFrames.insert(f) }
        }
        if let f = s.selectedPair?.nominationFrame { nominationFrames.insert(f) }
        // Timeline endpoints not among the pairs' addresses get columns too (up to 8 in all).
        for e in s.timeline {
            guard case let .between(from, to) = e.direction else { continue }
            for a in [from, to] where laneOf[a] == nil && lanes.count < 8 {
                laneOf[a] = lanes.count
                lanes.append(.init(role: "endpoint", address: a, kind: .other))
            }
        }
        for e in s.timeline {
            var row = Ladder.Row(kind: .message, time: e.time, frame: e.frame == 0 ? nil : e.frame, from: 0, to: 0, label: e.event, detail: e.detail)
            if let step = stepOfFrame[e.frame], e.frame != 0 {
                row.step = String(step)
                row.style.insert(.handshake)
            }
            if nominationFrames.contains(e.frame) && e.frame != 0 { row.style.insert(.nominated) }
            if let rtt = e.rtt { row.detail += (row.detail.isEmpty ? "" : ", ") + "rtt " + ExportSupport.millis(rtt) }
            if let c = Self.relayData(e)?.frames, c > 1 { row.kind = .band; row.count = c }
            if e.kind.isNomination { row.style.insert(.nominated) }
            if e.kind.isProblem { row.style.insert(.error) }
            if case let .between(from, to) = e.direction, let f = laneOf[from], let t = laneOf[to], f != t {
                row.from = f; row.to = t
                resolved += 1
            } else {
                row.kind = .note
                row.from = 0; row.to = lanes.count - 1
                row.style.insert(.state)
            }
            timelineRows.append(row)
        }
        if resolved > 0 {
            rows = timelineRows
        } else {
            // The 4-way handshake of every pair (check, response, triggered check,
            // response), in order of the first check, with what the capture saw.
            let ordered = s.pairs.enumerated().sorted { ($0.element.firstRequest ?? .infinity, $0.offset) < ($1.element.firstRequest ?? .infinity, $1.offset) }
            for (n, p) in ordered.map({ $0.element }).enumerated() {
                guard let l = laneOf[p.local], let r = laneOf[p.remote], l != r else { continue }
                let selected = s.selectedPair.map { $0.local == p.local && $0.remote == p.remote } ?? false
                var head = Ladder.Row(kind: .note, time: p.firstRequest, frame: nil, from: min(l, r), to: max(l, r),
                                      label: "pair \(n + 1): \(p.localLabel) <-> \(p.remoteLabel)",
                                      detail: "\(p.state), \(p.requestsSent) check(s), \(p.responsesReceived) response(s)" + (p.retransmissions > 0 ? ", \(p.retransmissions) retransmission(s)" : "") + (p.viaRelay ? ", via TURN" : ""),
                                      style: [.handshake, .state])
                if selected { head.style.insert(.selected) }
                if p.state == .failed { head.style.insert(.error) }
                rows.append(head)
                let seen = p.handshake + Array(repeating: false, count: max(0, 4 - p.handshake.count))
                let aggressive = s.nomination == .aggressive
                let localNominates = localControls
                let steps: [(Int, Int, String, Double?)] = [
                    (l, r, "1 check", p.firstRequest),
                    (r, l, "2 response", p.firstResponse),
                    (r, l, "3 triggered check", nil),
                    (l, r, "4 response", nil),
                ]
                for (i, st) in steps.enumerated() {
                    var row = Ladder.Row(kind: .message, time: st.3, frame: nil, from: st.0, to: st.1, label: st.2,
                                         detail: seen[i] ? "" : "not seen at this vantage point", step: String(i + 1), style: [.handshake])
                    if !seen[i] { row.style.insert(.notSeen) }
                    if i == 1, let rtt = p.rtt { row.detail = "rtt " + ExportSupport.millis(rtt.median) }
                    if p.nominated && aggressive && ((i == 0 && localNominates) || (i == 2 && !localNominates)) {
                        row.label += " + USE-CANDIDATE"
                        row.style.insert(.nominated)
                    }
                    if selected { row.style.insert(.selected) }
                    rows.append(row)
                }
                if p.nominated && !aggressive {
                    let (f, t) = localNominates ? (l, r) : (r, l)
                    var row = Ladder.Row(kind: .message, time: p.lastRequest, frame: nil, from: f, to: t, label: "check + USE-CANDIDATE",
                                         detail: s.nomination == .renomination ? "NOMINATION (renomination)" : "nominated (regular nomination)", style: [.nominated])
                    if selected { row.style.insert(.selected) }
                    rows.append(row)
                }
            }
            if s.pairs.isEmpty {
                rows.append(.init(kind: .note, time: s.start, frame: nil, from: 0, to: lanes.count - 1, label: "no candidate pairs seen", detail: s.visibility.joined(separator: "; ")))
            }
            rows += timelineRows
        }
        if let sp = s.selectedPair {
            var row = Ladder.Row(kind: .note, time: s.connectTime.map { s.start + $0 }, frame: nil, from: 0, to: lanes.count - 1,
                                 label: "selected pair: \(sp.localLabel) <-> \(sp.remoteLabel)",
                                 detail: "nomination \(s.nomination)" + (s.connectTime.map { ", connect time " + ExportSupport.seconds($0) } ?? ""),
                                 style: [.selected, .state])
            if let l = laneOf[sp.local], let r = laneOf[sp.remote] { row.from = min(l, r); row.to = max(l, r) }
            rows.append(row)
        }
        let ufrags = s.ufrags.joined(separator: " / ")
        var ladder = Ladder(session: .ice(s.id), title: "ICE session \(s.id): ufrags \(ufrags), nomination \(s.nomination)",
                            lanes: lanes, rows: rows, origin: s.start)
        cap(&ladder)
        return ladder
    }

    // MARK: - SIP call

    public static func sip(_ c: SipCallSummary, index: Int) -> Ladder {
        var lanes: [Ladder.Lane] = []
        var laneOf: [String: Int] = [:]
        for m in c.messages {
            for e in [m.src, m.dst] where laneOf[e] == nil {
                laneOf[e] = lanes.count
                lanes.append(.init(role: lanes.isEmpty ? "caller" : (lanes.count == 1 ? "callee" : "SIP"), address: e, kind: .agent))
            }
        }
        if lanes.count < 2 { lanes += Array(repeating: .init(role: "SIP", address: "?", kind: .other), count: 2 - lanes.count) }
        var rows: [Ladder.Row] = c.messages.map { m in
            Ladder.Row(kind: .message, time: m.time, frame: m.frame, from: laneOf[m.src] ?? 0, to: laneOf[m.dst] ?? 1,
                       label: m.line, detail: m.cseq.map { "CSeq " + $0 } ?? "",
                       style: m.line.hasPrefix("SIP/2.0 4") || m.line.hasPrefix("SIP/2.0 5") || m.line.hasPrefix("SIP/2.0 6") ? [.error] : [])
        }
        if let i = c.iceSession {
            rows.append(.init(kind: .note, time: nil, frame: nil, from: 0, to: lanes.count - 1, label: "ICE session \(i)",
                              detail: "\(c.signalledCandidates) candidates signalled, \(c.checkedCandidates) checked", style: [.state]))
        }
        var ladder = Ladder(session: .sip(index), title: "SIP call \(index): Call-ID \(c.callId)", lanes: lanes, rows: rows,
                            origin: c.messages.first?.time ?? 0)
        cap(&ladder)
        return ladder
    }
}
