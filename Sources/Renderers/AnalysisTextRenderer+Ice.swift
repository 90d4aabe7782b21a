import Foundation
import Reconstruction

/// The ICE and SIP sections of the `analyze` text output.
extension AnalysisTextRenderer {
    private func clean(_ s: String?) -> String { TerminalText.sanitize(s ?? "") }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// One ICE session: roles, selected pair, consent, candidates with types,
    /// the check list per pair, the ladder of checks and nominations, and
    /// what the vantage point could not see.
    func iceSession(_ s: IceSessionSummary, origin: Double) -> [String] {
        var out: [String] = []
        var head = style.bold("ICE session \(s.id)") + ": ufrags \(s.ufrags.map(clean).joined(separator: " / ")), nomination \(s.nomination)"
        if let i = s.integrity { head += ", integrity \(i == .invalid ? style.red(i.rawValue) : i.rawValue)" }
        if let c = s.call { head += ", SIP call \(clean(c))" }
        out.append(head)
        out.append(String(format: "  %d check(s), %d response(s), from +%.3f s to +%.3f s", s.checks, s.responses, s.start - origin, s.end - origin)
                   + (s.transports.isEmpty ? "" : ", " + s.transports.map(\.description).joined(separator: "/").uppercased()))
        if let c = s.controllingUfrag {
            var roles = "  controlling \(clean(c))" + (s.controlling.map { " (\($0))" } ?? "")
            if let tb = s.tieBreakers[c] { roles += " tie-breaker \(tb)" }
            if let d = s.controlledUfrag {
                roles += ", controlled \(clean(d))" + (s.controlled.map { " (\($0))" } ?? "")
                if let tb = s.tieBreakers[d] { roles += " tie-breaker \(tb)" }
            }
            if s.roleSource == .inferred { roles += style.dim("  [inferred from ICE-CONTROLLED]") }
            out.append(roles)
        } else {
            out.append("  roles unknown")
        }
        for a in s.agents {
            for r in a.roleSwitches {
                out.append(style.yellow("  role switch: \(clean(a.ufrag)) \(r.from) -> \(r.to) at frame \(r.frame)") + (r.conflictFrame.map { " after 487 Role Conflict (frame \($0))" } ?? ""))
            }
        }
        if s.roleConflicts > 0, s.agents.allSatisfy({ $0.roleSwitches.isEmpty }) {
            out.append(style.yellow("  \(s.roleConflicts) 487 Role Conflict response(s), no role switch seen"))
        }
        if let p = s.selectedPair {
            var line = "  selected pair: " + style.green("\(p.localLabel) -> \(p.remoteLabel)")
            if p.viaRelay { line += " (via TURN)" }
            if let a = p.controlledLocalType, let b = p.controlledRemoteType { line += "; the controlled agent sees \(a) -> \(b)" }
            out.append(line)
            var detail: [String] = []
            if let f = p.nominationFrame { detail.append("nominated at frame \(f)") }
            if let b = p.basis { detail.append("chosen by \(b)") }
            if let c = s.connectTime { detail.append("connect time \(Self.seconds(c))") }
            if let m = s.firstMediaDelay { detail.append("first media after \(Self.seconds(m))") }
            if !detail.isEmpty { out.append("    " + detail.joined(separator: ", ")) }
        } else {
            out.append("  selected pair: " + style.yellow("not seen"))
        }
        if let c = s.consent {
            var line = "  consent freshness: \(c.checks) check(s), \(c.indications) indication(s) after nomination"
            if let i = c.interval { line += ", every \(Self.seconds(i.median)) (median)" }
            if let g = c.longestGap { line += ", longest gap \(Self.seconds(g))" + (g > 30 ? style.red(" > 30 s") : "") }
            out.append(line)
        }
        if !s.candidates.isEmpty {
            out.append("  candidates:")
            for c in s.candidates {
                var line = "    \(pad(clean(c.agent), 10)) \(pad(c.type.rawValue, 7)) \(pad(clean(c.address), 24)) \(pad(c.source.rawValue, 9)) \(c.checked ? "checked" : style.dim("not checked"))"
                if let r = c.reason { line += "  " + style.yellow("reason \(r)") }
                out.append(line)
                if c.type == .prflx || c.type == .unknown, let e = c.explanation { out.append(style.dim("      \(clean(e))")) }
            }
        }
        if !s.pairs.isEmpty {
            out.append("  check list (local = controlling side; 4-way handshake: check, response, triggered check, response):")
            let selected = s.selectedPair.map { ($0.local, $0.remote) }
            for (i, p) in s.pairs.enumerated() {
                let mark = selected.map { $0.0 == p.local && $0.1 == p.remote } == true ? "*" : " "
                let steps = p.handshake.map { $0 ? "x" : "-" }.joined()
                var line = " \(mark)\(pad(String(i + 1), 3)) \(pad("\(p.local) -> \(p.remote)", 46)) \(pad("\(p.localType)/\(p.remoteType)", 13))"
                let state: String
                switch p.state {
                case .succeeded: state = style.green(pad(p.state.rawValue, 11))
                case .failed: state = style.red(pad(p.state.rawValue, 11))
                case .waiting, .inProgress: state = pad(p.state.rawValue, 11)
                }
                line += " \(state) checks \(p.requestsSent) resp \(p.responsesReceived)"
                if p.errorResponses > 0 { line += " err \(p.errorResponses) \(p.errorCodes.map(String.init).joined(separator: ","))" }
                if p.retransmissions > 0 { line += " retx \(p.retransmissions)" }
                line += " 4-way \(steps)"
                if let r = p.rtt { line += " rtt \(Self.millis(r.median))" }
                if p.nominated { line += style.bold(" nominated") }
                if p.viaRelay { line += " via TURN" }
                if p.mediaPackets > 0 { line += " media \(p.mediaPackets)" }
                out.append(line)
                for r in p.refusals ?? [] { out.append(style.yellow("        refused: \(clean(r.explanation))")) }
            }
            if s.pairsDropped > 0 { out.append("    ... \(s.pairsDropped) check(s) on further pairs not tracked") }
        }
        if !s.timeline.isEmpty {
            out.append("  ladder:")
            for e in s.timeline.prefix(maxTimelineLines) {
                let when = String(format: "%+10.3f", e.time - origin)
                let frame = e.frame > 0 ? String(format: "#%-6d", e.frame) : "       "
                let arrow: String
                if case let .between(from, to) = e.direction {
                    arrow = "\(pad(from, 22)) -> \(pad(to, 22))"
                } else {
                    arrow = pad(e.direction.description, 48)
                }
                var event = clean(e.event)
                if e.kind.isNomination { event = style.bold(event) }
                if e.kind.isProblem || e.kind == .iceRoleSwitch { event = style.yellow(event) }
                var line = "    \(when) \(frame) \(arrow) \(event)"
                if !e.detail.isEmpty { line += "  " + clean(e.detail) }
                if let r = e.rtt { line += style.dim("  rtt \(Self.millis(r))") }
                out.append(line)
            }
            let more = s.timeline.count - min(s.timeline.count, maxTimelineLines) + s.timelineDropped
            if more > 0 { out.append("    ... \(more) more entries (use --format json for the kept ones)") }
        }
        if !s.visibility.isEmpty {
            out.append("  not visible from this vantage point:")
            for v in s.visibility { out.append(style.dim("    - \(clean(v))")) }
        }
        return out
    }

