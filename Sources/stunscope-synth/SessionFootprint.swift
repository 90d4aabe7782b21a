import NetworkVocabulary

/// What one replay of a template costs: its packets, and how long a server
/// (and an analyser) must keep it, which decides how many replays are alive
/// at once.
struct SessionFootprint {
    /// Without a sign that it ended, a session is kept this long after its
    /// last packet: ICE consent expires 30 s after the last check (RFC 7675
    /// section 5.1), and a Binding client idle that long has gone.
    static let idleHorizon: Int64 = 30_000_000_000
    /// An allocation's lifetime when the server names none (RFC 8656 section 3.2).
    static let defaultLifetime: Int64 = 600_000_000_000

    /// Packets one replay writes.
    let packets: Int
    /// From the replay's first packet until nothing of it is alive: each
    /// allocation until it is deleted (a Refresh with LIFETIME 0 answered) or
    /// expires (the last lifetime granted runs out), everything else until
    /// `idleHorizon` after the last packet.
    let aliveSpan: Int64

    init(template: TemplateCapture, rounds: Int, controlEvery: Int64?) {
        let replay = SessionReplay(id: 0, template: template, start: 0, relayBase: 0, controlEvery: controlEvery)
        var count = 0
        var last: Int64 = 0
        var allocationEnds: [FiveTuple: Int64] = [:]
        while replay.refill(rounds: rounds) {
            for due in replay.batch {
                count += 1
                last = max(last, due.time)
                let packet = template.packets[due.packet]
                guard let message = packet.payload.stunMessage, message.messageClass == .success,
                      message.method == .allocate || message.method == .refresh else { continue }
                let client = FiveTuple(source: packet.destination, destination: packet.source, transport: .udp)
                let lifetime = message.lifetime.map { Int64($0) * 1_000_000_000 } ?? Self.defaultLifetime
                allocationEnds[client] = due.time + lifetime
            }
        }
        packets = count
        aliveSpan = max(last + Self.idleHorizon, allocationEnds.values.max() ?? 0)
    }
}
