import Foundation
import Reconstruction

/// `export --format mermaid`: Markdown with one fenced ```` ```mermaid ````
/// `sequenceDiagram` per session (GitHub, GitLab and most wikis render them).
/// Participants get safe aliases (`P0`, `P1`, ...); every label goes through
/// `MermaidText.escape`.
public struct MermaidExportRenderer {
    public init() {}

    public func render(_ captures: [ExportCapture]) -> String {
        var out: [String] = ["# StunScope sessions", ""]
        for c in captures {
            let doc = c.document
            out.append("## " + MermaidText.markdown(c.file))
            out.append("")
            let s = doc.stats
            out.append("\(s.packets) packets, \(s.stunMessages) STUN messages, \(s.channelDataFrames) ChannelData; \(doc.allocations.count) allocation(s), \(doc.bindings.count) binding session(s), \(doc.iceSessions.count) ICE session(s), \(doc.sipCalls.count) SIP call(s), \(doc.findings.count) finding(s).")
            out.append("")
            if !doc.findings.isEmpty {
                for f in doc.findings {
                    out.append("- **\(f.severity.rawValue)** `\(MermaidText.code(f.code.rawValue))`: \(MermaidText.markdown(f.message.description))" + (f.session.map { " (\(MermaidText.markdown($0.description)))" } ?? ""))
                }
                out.append("")
            }
            for l in LadderBuilder.ladders(doc) {
                out.append("### " + MermaidText.markdown(l.title))
                out.append("")
                out.append(diagram(l))
                out.append("")
            }
        }
        return out.joined(separator: "\n")
    }

    public func diagram(_ l: Ladder) -> String {
        var d: [String] = ["```mermaid", "sequenceDiagram"]
        for (i, lane) in l.lanes.enumerated() {
            d.append("    participant P\(i) as " + MermaidText.escape(lane.role + " " + lane.address))
        }
        for row in l.rows {
            var text = row.label
            if row.kind == .band, let c = row.count { text = "×\(c) " + text }
            if let st = row.step { text = "(\(st)) " + text }
            if !row.detail.isEmpty { text += " · " + row.detail }
            var prefix: [String] = []
            if let t = row.time { prefix.append(String(format: "+%.3fs", t - l.origin)) }
            if let f = row.frame { prefix.append("frame \(f)") }
            if !prefix.isEmpty { text = "[" + prefix.joined(separator: " ") + "] " + text }
            if row.style.contains(.nominated) { text = "★ " + text }
            let label = MermaidText.escape(text, limit: 160)
            switch row.kind {
            case .note:
                let lo = min(row.from, row.to), hi = max(row.from, row.to)
                d.append("    Note over " + (lo == hi ? "P\(lo)" : "P\(lo),P\(hi)") + ": " + label)
            case .message, .band, .hop:
                let dotted = row.kind == .hop || row.style.contains(.notSeen)
                let arrow = row.style.contains(.error) ? (dotted ? "--x" : "-x") : (dotted ? "-->>" : "->>")
                d.append("    P\(row.from)\(arrow)P\(row.to): " + label)
            }
        }
        if l.omitted > 0 {
            d.append("    Note over P0: " + MermaidText.escape("\(l.omitted) more timeline entries not drawn"))
        }
        if l.rows.isEmpty { d.append("    Note over P0: no messages") }
        d.append("```")
        return d.joined(separator: "\n")
    }
}

/// Escaping for Mermaid labels and the Markdown around the diagrams.
public enum MermaidText {
    /// A label or participant alias: characters Mermaid's sequence grammar or
    /// its HTML rendering reads (`; # < > & " ' \` % { } |`, and so `-->`,
    /// `<br>`, comments and entity codes from packets) become Mermaid entity
    /// codes (`#59;`, `#35;`, `#lt;`, ...); control characters, line breaks and
    /// bidi overrides become spaces. The result is one line.
    public static func escape(_ s: String, limit: Int = 200) -> String {
        var out = ""
        var n = 0
        for u in s.unicodeScalars {
            if n >= limit { out += "…"; break }
            n += 1
            switch u {
            case ";": out += "#59;"
            case "#": out += "#35;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "&": out += "#amp;"
            case "\"": out += "#quot;"
            case "'": out += "#39;"
            case "`": out += "#96;"
            case "%": out += "#37;"
            case "{": out += "#123;"
            case "}": out += "#125;"
            case "|": out += "#124;"
            case ":": out += "#58;"
            case "\\": out += "#92;"
            default:
                if TerminalText.isUnsafe(u) || u == "\u{2028}" || u == "\u{2029}" || u == "\u{85}" {
                    out += " "
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Text for Markdown prose outside the diagrams: one line, HTML and
    /// Markdown punctuation backslash-escaped.
    public static func markdown(_ s: String) -> String {
        var out = ""
        for u in TerminalText.sanitize(s).unicodeScalars {
            switch u {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\", "`", "*", "_", "[", "]", "#", "|", "!", "~": out += "\\" + String(u)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Text inside a Markdown code span.
    public static func code(_ s: String) -> String {
        TerminalText.sanitize(s).replacingOccurrences(of: "`", with: "'")
    }
}
