import NetworkVocabulary
import CaptureSource
import Foundation

/// What a run wrote, for the report on stderr.
struct SynthSummary {
    var packets = 0
    var replays = 0
    var allocations = 0
    var relayPackets = 0
    var relayedChecks = 0
    var rounds = 0
    var duration = 0.0
    /// The most sessions alive at one time, by `SessionFootprint.aliveSpan`, counted as they are written.
    var maxAlive = 0
}

/// Merges the replays' packets in time order into one classic pcap
/// (microseconds, Ethernet) through `PcapDumpWriter`.
struct SynthGenerator {
    let replays: [SessionReplay]
    /// Relay rounds each replay plays.
    let rounds: Int
    /// Stop after this many packets; nil: when every replay has finished.
    let packetLimit: Int?
    let seed: UInt64
    /// What one replay of each template costs, by template.
    let footprints: [ObjectIdentifier: SessionFootprint]

    init(replays: [SessionReplay], rounds: Int, packetLimit: Int?, seed: UInt64) {
        self.replays = replays
        self.rounds = rounds
        self.packetLimit = packetLimit
        self.seed = seed
        var footprints: [ObjectIdentifier: SessionFootprint] = [:]
        for replay in replays where footprints[ObjectIdentifier(replay.template)] == nil {
            footprints[ObjectIdentifier(replay.template)] = SessionFootprint(template: replay.template, rounds: rounds,
                                                                              controlEvery: replay.controlEvery)
        }
        self.footprints = footprints
    }

    /// How many sessions replay each template, by name.
    var drawn: [String: Int] { replays.reduce(into: [:]) { $0[$1.template.name, default: 0] += 1 } }

    func write(to path: String) throws -> SynthSummary {
        let writer = try PcapDumpWriter(path: path, linkType: .ethernet)
        let rewriter = ReplayRewriter(seed: seed)
        var summary = SynthSummary()
        summary.replays = replays.count
        summary.allocations = replays.reduce(0) { $0 + $1.template.allocations }
        summary.rounds = rounds

        // The session whose next packet is earliest goes next; ties by session id. A session joins
        // the queue once the queue's earliest packet is no earlier than its start (its first packet's
        // time), so that only started sessions hold their packet batches: the order is the same as
        // with every session queued from the outset.
        let byStart = replays.indices.sorted { replays[$0].start < replays[$1].start || (replays[$0].start == replays[$1].start && $0 < $1) }
        var nextToQueue = 0
        var queue = MinimumHeap<NextPacket>()
        var started = [Bool](repeating: false, count: replays.count)
        var aliveUntil = MinimumHeap<Int64>()
        var frame: [UInt8] = []
        var firstTime: Int64?
        var lastTime: Int64 = 0
        while packetLimit.map({ summary.packets < $0 }) ?? true {
            while nextToQueue < byStart.count, queue.minimum.map({ replays[byStart[nextToQueue]].start <= $0.time }) ?? true {
                let replay = replays[byStart[nextToQueue]]
                nextToQueue += 1
                if replay.refill(rounds: rounds) { queue.insert(NextPacket(time: replay.next.time, replay: replay.id)) }
            }
            guard let earliest = queue.popMinimum() else { break }
            let replay = replays[earliest.replay]
            let due = replay.next
            if !started[replay.id] {
                started[replay.id] = true
                while let end = aliveUntil.minimum, end < due.time { _ = aliveUntil.popMinimum() }
                aliveUntil.insert(due.time + (footprints[ObjectIdentifier(replay.template)]?.aliveSpan ?? 0))
                summary.maxAlive = max(summary.maxAlive, aliveUntil.count)
            }
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
