import NetworkVocabulary
import StunWire

/// One vantage point's capture: its sightings are `range` of the stitch's one sightings array
/// (one array for all, so no vantage's sightings are held twice).
public struct VantageCapture: Sendable {
    public var name: String
    public var file: String
    public var range: Range<Int>
    public var sightingsDropped: Int

    public init(name: String, file: String, range: Range<Int>, sightingsDropped: Int = 0) {
        self.name = name
        self.file = file
        self.range = range
        self.sightingsDropped = sightingsDropped
    }
}

public enum StitchError: Error, CustomStringConvertible, Equatable {
    /// A clock offset larger than both captures last: not the same time, or a clock set wrong.
    case offsetAboveSpan(vantage: String, against: String, offset: Double, span: Double)

    public var description: String {
        switch self {
        case let .offsetAboveSpan(vantage, against, offset, span):
            return "stitch refused: the clock of '\(vantage)' is \(StitchFormat.seconds(offset)) off '\(against)', more than either capture lasts (\(StitchFormat.seconds(span))); these captures do not cover the same time, or one clock is wrong (shift it with editcap -t)"
        }
    }
}

enum StitchFormat {
    static func seconds(_ s: Double) -> String {
        let rounded = (s * 1_000_000).rounded() / 1_000_000
        return "\(rounded) s"
    }
}

/// Vantage captures -> one stitched story: clocks, packets with their
/// sightings, NAT translations and behaviour, hops, losses, transactions.
public struct Stitcher {
    public var reference = 0
    /// How far apart (reference clock, beyond twice the clock uncertainty) two sightings of one packet may be.
    public var window: Int64 = 2_000_000_000

    public init() {}

    /// `all` holds every vantage's sightings, each vantage's at its `range`, in capture order.
    public func stitch(_ vantages: [VantageCapture], sightings all: [Sighting]) throws(StitchError) -> StitchDocument {
        let names = vantages.map(\.name)
        let offsets = ClockOffsetEstimator.estimate(vantages.map { all[$0.range] }, reference: reference)
        let ownSpans = vantages.map { v -> (Int64, Int64) in
            let ts = all[v.range].lazy.map(\.time.nanoseconds)
            return (ts.min() ?? 0, ts.max() ?? 0)
        }
        for (i, o) in offsets.enumerated() {
            guard let o, i != reference else { continue }
            let against = o.measuredAgainst
            let span = max(ownSpans[i].1 &- ownSpans[i].0, ownSpans[against].1 &- ownSpans[against].0)
            let step = o.offset &- (offsets[against]?.offset ?? 0)
            if step.magnitude > span.magnitude {
                throw .offsetAboveSpan(vantage: names[i], against: names[against], offset: Double(step) / 1e9, span: Double(span) / 1e9)
            }
        }

        let times = all.map { $0.time.nanoseconds &- (offsets[$0.vantage]?.offset ?? 0) }
        let maxUncertainty = offsets.compactMap { $0?.uncertainty }.max() ?? 0
        let packets = SightingCorrelator.correlate(all, correctedTimes: times, window: window &+ 2 &* maxUncertainty)

        var inference = NatTranslationInference()
        for p in packets { inference.add(p, all, times) }
        let nats = inference.nats()
        let spans = ownSpans.enumerated().map { i, s in
            (first: s.0 &- (offsets[i]?.offset ?? 0), last: s.1 &- (offsets[i]?.offset ?? 0))
        }
        let paths = PacketPathAnalysis(sightings: all, times: times, packets: packets, nats: nats, spans: spans,
                                       clockUncertainty: maxUncertainty)
        let losses = packets.map { paths.loss(of: $0) }

        var doc = StitchDocument()
        doc.reference = names.indices.contains(reference) ? names[reference] : ""
        doc.vantages = vantageSummaries(vantages, offsets: offsets, packets: packets, all: all, spans: spans)
        for v in doc.vantages where !v.linked {
            doc.notes.append("'\(v.name)' (\(v.file)) shares no packet with the other captures: it is not stitched; analyze it on its own (stunscope analyze \(v.file))")
        }
        for v in doc.vantages where v.linked && v.clockOffset == nil {
            doc.notes.append("'\(v.name)' shares packets but no request/answer pair with the others: its clock is taken as the reference's, unmeasured")
        }
        doc.natTranslations = translations(nats, names)
        doc.nats = natSummaries(nats, packets: packets, losses: losses, all: all, times: times, names: names)
        doc.hops = hopSummaries(packets.indices.map { (paths.hops(of: packets[$0]), losses[$0]) }, names: names)
        doc.conversations = ConversationSummaries(sightings: all, packets: packets, losses: losses, paths: paths, nats: nats, names: names).build()
        doc.transactions = transactionSummaries(packets, all: all, names: names)
        doc.packets = packets.indices.map { i in
            let p = packets[i]
            let first = all[p.sightings[0]]
            return StitchDocument.Packet(
                summary: first.label.summary, transport: first.flow.transport.description,
                transactionId: first.label.transactionMessage?.transactionID.hex,
                sightings: p.sightings.map { s in
                    StitchDocument.SightingOut(vantage: names[all[s].vantage], frame: all[s].frame, time: Double(times[s]) / 1e9,
                                               source: all[s].flow.source.description, destination: all[s].flow.destination.description)
                },
                lost: losses[i].map { StitchDocument.Loss(lastSeenAt: names[$0.after], expectedAt: names[$0.expectedAt], nat: $0.nat.map { "\($0.outsideAddress)" }) })
        }
        return doc
    }

