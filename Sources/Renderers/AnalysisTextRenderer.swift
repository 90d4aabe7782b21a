import Foundation
import Reconstruction

/// The `analyze` text output: a summary, the findings, then a timeline per
/// session, readable in an 100-column terminal.
public struct AnalysisTextRenderer {
    public var style: TerminalStyle
    /// Timeline lines per session before the rest is summarised.
    public var maxTimelineLines = 200

    public init(style: TerminalStyle, maxTimelineLines: Int = 200) {
        self.style = style
        self.maxTimelineLines = maxTimelineLines
    }

    private func safe(_ s: String?) -> String { TerminalText.sanitize(s ?? "") }

    static func seconds(_ v: Double) -> String { String(format: "%.3f s", v) }
    static func millis(_ v: Double) -> String { String(format: "%.1f ms", v * 1000) }

    public func render(_ doc: AnalysisDocument) -> String {
        var out: [String] = []
        let s = doc.stats
        let files = doc.captures.map { safe($0.file) }.joined(separator: ", ")
        var head = "StunScope analysis of \(files): \(s.packets) packets"
        if let f = s.firstTime, let l = s.lastTime { head += String(format: ", %.3f s", l - f) }
        out.append(style.bold(head))
        out.append("STUN messages \(s.stunMessages) (classic \(s.classicStunMessages), nested \(s.nestedMessages)), ChannelData \(s.channelDataFrames), malformed \(s.malformed), ICMP errors \(s.icmpErrors)")
        out.append("Transactions \(s.transactions): \(s.unansweredTransactions) unanswered, \(s.retransmissions) retransmissions")
        out.append("Sessions: \(doc.allocations.count) allocation(s), \(doc.bindings.count) binding session(s), \(doc.iceSessions.count) ICE session(s), \(doc.sipCalls.count) SIP call(s)")
        if s.evicted.total > 0 { out.append(style.yellow("State evicted to stay within memory bounds: \(s.evicted.total) items (see findings)")) }
        out.append("")
        out.append(style.bold("Findings (\(doc.findings.count))"))
        if doc.findings.isEmpty { out.append("  none") }
        for f in doc.findings {
            let sev: String
            switch f.severity {
            case .error: sev = style.red("ERROR  ")
            case .warning: sev = style.yellow("WARNING")
            case .info: sev = style.cyan("INFO   ")
            }
            let frames = f.frames.isEmpty ? "" : style.dim(" [frames " + f.frames.prefix(10).map(String.init).joined(separator: ", ") + (f.frames.count > 10 ? ", ..." : "") + "]")
            out.append("  \(sev) \(f.code.rawValue): \(safe(f.message.description))\(frames)")
        }
        for a in doc.allocations { out.append(""); out += allocation(a, origin: s.firstTime ?? a.start) }
        if !doc.bindings.isEmpty {
            out.append("")
            out.append(style.bold("Binding sessions (\(doc.bindings.count))"))
            for b in doc.bindings { out += binding(b) }
        }
        if !doc.natMappings.isEmpty {
            out.append("")
            out.append(style.bold("NAT mappings"))
            for n in doc.natMappings {
                out.append("  \(n.local): mapping \(n.mappingBehavior)\(n.filteringBehavior.map { ", filtering \($0)" } ?? "")")
                out.append("    \(safe(n.explanation))")
            }
        }
        for i in doc.iceSessions { out.append(""); out += iceSession(i, origin: s.firstTime ?? i.start) }
        for c in doc.sipCalls { out.append(""); out += sipCall(c, origin: s.firstTime ?? c.messages.first?.time ?? 0) }
        let unanswered = doc.transactions.filter { $0.state == .unanswered || $0.state == .timedOut }
        if !unanswered.isEmpty {
            out.append("")
            out.append(style.bold("Unanswered requests (\(unanswered.count))"))
            for t in unanswered.prefix(50) {
                out.append("  \(t.method) \(t.client) -> \(t.server) id \(t.transactionId): \(t.requestFrames.count) send(s), last at frame \(t.requestFrames.last ?? 0) (\(t.state))")
            }
            if unanswered.count > 50 { out.append("  ... \(unanswered.count - 50) more") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    func allocation(_ a: TurnAllocationSummary, origin: Double) -> [String] {
        var out: [String] = []
        let outcome: String
        switch a.outcome {
        case .failed: outcome = style.red("failed")
        case .expired: outcome = style.yellow("expired")
        case .active: outcome = style.green("active")
        default: outcome = a.outcome.rawValue
        }
        out.append(style.bold("Allocation \(a.id)") + " \(a.transport.description.uppercased()) \(a.client) -> \(a.server): \(outcome)")
        var facts: [String] = []
        if !a.relayed.isEmpty { facts.append("relayed \(a.relayed.joined(separator: ", "))") }
        if let m = a.mapped { facts.append("mapped \(m)") }
        if let u = a.username { facts.append("user \(safe(u))") }
        if let r = a.realm { facts.append("realm \(safe(r))") }
        if let s = a.software { facts.append("software \(safe(s))") }
        if !facts.isEmpty { out.append("  " + facts.joined(separator: ", ")) }
        var life = "  lifetime granted: Allocate \((a.allocateLifetime ?? a.lifetime).map { "\($0) s" } ?? "-")"
        if !a.refreshes.isEmpty { life += ", Refresh " + a.refreshes.map { $0 == 0 ? "0 (delete)" : "\($0) s" }.joined(separator: ", ") }
        life += String(format: "; from +%.3f s", a.start - origin)
        if a.outcome == .active {
            life += String(format: ", still active at the end of the capture (+%.3f s)", a.end - origin)
            if let left = a.remainingAtCaptureEnd { life += String(format: " with %.0f s of lifetime left", left) }
        } else {
            life += String(format: " to +%.3f s (%@)", a.end - origin, a.outcome.rawValue)
        }
        if let e = a.finalError { life += ", final error \(e.code) \(safe(e.reason))" }
        out.append(life)
        if !a.errors.isEmpty {
            out.append("  errors: " + a.errors.map { "\($0.code) x\($0.count) (\($0.meaning))" }.joined(separator: "; "))
        }
        if !a.permissions.isEmpty {
            out.append("  permissions: " + a.permissions.map { "\($0.peer)\($0.implicit ? " (via ChannelBind)" : "")\($0.refreshes > 0 ? ", \($0.refreshes) refresh(es)" : "")\($0.expired ? ", expired" : "")" }.joined(separator: "; "))
        }
        if !a.channels.isEmpty {
            out.append("  channels: " + a.channels.map { String(format: "0x%04x", $0.number) + " <-> \($0.peer)\($0.refreshes > 0 ? " (\($0.refreshes) re-bind)" : "")" }.joined(separator: "; "))
        }
        let t = a.traffic
        out.append("  relay: Send \(t.sendIndications), Data \(t.dataIndications), ChannelData to server \(t.channelDataToServer) / from server \(t.channelDataFromServer), peer leg to peer \(t.peerLegToPeer) / from peer \(t.peerLegFromPeer)")
        for p in a.peers {
            var line = "  peer \(p.peer): \(p.bytesToPeer) bytes to, \(p.bytesFromPeer) bytes from"
            if let d = p.forwardingDelayToPeer { line += ", forwarding to peer median \(Self.millis(d.median)) p95 \(Self.millis(d.p95)) max \(Self.millis(d.max))" }
            if let d = p.forwardingDelayFromPeer { line += ", from peer median \(Self.millis(d.median)) p95 \(Self.millis(d.p95)) max \(Self.millis(d.max))" }
            if p.neverForwardedToPeer + p.neverForwardedFromPeer > 0 { line += ", never forwarded \(p.neverForwardedToPeer)/\(p.neverForwardedFromPeer)" }
            out.append(line)
        }
        for c in a.tcpConnections {
            out.append("  TCP relay connection to \(c.peer) (\(c.initiatedBy)): connection-id \(c.connectionId.map(String.init) ?? "-"), \(c.outcome)\(c.dataConnection.map { ", data connection \($0)" } ?? "")")
        }
        out.append("  timeline:")
        out += timeline(a.timeline, origin: origin, client: a.client, server: a.server)
        return out
    }

    func timeline(_ entries: [TimelineEntry], origin: Double, client: String, server: String) -> [String] {
        var out: [String] = []
        for e in entries.prefix(maxTimelineLines) {
            let when = String(format: "%+10.3f", e.time - origin)
            let frame = e.frame > 0 ? String(format: "#%-6d", e.frame) : "       "
            let arrow: String
            switch e.direction {
            case .clientToServer: arrow = "client  -> server "
            case .serverToClient: arrow = "client <-  server "
            case .relayToPeer: arrow = "relay   -> peer   "
            case .peerToRelay: arrow = "relay  <-  peer   "
            case .state, .between: arrow = "        *         "
            }
            var line = "    \(when) \(frame) \(arrow) \(e.direction == .state ? style.bold(safe(e.event)) : safe(e.event))"
            if !e.detail.isEmpty { line += "  " + safe(e.detail) }
            if let r = e.rtt { line += style.dim("  rtt \(Self.millis(r))") }
            out.append(line)
        }
        if entries.count > maxTimelineLines { out.append("    ... \(entries.count - maxTimelineLines) more entries (use --format json for all)") }
        return out
    }

    func binding(_ b: BindingSessionSummary) -> [String] {
        var line = "  #\(b.id) \(b.transport.description.uppercased()) \(b.client) -> \(b.server)\(b.classic ? " (classic RFC 3489)" : ""): \(b.requests) request(s), \(b.responses) response(s)"
        if b.errorResponses > 0 { line += ", \(b.errorResponses) error(s)" }
        if b.indications > 0 { line += ", \(b.indications) indication(s)" }
        if b.retransmissions > 0 { line += ", \(b.retransmissions) retransmission(s)" }
        var out = [line]
        if !b.reflexive.isEmpty { out.append("     reflexive \(b.reflexive.joined(separator: ", "))") }
        var extra: [String] = []
        if let r = b.rtt { extra.append("rtt median \(Self.millis(r.median)), max \(Self.millis(r.max))") }
        if let k = b.keepaliveInterval { extra.append("keepalive every \(Self.seconds(k.median)) (longest gap \(Self.seconds(k.max)))") }
        if let o = b.otherAddress { extra.append("OTHER-ADDRESS \(o)") }
        if let o = b.responseOrigin { extra.append("RESPONSE-ORIGIN \(o)") }
        if let c = b.changedAddress { extra.append("CHANGED-ADDRESS \(c)") }
        if let s = b.software { extra.append("software \(safe(s))") }
        if !extra.isEmpty { out.append("     " + extra.joined(separator: ", ")) }
        for t in b.natTests {
            let answer = t.answered
                ? "answered" + (t.answerFrame.map { " at frame \($0)" } ?? "") + (t.answeredFrom.map { " from \($0)" } ?? "")
                    + (t.responseOrigin.map { " (RESPONSE-ORIGIN \($0))" } ?? "")
                : "no answer seen"
            let port = t.responsePort.map { ", RESPONSE-PORT \($0)" } ?? ""
            out.append("     NAT test frame \(t.frame): change \(t.changeIP ? "IP" : "")\(t.changeIP && t.changePort ? "+" : "")\(t.changePort ? "port" : "")\(!t.changeIP && !t.changePort ? "nothing" : "")\(port) -> \(answer)")
        }
        return out
    }
}
