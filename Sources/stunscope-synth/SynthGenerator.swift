import NetworkVocabulary
import CaptureSource
import Foundation
import TestSupport

/// What a run wrote, for the report on stderr.
struct SynthSummary {
    var packets = 0
    var replays = 0
    var allocations = 0
    var relayPackets = 0
    var relayedChecks = 0
    var rounds = 0
    var duration = 0.0
}

/// Draws the sessions, then merges their packets in time order into one
/// classic pcap (microseconds, Ethernet) through `PcapDumpWriter`.
struct SynthGenerator {
    let templates: [TemplateCapture]
    let packets: Int
    let allocationsWanted: Int
    let relayShare: Double
    let spread: Double
    let seed: UInt64

    private var replays: [SessionReplay] = []
    /// Relay rounds per session: enough for `packets` in total.
    private var rounds = 1
    /// How many sessions replay each template, by name.
    private(set) var drawn: [String: Int] = [:]

    init(templates: [TemplateCapture], packets: Int, allocations: Int, relayShare: Double, spread: Double, seed: UInt64) {
        self.templates = templates
        self.packets = packets
        self.allocationsWanted = allocations
        self.relayShare = relayShare
        self.spread = spread
        self.seed = seed
    }

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

    /// Draws templates (weighted) until the sessions hold `allocationsWanted` allocations, each
    /// with a start time in the spread; then sizes the relay rounds to reach `packets`.
    private mutating func plan() {
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
            drawn[template.name, default: 0] += 1
            let start = Int64(random.nextUnit() * spread * 1e9)
            replays.append(SessionReplay(id: replays.count, template: template, start: start, relayBase: relayBase))
            relayBase += template.relayEndpoints.count
            allocations += template.allocations
        }
        let oneTimePackets = replays.reduce(0) { $0 + $1.template.packets.count - $1.template.relayIndices.count }
        let relayPerRound = replays.reduce(0) { $0 + $1.template.relayIndices.count }
        if relayPerRound > 0 {
            rounds = max(1, Int(Double(packets - oneTimePackets) / Double(relayPerRound) + 0.999))
        }
    }

    mutating func write(to path: String) throws -> SynthSummary {
        plan()
        let writer = try PcapDumpWriter(path: path, linkType: .ethernet)
        let rewriter = ReplayRewriter(seed: seed)
        var summary = SynthSummary()
        summary.replays = replays.count
        summary.allocations = replays.reduce(0) { $0 + $1.template.allocations }
        summary.rounds = rounds

        // The session whose next packet is earliest goes next; ties by session id.
        var queue = MinimumHeap<NextPacket>()
        for replay in replays where replay.refill(rounds: rounds) { queue.insert(NextPacket(time: replay.next.time, replay: replay.id)) }
        var frame: [UInt8] = []
        var firstTime: Int64?
        var lastTime: Int64 = 0
        while summary.packets < packets, let earliest = queue.popMinimum() {
            let replay = replays[earliest.replay]
            let due = replay.next
            let packet = replay.template.packets[due.packet]
            rewriter.write(packet, of: replay, epoch: due.epoch, into: &frame)
            let time = ReplayTiming.baseTime + due.time
            if firstTime == nil { firstTime = time }
            lastTime = time
            try frame.withUnsafeBytes { bytes in
                try writer.write(CapturedPacket(frameNumber: summary.packets + 1, fileIndex: 0, time: CaptureTime(nanoseconds: time),
                                                linkType: .ethernet, originalLength: bytes.count, bytes: bytes))
            }
            summary.packets += 1
            if packet.isRelay {
                if packet.payload.carriesStun { summary.relayedChecks += 1 } else { summary.relayPackets += 1 }
            }
            replay.cursor += 1
            if replay.cursor < replay.batch.count || replay.refill(rounds: rounds) {
                queue.insert(NextPacket(time: replay.next.time, replay: replay.id))
            }
        }
        try writer.finish()
        summary.duration = Double(lastTime - (firstTime ?? lastTime)) / 1e9
        return summary
    }

    /// A session's next packet time, ordered by time, then by session.
    private struct NextPacket: Comparable {
        var time: Int64
        var replay: Int
        static func < (a: NextPacket, b: NextPacket) -> Bool { a.time < b.time || (a.time == b.time && a.replay < b.replay) }
    }
}
