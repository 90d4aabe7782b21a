import Foundation

/// Draws a `Ladder` as an inline SVG sequence diagram (`<svg class="ladder"
/// data-session="...">`): lane headers, dashed lifelines, one arrow per
/// message with its relative time and frame, counted bands for repeated relay
/// data, notes for state changes, dotted hops inside the TURN server, step
/// badges for the relay exchange, and dots where a NAT translates.
public struct LadderSVG {
    public var ladder: Ladder
    /// Unique per document (marker ids must not collide between diagrams).
    public var idPrefix: String

    /// Column width: wider when there are few columns, so labels fit.
    public var laneWidth: Double

    public init(ladder: Ladder, idPrefix: String) {
        self.ladder = ladder
        self.idPrefix = idPrefix
        laneWidth = max(196, min(300, 1020 / Double(max(ladder.lanes.count, 1))))
    }

    static let left = 124.0
    static let headerHeight = 60.0

    var width: Double { Self.left + laneWidth * Double(max(ladder.lanes.count, 1)) + 16 }

    func x(_ lane: Int) -> Double { Self.left + laneWidth * Double(lane) + laneWidth / 2 }

    /// A text of `chars` characters (`perChar` px each) centred near `mid`,
    /// kept inside the drawing area: the x to anchor it at and the characters that fit.
    func place(_ text: String, mid: Double, span: Double, perChar: Double) -> (x: Double, text: String) {
        let room = width - Self.left - 8
        let maxChars = Int(min(max(span, laneWidth * 2.6), room) / perChar)
        let fitted = Self.fit(text, maxChars)
        let w = Double(fitted.count) * perChar
        let lo = Self.left + 4 + w / 2, hi = width - 8 - w / 2
        return (lo > hi ? (Self.left + width) / 2 : min(max(mid, lo), hi), fitted)
    }

    static func height(_ kind: Ladder.RowKind) -> Double {
        switch kind {
        case .message: return 40
        case .band: return 48
        case .note: return 34
        case .hop: return 24
        }
    }

    private func e(_ s: String) -> String { HTMLText.escape(s) }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Truncates to `max` characters with an ellipsis.
    static func fit(_ s: String, _ max: Int) -> String {
        guard max > 1, s.count > max else { return s }
        return String(s.prefix(max - 1)) + "…"
    }

    func marker(_ style: Set<Ladder.Style>) -> String {
        if style.contains(.notSeen) { return "grey" }
        if style.contains(.nominated) { return "ok" }
        if style.contains(.error) { return "err" }
        if style.contains(.relay) { return "relay" }
        return "dark"
    }

    public func render() -> String {
        let lanes = ladder.lanes
        let bodyHeight = ladder.rows.reduce(0) { $0 + Self.height($1.kind) } + (ladder.omitted > 0 ? 30 : 0)
        let height = Self.headerHeight + 12 + bodyHeight + 16
        var s: [String] = []
        s.append("<svg class=\"ladder\" data-session=\"\(e(ladder.session?.description ?? "stitch"))\" data-rows=\"\(ladder.rows.count)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.fmt(width))\" height=\"\(Self.fmt(height))\" viewBox=\"0 0 \(Self.fmt(width)) \(Self.fmt(height))\" role=\"img\" aria-label=\"\(e(ladder.title))\">")
        s.append("<title>\(e(ladder.title))</title>")
        s.append("<defs>")
        for (name, color) in [("dark", "#2b3445"), ("relay", "#1f6fb2"), ("err", "#b42318"), ("ok", "#067647"), ("grey", "#a7adb8")] {
            s.append("<marker id=\"\(idPrefix)-\(name)\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"\(color)\"/></marker>")
        }
        s.append("</defs>")
        // Lane headers and lifelines.
        for (i, lane) in lanes.enumerated() {
            let cx = x(i)
            s.append("<g class=\"lane-head k-\(lane.kind.rawValue)\"><title>\(e(lane.role + " " + lane.address))</title>")
            s.append("<rect x=\"\(Self.fmt(cx - laneWidth / 2 + 6))\" y=\"6\" width=\"\(Self.fmt(laneWidth - 12))\" height=\"46\" rx=\"5\"/>")
            s.append("<text class=\"role\" x=\"\(Self.fmt(cx))\" y=\"25\" text-anchor=\"middle\">\(e(Self.fit(lane.role, 26)))</text>")
            s.append("<text class=\"addr\" x=\"\(Self.fmt(cx))\" y=\"42\" text-anchor=\"middle\">\(e(Self.fit(lane.address, 27)))</text></g>")
            s.append("<line class=\"lifeline\" x1=\"\(Self.fmt(cx))\" y1=\"52\" x2=\"\(Self.fmt(cx))\" y2=\"\(Self.fmt(height - 8))\"/>")
        }
        var y = Self.headerHeight + 12
        for row in ladder.rows {
            s.append(draw(row, top: y))
            y += Self.height(row.kind)
        }
        if ladder.omitted > 0 {
            s.append("<text class=\"omitted\" x=\"\(Self.fmt(Self.left))\" y=\"\(Self.fmt(y + 18))\">… \(ladder.omitted) more timeline entries not drawn</text>")
        }
        s.append("</svg>")
        return s.joined(separator: "\n")
    }