    private func vantageSummaries(_ vantages: [VantageCapture], offsets: [ClockOffset?], packets: [StitchedPacket], all: [Sighting],
                                  spans: [(first: Int64, last: Int64)]) -> [StitchDocument.Vantage] {
        var shared = [Int](repeating: 0, count: vantages.count)
        for p in packets where p.sightings.count > 1 {
            for s in p.sightings { shared[all[s].vantage] += 1 }
        }
        return vantages.indices.map { i in
            let o = offsets[i]
            let empty = vantages[i].range.isEmpty
            return StitchDocument.Vantage(
                name: vantages[i].name, file: vantages[i].file, sightings: vantages[i].range.count, sharedSightings: shared[i],
                linked: i == reference ? shared[i] > 0 || vantages.count == 1 : shared[i] > 0,
                clockOffset: o.map { Double($0.offset) / 1e9 }, uncertainty: o.map { Double($0.uncertainty) / 1e9 },
                clockTransactions: o?.transactions ?? 0,
                clockMeasuredAgainst: o.flatMap { $0.measuredAgainst == i ? nil : vantages[$0.measuredAgainst].name },
                clockInconsistent: o?.inconsistent ?? false,
                firstTime: empty ? nil : Double(spans[i].first) / 1e9, lastTime: empty ? nil : Double(spans[i].last) / 1e9,
                sightingsDropped: vantages[i].sightingsDropped)
        }
    }

    private func translations(_ nats: [NatBehaviour], _ names: [String]) -> [StitchDocument.Translation] {
        nats.flatMap { nat in
            nat.translations.map { t in
                StitchDocument.Translation(
                    nat: "\(nat.identity.outsideAddress)", insideVantage: names[t.key.insideVantage],
                    outsideVantages: t.outsideVantages.sorted().map { names[$0] }, transport: t.key.transport.description,
                    inside: t.key.inside.description, outside: t.key.outside.description, destination: t.key.destination.description,
                    outboundPackets: t.outbound, inboundPackets: t.inbound,
                    frames: t.frames.keys.sorted().map { StitchDocument.FramesAt(vantage: names[$0], first: t.frames[$0]!.first, last: t.frames[$0]!.last) })
            }
        }
    }

    private func natSummaries(_ nats: [NatBehaviour], packets: [StitchedPacket], losses: [PacketLoss?], all: [Sighting], times: [Int64],
                              names: [String]) -> [StitchDocument.Nat] {
        nats.map { nat in
            var inbound: [NatFilteringInference.Inbound] = []
            var dropped = 0
            for (i, p) in packets.enumerated() {
                let vantages = Set(p.sightings.map { all[$0].vantage })
                guard let outsideSighting = p.sightings.first(where: {
                    nat.outsideVantages.contains(all[$0].vantage) && all[$0].flow.destination.address == nat.identity.outsideAddress
                }) else { continue }
                let s = all[outsideSighting]
                let passed = vantages.contains(nat.identity.insideVantage)
                if !passed {
                    // Only a loss the path analysis placed at this NAT is a drop (the inside vantage was capturing).
                    guard let loss = losses[i], loss.nat == nat.identity else { continue }
                    dropped += 1
                }
                inbound.append(.init(source: s.flow.source, outside: s.flow.destination, time: times[outsideSighting], passed: passed,
                                     frame: s.frame, vantage: s.vantage))
            }
            let (filtering, evidence) = NatFilteringInference.classify(nat, inbound: inbound, vantageName: { names[$0] })
            return StitchDocument.Nat(
                outsideAddress: "\(nat.identity.outsideAddress)", insideVantage: names[nat.identity.insideVantage],
                outsideVantages: nat.outsideVantages.sorted().map { names[$0] }, mapping: nat.mapping.rawValue,
                mappingEvidence: nat.mappingEvidence, portPreserving: nat.portPreserving, filtering: filtering.rawValue,
                filteringEvidence: evidence, translations: nat.translations.count, packetsDropped: dropped)
        }
    }

