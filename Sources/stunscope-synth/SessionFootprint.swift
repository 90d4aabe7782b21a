import NetworkVocabulary
import StunWire

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
        var dues: [SessionReplay.Due] = []
        while replay.refill(rounds: rounds) { dues += replay.batch }
        packets = dues.count
        aliveSpan = max((dues.map(\.time).max() ?? 0) + Self.idleHorizon, Self.lastAllocationEnd(template, dues))
    }

    /// When the last allocation is deleted or expires, in the replay's time (0 without one).
    private static func lastAllocationEnd(_ template: TemplateCapture, _ dues: [SessionReplay.Due]) -> Int64 {
        var ends: [FiveTuple: Int64] = [:]
        for due in dues {
            let packet = template.packets[due.packet]
            guard let message = packet.payload.stunMessage, message.messageClass == .success,
                  message.method == .allocate || message.method == .refresh else { continue }
            let client = FiveTuple(source: packet.destination, destination: packet.source, transport: .udp)
            ends[client] = due.time + lifetime(granted: message)
        }
        return ends.values.max() ?? 0
    }

    /// The LIFETIME a success response grants, in nanoseconds.
    private static func lifetime(granted message: StunMessage) -> Int64 {
        for attribute in message.attributes where attribute.type == .lifetime {
            if case let .unsigned(seconds) = attribute.value { return Int64(truncatingIfNeeded: seconds) * 1_000_000_000 }
        }
        return defaultLifetime
    }
}
