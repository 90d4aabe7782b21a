import Stitching

/// `analyze --stitch --format mermaid`: a sequence diagram with one
/// participant per vantage point; each packet is drawn from one vantage
/// point to the next that saw it, a lost packet ends in a cross at the
/// vantage point that should have seen it.
public struct StitchMermaidRenderer {
    /// Mermaid renders slowly past a few hundred messages.
    public var maximumPackets = 500

    public init() {}

    public func render(_ doc: StitchDocument) -> String {
        var out = "sequenceDiagram\n"
        var ids: [String: String] = [:]
        for (i, v) in doc.vantages.enumerated() {
            ids[v.name] = "V\(i)"
            out += "    participant V\(i) as \(MermaidText.escape(v.name))\n"
        }
        for p in doc.packets.prefix(maximumPackets) {
            let label = MermaidText.escape(p.summary)
            let lanes = p.sightings.map { ids[$0.vantage] ?? "V0" }
            for (a, b) in zip(lanes, lanes.dropFirst()) where a != b { out += "    \(a)->>\(b): \(label)\n" }
            if let lost = p.lost, let from = ids[lost.lastSeenAt], let to = ids[lost.expectedAt] {
                out += "    \(from)-x\(to): \(label) (lost)\n"
            } else if lanes.count == 1 {
                out += "    Note over \(lanes[0]): \(label)\n"
            }
        }
        if doc.packets.count > maximumPackets {
            out += "    Note over V0: \(doc.packets.count - maximumPackets) more packets not drawn\n"
        }
        return out
    }
}