    func hopSummaries(_ items: [(hops: [(hop: PacketPathAnalysis.Hop, delay: Int64)], loss: PacketLoss?)], names: [String])
        -> [StitchDocument.HopSummary] {
        var delays: [PacketPathAnalysis.Hop: [Int64]] = [:]
        var lost: [PacketPathAnalysis.Hop: Int] = [:]
        // Hops listed in path order: by how far along its packets' paths each hop first came.
        var position: [PacketPathAnalysis.Hop: Int] = [:]
        for item in items {
            for (n, h) in item.hops.enumerated() {
                delays[h.hop, default: []].append(h.delay)
                position[h.hop] = min(position[h.hop] ?? n, n)
            }
            if let l = item.loss {
                let hop = PacketPathAnalysis.Hop(from: l.after, to: l.expectedAt)
                lost[hop, default: 0] += 1
                position[hop] = min(position[hop] ?? item.hops.count, item.hops.count)
            }
        }
        let hops = Set(delays.keys).union(lost.keys).sorted { (position[$0]!, $0.from, $0.to) < (position[$1]!, $1.from, $1.to) }
        return hops.map { h in
            StitchDocument.HopSummary(from: names[h.from], to: names[h.to], packets: delays[h]?.count ?? 0, lost: lost[h] ?? 0,
                                      delay: delays[h].map(Self.delay))
        }
    }

    static func delay(_ values: [Int64]) -> StitchDocument.Delay {
        let sorted = values.sorted()
        let median = sorted.count % 2 == 1 ? Double(sorted[sorted.count / 2])
            : (Double(sorted[sorted.count / 2 - 1]) + Double(sorted[sorted.count / 2])) / 2
        func ms(_ ns: Double) -> Double { (ns / 1000).rounded() / 1000 }
        return StitchDocument.Delay(minMs: ms(Double(sorted.first!)), medianMs: ms(median), maxMs: ms(Double(sorted.last!)))
    }

    /// What kind of traffic a packet is, for a flow's `carries` list.
    static func carries(_ label: PacketLabel) -> String {
        if let stun = label.stun {
            if stun.method == "Binding" { return stun.username != nil ? "ICE checks" : "STUN Binding" }
            if let carried = label.carried, carried.method == "Binding" { return "TURN \(stun.method) (ICE checks)" }
            return "TURN \(stun.method)"
        }
        if label.sip != nil { return "SIP" }
        if label.channel != nil { return label.carried?.method == "Binding" ? "ChannelData (ICE checks)" : "ChannelData" }
        return label.payloadClass.rawValue
    }

    private func transactionSummaries(_ packets: [StitchedPacket], all: [Sighting], names: [String]) -> [StitchDocument.Transaction] {
        struct ID: Hashable { var id: StunTransactionID; var method: String }
        /// A request's form: relayed checks travel as ChannelData or a Send indication on one leg and as plain
        /// STUN on the other; each leg counts its own copies.
        struct Form: Hashable { var kind: PacketKey.Kind; var channel: UInt16; var carried: Bool }
        var order: [ID] = []
        var requests: [ID: [Form: Int]] = [:]
        var answers: [ID: [Form: Int]] = [:]
        var seen: [ID: [Int: (requests: Int, answers: Int)]] = [:]
        for p in packets {
            let first = all[p.sightings[0]]
            guard let m = first.label.transactionMessage, m.messageClass != .indication else { continue }
            let id = ID(id: m.transactionID, method: m.method)
            let form = Form(kind: first.key.kind, channel: first.key.channel, carried: first.label.stun == nil || first.label.carried != nil)
            if requests[id] == nil && answers[id] == nil { order.append(id) }
            let isRequest = m.messageClass == .request
            if isRequest { requests[id, default: [:]][form, default: 0] += 1 } else { answers[id, default: [:]][form, default: 0] += 1 }
            for s in p.sightings {
                var c = seen[id, default: [:]][all[s].vantage] ?? (0, 0)
                if isRequest { c.requests += 1 } else { c.answers += 1 }
                seen[id, default: [:]][all[s].vantage] = c
            }
        }
        return order.map { id in
            let sent = requests[id]?.values.max() ?? 0
            return StitchDocument.Transaction(
                transactionId: id.id.hex, method: id.method, requests: sent, retransmissions: max(0, sent - 1),
                answers: answers[id]?.values.max() ?? 0,
                seenAt: (seen[id] ?? [:]).keys.sorted().map { v in
                    StitchDocument.TransactionSeen(vantage: names[v], requests: seen[id]![v]!.requests, answers: seen[id]![v]!.answers)
                })
        }
    }
}