    func draw(_ row: Ladder.Row, top: Double) -> String {
        let classes = ([row.kind.rawValue] + row.style.map(\.rawValue).sorted()).joined(separator: " ")
        var tip: [String] = []
        if let t = row.time { tip.append(ExportSupport.isoTime(t) + " (+" + ExportSupport.seconds(t - ladder.origin) + ")") }
        if let f = row.frame { tip.append("frame \(f)") }
        if let c = row.count { tip.append("\(c) frames") }
        tip.append(row.label)
        if !row.detail.isEmpty { tip.append(row.detail) }
        var g: [String] = []
        g.append("<g class=\"row \(classes)\"\(row.frame.map { " data-frame=\"\($0)\"" } ?? "")\(row.step.map { " data-step=\"\(e($0))\"" } ?? "")><title>\(e(tip.joined(separator: " · ")))</title>")
        let x1 = x(row.from), x2 = x(row.to)
        let h = Self.height(row.kind)
        switch row.kind {
        case .note:
            // The note covers its columns, widened (within the drawing) to fit its text.
            var lo = min(x1, x2) - laneWidth / 2 + 10, hi = max(x1, x2) + laneWidth / 2 - 10
            let text = row.detail.isEmpty ? row.label : row.label + " — " + row.detail
            let minLo = Self.left + 2, maxHi = width - 10
            let fitted = Self.fit(text, Int((maxHi - minLo - 16) / 6.6))
            let need = Double(fitted.count) * 6.6 + 16
            if hi - lo < need {
                let grow = (need - (hi - lo)) / 2
                lo -= grow; hi += grow
                if lo < minLo { hi += minLo - lo; lo = minLo }
                if hi > maxHi { lo -= hi - maxHi; hi = maxHi }
                lo = max(lo, minLo)
            }
            g.append("<rect x=\"\(Self.fmt(lo))\" y=\"\(Self.fmt(top + 4))\" width=\"\(Self.fmt(hi - lo))\" height=\"\(Self.fmt(h - 8))\" rx=\"4\"/>")
            g.append("<text class=\"label\" x=\"\(Self.fmt((lo + hi) / 2))\" y=\"\(Self.fmt(top + h / 2 + 4))\" text-anchor=\"middle\">\(e(Self.fit(fitted, Int((hi - lo - 8) / 6.6))))</text>")
            g.append(timeText(row, y: top + h / 2 + 4))
        case .message, .band, .hop:
            let ya = top + (row.kind == .hop ? 14 : 24)
            let dir: Double = x2 >= x1 ? 1 : -1
            let span = max(abs(x2 - x1), laneWidth)
            if row.kind == .band {
                let lo = min(x1, x2), hi = max(x1, x2)
                g.append("<rect class=\"bar\" x=\"\(Self.fmt(lo))\" y=\"\(Self.fmt(ya - 7))\" width=\"\(Self.fmt(max(hi - lo, 4)))\" height=\"14\" rx=\"3\"/>")
            }
            if x1 == x2 {
                // Same column: a small loop back to the lifeline.
                g.append("<path class=\"arrow\" d=\"M\(Self.fmt(x1)),\(Self.fmt(ya - 8)) h30 v16 h-28\" fill=\"none\" stroke=\"#2b3445\" marker-end=\"url(#\(idPrefix)-\(marker(row.style)))\"/>")
            } else {
                g.append("<line class=\"arrow\" x1=\"\(Self.fmt(x1 + dir * 2))\" y1=\"\(Self.fmt(ya))\" x2=\"\(Self.fmt(x2 - dir * 2))\" y2=\"\(Self.fmt(ya))\" marker-end=\"url(#\(idPrefix)-\(marker(row.style)))\"/>")
            }
            for v in row.via {
                g.append("<circle class=\"nat-dot\" cx=\"\(Self.fmt(x(v)))\" cy=\"\(Self.fmt(ya))\" r=\"4\"><title>the NAT translates this address</title></circle>")
            }
            var label = row.label
            if row.kind == .band, let c = row.count { label = "×\(c) " + label }
            let mid = (x1 + x2) / 2 + (x1 == x2 ? 60 : 0)
            let top = place(row.kind == .hop ? label + " " + row.detail : label, mid: mid, span: span, perChar: 7.2)
            g.append("<text class=\"label\" x=\"\(Self.fmt(top.x))\" y=\"\(Self.fmt(ya - (row.kind == .hop ? 4 : row.kind == .band ? 10 : 6)))\" text-anchor=\"middle\">\(e(top.text))</text>")
            if row.kind != .hop && !row.detail.isEmpty {
                let below = place(row.detail, mid: mid, span: span, perChar: 6.2)
                g.append("<text class=\"detail\" x=\"\(Self.fmt(below.x))\" y=\"\(Self.fmt(ya + (row.kind == .band ? 19 : 16)))\" text-anchor=\"middle\">\(e(below.text))</text>")
            }
            if let step = row.step {
                let w = 8 + 5.5 * Double(step.count)
                let sx = x1 + dir * (w / 2 + 6)
                g.append("<g class=\"step\"><rect x=\"\(Self.fmt(sx - w / 2))\" y=\"\(Self.fmt(ya - 7))\" width=\"\(Self.fmt(w))\" height=\"14\" rx=\"7\"/><text x=\"\(Self.fmt(sx))\" y=\"\(Self.fmt(ya + 3))\" text-anchor=\"middle\">\(e(step))</text></g>")
            }
            g.append(timeText(row, y: ya))
        }
        g.append("</g>")
        return g.joined()
    }

    func timeText(_ row: Ladder.Row, y: Double) -> String {
        var parts: [String] = []
        if let t = row.time {
            parts.append("<tspan x=\"6\" y=\"\(Self.fmt(y - 2))\">+\(e(String(format: "%.3f", t - ladder.origin))) s</tspan>")
        }
        if let f = row.frame {
            parts.append("<tspan x=\"6\" y=\"\(Self.fmt(y + 11))\">frame \(f)</tspan>")
        }
        guard !parts.isEmpty else { return "" }
        return "<text class=\"time\">" + parts.joined() + "</text>"
    }
}
