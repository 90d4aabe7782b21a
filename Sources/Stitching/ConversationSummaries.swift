import NetworkVocabulary

/// Packets -> conversations: both directions between two endpoints as they
/// are addressed outside every NAT (the sighting at a vantage point that is
/// no NAT's inside; a packet never seen there keeps the addresses of where it
/// was seen), so a TURN allocation's requests seen on the client's LAN and
/// its answers seen at the server are one conversation, and an ICE pair is
/// the pair of candidates as the NATs put them on the wire. Each direction
/// gets its packets, losses and per-hop delay.
struct ConversationSummaries {
    let sightings: [Sighting]
    let packets: [StitchedPacket]
    let losses: [PacketLoss?]
    let paths: PacketPathAnalysis
    let nats: [NatBehaviour]
    let names: [String]

    struct Key: Hashable {
        var transport: TransportProtocol
        var low: Endpoint
        var high: Endpoint
    }

    func build() -> [StitchDocument.Conversation] {
        var inside: [Endpoint: Endpoint] = [:]
        for nat in nats {
            for t in nat.translations { inside[t.key.outside] = t.key.inside }
        }
        let insideVantages = Set(nats.map(\.identity.insideVantage))
        var order: [Key] = []
        var directions: [Key: [FiveTuple: [Int]]] = [:]
        for (i, p) in packets.enumerated() {
            let outside = p.sightings.first { !insideVantages.contains(sightings[$0].vantage) } ?? p.sightings[0]
            let flow = sightings[outside].flow
            let key = Key(transport: flow.transport, low: min(flow.source, flow.destination), high: max(flow.source, flow.destination))
            if directions[key] == nil { order.append(key) }
            directions[key, default: [:]][flow, default: []].append(i)
        }
        let stitcher = Stitcher()
        return order.map { key in
            var carries = Set<String>()
            var relayed = Set<String>()
            var usernames = Set<String>()
            var kinds = Set<String>()
            let byDirection = directions[key]!
            for indices in byDirection.values {
                for i in indices {
                    let label = sightings[packets[i].sightings[0]].label
                    carries.insert(Stitcher.carries(label))
                    for m in [label.stun, label.carried].compactMap({ $0 }) {
                        if let r = m.relayed { relayed.insert(r.description) }
                        if m.method == "Binding", let u = m.username, usernames.count < 8 { usernames.insert(u) }
                        if ["Allocate", "Refresh", "CreatePermission", "ChannelBind"].contains(m.method) { kinds.insert("turn-allocation") }
                        if m.method == "Binding" { kinds.insert(m.username != nil ? "ice-pair" : "stun-binding") }
                    }
                    if label.sip != nil { kinds.insert("sip") }
                }
            }
            let kind = ["turn-allocation", "ice-pair", "stun-binding", "sip"].first { kinds.contains($0) } ?? "other"
            let ordered = byDirection.keys.sorted { ($0.source, $0.destination) < ($1.source, $1.destination) }
            return StitchDocument.Conversation(
                kind: kind, transport: key.transport.description, endpoints: [key.low.description, key.high.description],
                behindNat: [key.low, key.high].reduce(into: [String: String]()) { out, e in
                    if let i = inside[e] { out[e.description] = i.description }
                },
                relayed: relayed.sorted(), usernames: usernames.sorted(), carries: carries.sorted(),
                directions: ordered.map { flow in direction(flow, byDirection[flow]!, stitcher) })
        }
    }

    private func direction(_ flow: FiveTuple, _ indices: [Int], _ stitcher: Stitcher) -> StitchDocument.Direction {
        var seenAt: [String: Int] = [:]
        var firsts: [Int: Int] = [:]
        for i in indices {
            firsts[sightings[packets[i].sightings[0]].vantage, default: 0] += 1
            for s in packets[i].sightings { seenAt[names[sightings[s].vantage], default: 0] += 1 }
        }
        let sender = firsts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }!.key
        return StitchDocument.Direction(
            source: flow.source.description, destination: flow.destination.description, senderVantage: names[sender],
            packets: indices.count, lost: indices.filter { losses[$0] != nil }.count, seenAt: seenAt,
            hops: stitcher.hopSummaries(indices.map { (paths.hops(of: packets[$0]), losses[$0]) }, names: names))
    }
}