    /// One SIP call: the message ladder, offer/answer, and the tie to its ICE session.
    func sipCall(_ c: SipCallSummary, origin: Double) -> [String] {
        var out: [String] = []
        var head = style.bold("SIP call \(clean(c.callId))")
        if let s = c.state { head += ": \(s)" }
        if let t = c.transport { head += ", \(t.uppercased())" }
        if let a = c.caller, let b = c.callee { head += ", \(a) -> \(b)" }
        out.append(head)
        if c.from != nil || c.to != nil { out.append("  From \(clean(c.from)), To \(clean(c.to))") }
        for m in c.messages {
            let when = String(format: "%+10.3f", m.time - origin)
            var line = "    \(when) #\(pad(String(m.frame), 6)) \(pad(m.src, 22)) -> \(pad(m.dst, 22)) \(clean(m.line))"
            if let q = m.cseq { line += style.dim("  CSeq \(clean(q))") }
            if m.hasSdp { line += "  [SDP]" }
            out.append(line)
        }
        if c.messagesDropped > 0 { out.append("    ... \(c.messagesDropped) more message(s)") }
        for (name, sdp) in [("offer", c.offer), ("answer", c.answer)] {
            guard let s = sdp else { continue }
            var parts: [String] = []
            if let u = s.iceUfrag { parts.append("ice-ufrag \(clean(u))") }
            parts.append(s.hasIcePwd ? "ice-pwd present (not shown)" : "no ice-pwd")
            if let o = s.iceOptions { parts.append("ice-options \(clean(o))") }
            if s.iceLite { parts.append("ice-lite") }
            if let x = s.setup { parts.append("setup \(clean(x))") }
            if let x = s.connection { parts.append("c=\(clean(x))") }
            parts += s.media.map { "m=\(clean($0))" }
            parts.append("\(s.candidates.count) candidate(s)")
            out.append("  \(name)\(s.carriedIn.map { " in \(clean($0))" } ?? "")\(s.frame.map { " (frame \($0))" } ?? ""): " + parts.joined(separator: ", "))
        }
        if let i = c.iceSession {
            var line = "  ICE session \(i): \(c.signalledCandidates) candidate(s) signalled, \(c.checkedCandidates) seen in checks"
            if let p = c.selectedPair { line += "; selected \(p.localLabel) -> \(p.remoteLabel)" }
            out.append(line)
        } else if c.offer?.iceUfrag != nil || c.answer?.iceUfrag != nil {
            out.append(style.yellow("  no ICE session with these ufrags was seen"))
        }
        if !c.candidates.isEmpty {
            out.append("  signalled candidates:")
            for k in c.candidates {
                var line = "    \(pad(k.side.rawValue, 7)) \(pad(k.type.rawValue, 6)) \(pad(clean(k.address), 24)) " + (k.checked ? "checked" : style.yellow("never checked"))
                if k.selected { line += style.green(" selected") }
                out.append(line)
            }
        }
        return out
    }
}
