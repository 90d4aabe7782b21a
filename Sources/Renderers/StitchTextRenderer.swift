import Stitching

/// `analyze --stitch` as text: vantage points and clocks, NATs with their
/// translations, hops with delay and loss, flows, retransmitted transactions,
/// then a timeline with one lane per vantage point.
public struct StitchTextRenderer {
    public var style: TerminalStyle

    public init(style: TerminalStyle = TerminalStyle(enabled: false)) { self.style = style }

    public func render(_ doc: StitchDocument) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        let names = doc.vantages.map { TerminalText.sanitize($0.name) }
        let width = max(8, names.map(\.count).max() ?? 0)
        line(style.bold("Stitched: \(doc.vantages.count) vantage points, \(doc.packets.count) packets (times on \(TerminalText.sanitize(doc.reference))'s clock)"))
        for (v, name) in zip(doc.vantages, names) {
            var clock: String
            if v.name == doc.reference {
                clock = "clock reference"
            } else if let o = v.clockOffset, let u = v.uncertainty {
                clock = "clock \(signed(o)) s ± \(fixed(u)) s from \(v.clockTransactions) request/answer pairs"
                if let against = v.clockMeasuredAgainst, against != doc.reference { clock += " (through \(TerminalText.sanitize(against)))" }
                if v.clockInconsistent { clock += ", pairs disagree" }
            } else {
                clock = v.linked ? "clock not measured (no request/answer pair shared)" : "shares nothing: not stitched"
            }
            line("  \(pad(name, width))  \(TerminalText.sanitize(v.file))  \(v.sightings) packets, \(v.sharedSightings) seen elsewhere too; \(clock)")
        }
        for note in doc.notes { line(style.yellow("  note: ") + TerminalText.sanitize(note)) }

        if !doc.nats.isEmpty {
            line()
            line(style.bold("NATs"))
            for nat in doc.nats {
                line("  \(nat.outsideAddress) between \(TerminalText.sanitize(nat.insideVantage)) (inside) and \(nat.outsideVantages.map(TerminalText.sanitize).joined(separator: ", ")) (outside)")
                line("    mapping: \(nat.mapping)\(nat.portPreserving ? ", port-preserving" : "") — \(nat.mappingEvidence)")
                line("    filtering: \(nat.filtering) — \(nat.filteringEvidence)")
                if nat.packetsDropped > 0 { line("    dropped: \(nat.packetsDropped) packets reached its outside and never its inside") }
                for t in doc.natTranslations where t.nat == nat.outsideAddress && t.insideVantage == nat.insideVantage {
                    line("    \(t.transport) \(t.inside) -> \(t.outside) towards \(t.destination)  (\(t.outboundPackets) out, \(t.inboundPackets) in)")
                }
            }
        }

        if !doc.hops.isEmpty {
            line()
            line(style.bold("Hops"))
            for h in doc.hops {
                var s = "  \(pad(TerminalText.sanitize(h.from), width)) -> \(pad(TerminalText.sanitize(h.to), width))  \(h.packets) packets"
                if let d = h.delay { s += ", delay min \(milliseconds(d.minMs)) / median \(milliseconds(d.medianMs)) / max \(milliseconds(d.maxMs)) ms" }
                if h.lost > 0 { s += ", " + style.red("\(h.lost) lost") }
                line(s)
            }
        }

        if !doc.conversations.isEmpty {
            line()
            line(style.bold("Conversations") + " (addresses as on the wire outside the NATs)")
            for c in doc.conversations {
                let ends = c.endpoints.map { e in c.behindNat[e].map { "\(e) (\($0) behind its NAT)" } ?? e }
                var head = "  \(c.kind) \(c.transport) \(ends.joined(separator: " <-> "))"
                if !c.relayed.isEmpty { head += ", relayed \(c.relayed.joined(separator: ", "))" }
                if !c.usernames.isEmpty { head += ", USERNAME \(c.usernames.map(TerminalText.sanitize).joined(separator: ", "))" }
                line(head + "  [\(c.carries.joined(separator: ", "))]")
                for d in c.directions {
                    var s = "    \(d.source) -> \(d.destination): \(d.packets) packets from \(TerminalText.sanitize(d.senderVantage))"
                    let hops = d.hops.filter { $0.packets > 0 }.map { h in
                        "\(TerminalText.sanitize(h.from))->\(TerminalText.sanitize(h.to)) \(h.packets)" + (h.delay.map { " (median \(milliseconds($0.medianMs)) ms)" } ?? "")
                    }
                    if !hops.isEmpty { s += "; " + hops.joined(separator: ", ") }
                    if d.lost > 0 { s += ", " + style.red("\(d.lost) lost") }
                    line(s)
                }
            }
        }

        let retransmitted = doc.transactions.filter { $0.retransmissions > 0 }
        if !retransmitted.isEmpty {
            line()
            line(style.bold("Retransmitted transactions (each copy counted once, wherever it was seen)"))
            for t in retransmitted {
                line("  \(t.method) \(t.transactionId): \(t.requests) requests, \(t.answers) answers")
            }
        }

        line()
        line(style.bold("Timeline") + " (frame per vantage point; · not seen, ✗ lost before it)")
        let lanes = doc.vantages.map(\.name)
        let laneWidth = names.map { max(7, $0.count) }
        line("  " + pad("time", 12) + "  " + zip(names, laneWidth).map { pad($0, $1) }.joined(separator: " ") + "  packet")
        let start = doc.packets.first?.sightings.first?.time ?? 0
        for p in doc.packets {
            let first = p.sightings[0]
            var cells: [String] = []
            for (lane, w) in zip(lanes, laneWidth) {
                if let s = p.sightings.first(where: { $0.vantage == lane }) {
                    cells.append(pad("#\(s.frame)", w))
                } else if p.lost?.expectedAt == lane {
                    cells.append(pad("✗", w))
                } else {
                    cells.append(pad("·", w))
                }
            }
            var s = "  " + pad(fixed(first.time - start), 12) + "  " + cells.joined(separator: " ") + "  \(TerminalText.sanitize(p.summary))  \(first.source) -> \(first.destination)"
            if let lost = p.lost {
                s += style.red("  lost between \(TerminalText.sanitize(lost.lastSeenAt)) and \(TerminalText.sanitize(lost.expectedAt))" + (lost.nat.map { " (NAT \($0))" } ?? ""))
            }
            line(s)
        }
        return out
    }

    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }

    func fixed(_ v: Double) -> String {
        let micro = (v * 1_000_000).rounded()
        guard micro.magnitude < 9e18 else { return "\(v)" }  // hostile timestamps: no trap converting to Int64
        let negative = micro < 0
        let m = Int64(abs(micro))
        let frac = String(m % 1_000_000)
        return (negative ? "-" : "") + "\(m / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    /// Three decimals: microseconds.
    func milliseconds(_ v: Double) -> String {
        let s = fixed(v / 1000)  // seconds with six decimals == milliseconds with three, shifted
        let negative = s.hasPrefix("-")
        let digits = Array(negative ? s.dropFirst() : Substring(s)).filter { $0 != "." }
        let whole = String(digits.dropLast(3)).drop { $0 == "0" }
        return (negative ? "-" : "") + (whole.isEmpty ? "0" : String(whole)) + "." + String(digits.suffix(3))
    }

    func signed(_ v: Double) -> String { v < 0 ? fixed(v) : "+" + fixed(v) }
}
