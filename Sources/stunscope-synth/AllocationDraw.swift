import TestSupport

/// The sessions of the default and relay-heavy mixes: templates drawn
/// (weighted) until the sessions hold the allocations wanted, starts spread
/// uniformly, and the relay phase repeated in as many rounds as it takes to
/// reach the packet count (so the number of sessions does not depend on it).
struct AllocationDraw {
    let templates: [TemplateCapture]
    let packets: Int
    let allocationsWanted: Int
    let relayShare: Double
    let spread: Double
    let seed: UInt64
    /// Relay-phase time per replayed control exchange (nil: none).
    let controlEvery: Int64?

    /// How often each template is drawn: control-only templates 1, relay templates 3, and the
    /// templates whose relay phase carries ICE checks as often as it takes for the relayed
    /// checks to make up (1 - relayShare) of the relay rounds.
    private func weights() -> [Double] {
        let checking = templates.filter { $0.relayChecks > 0 }
        let plain = templates.filter { $0.relayChecks == 0 && !$0.relayIndices.isEmpty }
        let checks = Double(checking.reduce(0) { $0 + $1.relayChecks })
        let checkingData = Double(checking.reduce(0) { $0 + $1.relayIndices.count - $1.relayChecks })
        let plainData = Double(plain.reduce(0) { $0 + $1.relayIndices.count })
        let checkShare = 1 - relayShare
        var checkingWeight = 1.0
        if checks > 0 {
            let denominator = checks - checkShare * (checks + checkingData)
            checkingWeight = denominator > 0 ? max(0.05, checkShare * plainData / denominator) : 100
        }
        return templates.map { $0.relayIndices.isEmpty ? 1 : $0.relayChecks > 0 ? 3 * checkingWeight : 3 }
    }

    /// The replays, in the order drawn, and the relay rounds each plays.
    func replays() -> (replays: [SessionReplay], rounds: Int) {
        var replays: [SessionReplay] = []
        var random = SplitMix64(seed: seed)
        let weights = weights()
        let totalWeight = weights.reduce(0, +)
        var allocations = 0
        var relayBase = 0
        while allocations < allocationsWanted || replays.isEmpty {
            var pick = random.nextUnit() * totalWeight
            var index = 0
            while index < weights.count - 1 && pick >= weights[index] {
                pick -= weights[index]
                index += 1
            }
            let template = templates[index]
            let start = Int64(random.nextUnit() * spread * 1e9)
            replays.append(SessionReplay(id: replays.count, template: template, start: start, relayBase: relayBase,
                                         controlEvery: controlEvery))
            relayBase += template.relayEndpoints.count
            allocations += template.allocations
        }
        var rounds = 1
        let oneTimePackets = replays.reduce(0) { $0 + $1.template.packets.count - $1.template.relayIndices.count }
        let relayPerRound = replays.reduce(0) { $0 + $1.template.relayIndices.count }
        if relayPerRound > 0 {
            rounds = max(1, Int(Double(packets - oneTimePackets) / Double(relayPerRound) + 0.999))
        }
        return (replays, rounds)
    }
}
