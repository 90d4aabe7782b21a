/// The generator's clock.
enum ReplayTiming {
    /// Output time 0: 2025-01-01T00:00:00Z.
    static let baseTime: Int64 = 1_735_689_600 * 1_000_000_000
    /// 20 ms between relay rounds.
    static let roundGap: Int64 = 20_000_000
    /// A round's relay packets fit in 0.5 s: longer relay phases are compressed.
    static let maxRoundSpan: Int64 = 500_000_000
    /// One in-session control exchange per this much relay-phase time, unless told otherwise.
    static let controlEvery: Int64 = 10_000_000_000
}

/// One replay of a template: a session with its own addresses, relay ports,
/// ids and start time. Its packets go out in batches, one per relay round,
/// each sorted by time; the generator merges the batches of all replays.
final class SessionReplay {
    /// One packet due: when, which template packet, and the epoch that
    /// decides its new transaction ids and payload bytes (0: as in the
    /// template's first pass; `round + 1` for relay rounds; from 1,000,001
    /// for replayed control exchanges).
    struct Due {
        var time: Int64
        var packet: Int
        var epoch: Int
    }

    let id: Int
    let template: TemplateCapture
    /// Offset of the session's time 0 from the output's start.
    let start: Int64
    /// Numbering of this replay's relayed addresses among all replays' (they get distinct relay ports).
    let relayBase: Int
    /// The relay port of each of the template's relayed addresses when a schedule handed them out
    /// (`SessionSchedule`: a port is taken again only after the allocation holding it ended).
    let relayPorts: [UInt16]?
    /// Where this replay's client addresses start in a numbering that gives each replay
    /// `clientAddressCount` of them (`SessionSchedule`); without it, 64 per replay by id.
    let addressBase: Int?
    /// ICE ufrags (in USERNAME) get names of this replay's own, so that each replay is an ICE
    /// session of its own; otherwise every replay of a template shares its agents' names.
    let renamesIceAgents: Bool
    /// Relay-phase time per replayed control exchange; nil: none (relay packets only, for the
    /// allocation check: the packets a bigger capture adds are then all relay packets).
    let controlEvery: Int64?
    private(set) var batch: [Due] = []
    /// The next packet of `batch` to go out.
    var cursor = 0
    private var round = 0
    /// Control exchanges owed by the relay time elapsed, and which comes next.
    private var controlDebt = 0.0
    private var nextControlPair = 0
    private var controlEpoch = 1_000_000

    init(id: Int, template: TemplateCapture, start: Int64, relayBase: Int, relayPorts: [UInt16]? = nil, addressBase: Int? = nil,
         renamesIceAgents: Bool = false, controlEvery: Int64? = ReplayTiming.controlEvery) {
        self.id = id
        self.template = template
        self.start = start
        self.relayBase = relayBase
        self.relayPorts = relayPorts
        self.addressBase = addressBase
        self.renamesIceAgents = renamesIceAgents
        self.controlEvery = controlEvery
    }

    /// The server port of the template's relayed address number `relayed`.
    func relayPort(_ relayed: Int) -> UInt16 {
        relayPorts?[relayed] ?? UInt16(49_152 + (relayBase + relayed) % 16_384)
    }

    var next: Due { batch[cursor] }

    /// Fills the next non-empty batch; false when the session has no more.
    func refill(rounds: Int) -> Bool {
        while fillNextBatch(rounds: rounds) {
            if !batch.isEmpty { return true }
        }
        // Finished: a million replays must not each keep their largest batch's storage.
        batch = []
        return false
    }

    /// How much a round compresses the template's relay phase (1: not at all).
    private var relayScale: Double {
        let span = template.relayEnd - template.relayStart
        return span > ReplayTiming.maxRoundSpan ? Double(ReplayTiming.maxRoundSpan) / Double(span) : 1
    }

    /// Round 0 has the control packets up to the end of the relay phase and
    /// the first relay round; rounds 1..<`rounds` repeat the relay packets
    /// (with a replayed control exchange every `controlEvery` of relay time); round
    /// `rounds` has the control packets after the relay phase. A template
    /// without relay traffic is one batch.
    private func fillNextBatch(rounds: Int) -> Bool {
        batch.removeAll(keepingCapacity: true)
        cursor = 0
        let hasRelay = !template.relayIndices.isEmpty
        let scale = relayScale
        let span = Int64(Double(template.relayEnd - template.relayStart) * scale)
        let period = span + ReplayTiming.roundGap
        /// A control packet's time: compressed like the relay phase during it, after all rounds after it.
        func controlTime(_ time: Int64) -> Int64 {
            if !hasRelay || time <= template.relayStart { return time }
            if time <= template.relayEnd { return template.relayStart + Int64(Double(time - template.relayStart) * scale) }
            return time - template.relayEnd + template.relayStart + span + Int64(rounds - 1) * period
        }
        if !hasRelay {
            guard round == 0 else { return false }
            for index in template.packets.indices { batch.append(Due(time: template.packets[index].time, packet: index, epoch: 0)) }
        } else {
            guard round <= rounds else { return false }
            if round == 0 {
                for index in template.packets.indices where !template.packets[index].isRelay && template.packets[index].time <= template.relayEnd {
                    batch.append(Due(time: controlTime(template.packets[index].time), packet: index, epoch: 0))
                }
            }
            if round == rounds {
                for index in template.packets.indices where !template.packets[index].isRelay && template.packets[index].time > template.relayEnd {
                    batch.append(Due(time: controlTime(template.packets[index].time), packet: index, epoch: 0))
                }
            } else {
                let roundStart = template.relayStart + Int64(round) * period
                for index in template.relayIndices {
                    let offset = Int64(Double(template.packets[index].time - template.relayStart) * scale)
                    batch.append(Due(time: roundStart + offset, packet: index, epoch: round + 1))
                }
                if !template.controlPairs.isEmpty, let controlEvery {
                    appendControlExchanges(after: roundStart + span, period: period, every: controlEvery)
                }
            }
        }
        round += 1
        for index in batch.indices { batch[index].time += start }
        batch.sort { $0.time < $1.time || ($0.time == $1.time && $0.packet < $1.packet) }
        return true
    }

    /// The control exchanges this round's share of relay time owes, 2 µs
    /// apart after the round, each with its template round-trip time (at most
    /// an eighth of the gap, at least 1 µs).
    private func appendControlExchanges(after roundEnd: Int64, period: Int64, every: Int64) {
        controlDebt += Double(period) / Double(every)
        var at = roundEnd + ReplayTiming.roundGap / 4
        while controlDebt >= 1 {
            let pair = template.controlPairs[nextControlPair % template.controlPairs.count]
            nextControlPair += 1
            controlEpoch += 1
            let roundTrip = min(template.packets[pair.response].time - template.packets[pair.request].time, ReplayTiming.roundGap / 8)
            batch.append(Due(time: at, packet: pair.request, epoch: controlEpoch))
            batch.append(Due(time: at + max(roundTrip, 1000), packet: pair.response, epoch: controlEpoch))
            at += 2000
            controlDebt -= 1
        }
    }
}
