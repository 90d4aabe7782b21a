import ArgumentParser
import Foundation

/// `stunscope synth` (hidden, for developers): builds a big, realistic TURN
/// server capture from the small real ones in `captures/`, for benchmarks.
///
/// Every template capture (the server's vantage point of a real coturn /
/// aioice session) is replayed many times as independent "instances": each
/// instance gets its own client and peer addresses, its own relay ports on
/// the server, its own transaction ids and channel numbers, and a start time
/// spread over a window, so that instances interleave as a busy server sees
/// them. The relay phase of a session (ChannelData, Send/Data indications
/// and the peer-leg datagrams) is repeated in rounds (0.5 s apart at most);
/// each round changes a few bytes of the application data (the same way on
/// both legs, so relay-leg pairing still works) and gets fresh transaction
/// ids for the STUN it carries (relayed ICE checks, like consent freshness).
/// Every 10 s of relay phase a session also replays one of its own
/// in-session exchanges (Refresh, CreatePermission, ChannelBind) with a new
/// transaction id, as clients refresh. `--relay-share` is the share of relay
/// packets carrying application data; the rest are the sessions' control and
/// the relayed ICE checks, whose share is set by how often the ICE templates
/// are drawn.
///
/// Fields are kept valid: XOR-mapped addresses are re-XORed for the new
/// transaction id, FINGERPRINT is recomputed (also in nested messages),
/// IPv4 header and UDP checksums are recomputed. MESSAGE-INTEGRITY cannot be
/// recomputed without the passwords: it is kept as it was (so it checks as
/// `invalid` with credentials and `unchecked` without).
///
/// The number of sessions does not depend on `--packets`: bigger captures
/// have longer relay phases, so memory measured against packet count shows
/// growth with packets rather than with sessions. Deterministic for a seed.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Developer tool: generate a big TURN-server capture from the real captures (benchmarks).",
        shouldDisplay: false
    )

    @Option(help: "Packets to write.")
    var packets = 2_000_000

    @Option(help: "At least this many TURN allocations (client 5-tuples sending Allocate).")
    var allocations = 2_000

    @Option(help: "Share of relay packets carrying application data (ChannelData, Send/Data, peer leg), 0..1; the rest is STUN control and relayed ICE checks.")
    var relayShare = 0.85

    @Option(help: "Seconds over which session starts are spread.")
    var spread = 60.0

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Directory with the template captures (*.server.pcap, *.turn-server.pcap).", valueName: "dir"))
    var captures = "captures"

    @Option(name: .customLong("template"), help: ArgumentHelp("A template capture (repeatable; replaces the directory scan).", valueName: "pcap"))
    var templates: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output pcap file.", valueName: "file"))
    var output: String

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if packets < 1 { throw ValidationError("--packets must be positive") }
        if !(0...1).contains(relayShare) { throw ValidationError("--relay-share must be within 0...1") }
    }

    func run() throws {
        var paths = templates
        if paths.isEmpty {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: captures)) ?? []
            paths = names.filter { $0.hasSuffix(".server.pcap") || $0.hasSuffix(".turn-server.pcap") }
                .sorted().map { captures + "/" + $0 }
        }
        var loaded: [SynthTemplate] = []
        var skipped: [String] = []
        for p in paths {
            do {
                let t = try SynthTemplate(path: p)
                if t.allocations == 0 { skipped.append("\(p) (no UDP Allocate)"); continue }
                loaded.append(t)
            } catch {
                skipped.append("\(p) (\(error))")
            }
        }
        guard !loaded.isEmpty else { throw ValidationError("no usable template capture in \(paths)") }
        var generator = SynthGenerator(templates: loaded, packets: packets, allocations: allocations,
                                       relayShare: relayShare, spread: spread, seed: seed)
        let summary = try generator.write(to: output)
        if !quiet {
            var report = "synth: \(summary.packets) packets, \(summary.instances) sessions, \(summary.allocations) allocations, "
            report += "\(summary.relayPackets) relay data (\(String(format: "%.1f", 100 * Double(summary.relayPackets) / Double(max(1, summary.packets)))) %), "
            report += "\(summary.relayedChecks) relayed ICE checks, \(summary.packets - summary.relayPackets - summary.relayedChecks) control, "
            report += "\(summary.rounds) relay rounds, \(String(format: "%.1f", summary.duration)) s -> \(output)\n"
            for t in loaded {
                report += "  template \(t.name): \(t.packets.count) packets, \(t.relayIndices.count) relay (\(t.relayChecks) ICE checks), \(t.allocations) allocations, \(t.pool.count) control pairs, drawn \(generator.drawn[t.name] ?? 0) times\n"
            }
            for s in skipped { report += "  skipped \(s)\n" }
            FileHandle.standardError.write(report.data(using: .utf8)!)
        }
    }
}

// MARK: - Templates

/// One template capture: its IPv4/UDP packets, classified.
final class SynthTemplate {
    struct Packet {
        var time: Int64          // ns since the template's first kept packet
        var frame: [UInt8]       // Ethernet frame
        var ip: Int              // offset of the IPv4 header
        var udp: Int             // offset of the UDP header
        var relay: Bool
    }

    let name: String
    private(set) var packets: [Packet] = []
    /// Server-side IPv4 addresses: those using port 3478/5349, and relayed addresses.
    private(set) var serverIPs: Set<UInt32> = []
    /// Relayed transport addresses (ip << 16 | port) -> index.
    private(set) var relayEndpoints: [UInt64: Int] = [:]
    private(set) var allocations = 0
    private(set) var relayIndices: [Int] = []
    /// Relay packets whose application data is a STUN message (relayed ICE checks).
    private(set) var relayChecks = 0
    /// Request/response pairs replayed with new ids during the relay phase.
    private(set) var pool: [(request: Int, response: Int)] = []
    private(set) var relayStart: Int64 = 0
    private(set) var relayEnd: Int64 = 0
    /// Client-side IPv4 addresses met so far -> index (filled while generating).
    var clientIndex: [UInt32: Int] = [:]

    static let serverPorts: Set<UInt16> = [3478, 5349]

    init(path: String) throws {
        name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else { throw SynthError("cannot read") }
        let bytes = [UInt8](data)
        guard bytes.count >= 24 else { throw SynthError("too short") }
        let magic = SynthBytes.le32(bytes, 0)
        let nano: Bool
        switch magic {
        case 0xa1b2_c3d4: nano = false
        case 0xa1b2_3c4d: nano = true
        default: throw SynthError("not a little-endian classic pcap")
        }
        guard SynthBytes.le32(bytes, 20) == 1 else { throw SynthError("link type is not Ethernet") }
        var offset = 24
        var first: Int64?
        var allocateFlows = Set<[UInt8]>()
        while offset + 16 <= bytes.count {
            let sec = Int64(SynthBytes.le32(bytes, offset))
            let frac = Int64(SynthBytes.le32(bytes, offset + 4))
            let incl = Int(SynthBytes.le32(bytes, offset + 8))
            let orig = Int(SynthBytes.le32(bytes, offset + 12))
            offset += 16
            guard offset + incl <= bytes.count else { break }
            let frame = Array(bytes[offset..<(offset + incl)])
            offset += incl
            guard incl == orig, frame.count >= 14 + 20 + 8, SynthBytes.be16(frame, 12) == 0x0800 else { continue }
            let ip = 14
            guard frame[ip] >> 4 == 4 else { continue }
            let ihl = Int(frame[ip] & 0x0f) * 4
            guard ihl >= 20, frame[ip + 9] == 17, SynthBytes.be16(frame, ip + 6) & 0x3fff == 0 else { continue }
            let total = Int(SynthBytes.be16(frame, ip + 2))
            let udp = ip + ihl
            guard ip + total == frame.count, udp + 8 <= frame.count, Int(SynthBytes.be16(frame, udp + 4)) == frame.count - udp else { continue }
            let t = sec * 1_000_000_000 + (nano ? frac : frac * 1000)
            if first == nil { first = t }
            packets.append(Packet(time: t - first!, frame: frame, ip: ip, udp: udp, relay: false))
        }
        // Server side and relayed addresses.
        for p in packets {
            let f = p.frame
            if SynthTemplate.serverPorts.contains(SynthBytes.be16(f, p.udp)) { serverIPs.insert(SynthBytes.be32(f, p.ip + 12)) }
            if SynthTemplate.serverPorts.contains(SynthBytes.be16(f, p.udp + 2)) { serverIPs.insert(SynthBytes.be32(f, p.ip + 16)) }
            let payload = p.udp + 8
            guard let stun = SynthStun.header(f, payload, f.count) else { continue }
            if stun.method == 0x003 && stun.cls == 0 {
                allocateFlows.insert(Array(f[(p.ip + 12)..<(p.ip + 20)]) + Array(f[p.udp..<(p.udp + 4)]))
            }
            if stun.method == 0x003 && stun.cls == 2 {
                SynthStun.forEachAttribute(f, payload, f.count) { type, v, len in
                    if type == 0x0016, len == 8, f[v + 1] == 1 {
                        let port = SynthBytes.be16(f, v + 2) ^ 0x2112
                        let addr = SynthBytes.be32(f, v + 4) ^ 0x2112_A442
                        serverIPs.insert(addr)
                        let key = UInt64(addr) << 16 | UInt64(port)
                        if relayEndpoints[key] == nil { relayEndpoints[key] = relayEndpoints.count }
                    }
                }
            }
        }
        allocations = allocateFlows.count
        // Classify: ChannelData, Send/Data indications and peer-leg datagrams are relay traffic.
        var relayFlows = Set<[UInt8]>()
        for i in packets.indices {
            let f = packets[i].frame
            let u = packets[i].udp
            let payload = u + 8
            let sport = SynthBytes.be16(f, u), dport = SynthBytes.be16(f, u + 2)
            let src = UInt64(SynthBytes.be32(f, packets[i].ip + 12)) << 16 | UInt64(sport)
            let dst = UInt64(SynthBytes.be32(f, packets[i].ip + 16)) << 16 | UInt64(dport)
            var relay = false
            if let stun = SynthStun.header(f, payload, f.count) {
                relay = (stun.method == 0x006 || stun.method == 0x007) && stun.cls == 1
            } else if f.count - payload >= 4, (0x40...0x7f).contains(f[payload]),
                      SynthTemplate.serverPorts.contains(sport) || SynthTemplate.serverPorts.contains(dport) {
                relay = true
            } else if relayEndpoints[src] != nil || relayEndpoints[dst] != nil {
                relay = true
            }
            packets[i].relay = relay
            if relay {
                relayIndices.append(i)
                if SynthTemplate.carriesStun(f, payload, f.count) { relayChecks += 1 }
                if SynthTemplate.serverPorts.contains(dport) { relayFlows.insert(SynthTemplate.flowKey(f, packets[i].ip, u, reversed: false)) }
            }
        }
        if let a = relayIndices.first, let b = relayIndices.last {
            relayStart = packets[a].time
            relayEnd = packets[b].time
        }
        // Control exchanges on the relaying 5-tuples, replayed during the relay phase.
        var requests: [[UInt8]: Int] = [:]
        for i in packets.indices where !packets[i].relay {
            let f = packets[i].frame
            let payload = packets[i].udp + 8
            guard let stun = SynthStun.header(f, payload, f.count) else { continue }
            guard [0x001, 0x004, 0x008, 0x009].contains(stun.method) else { continue }
            let tid = Array(f[(payload + 8)..<(payload + 20)]) + [UInt8(stun.method & 0xff)]
            if stun.cls == 0 {
                guard relayFlows.contains(SynthTemplate.flowKey(f, packets[i].ip, packets[i].udp, reversed: false)) else { continue }
                if stun.method == 0x004 {
                    var zero = false
                    SynthStun.forEachAttribute(f, payload, f.count) { type, v, len in
                        if type == 0x000D, len == 4, SynthBytes.be32(f, v) == 0 { zero = true }
                    }
                    if zero { continue }
                }
                requests[tid] = i
            } else if stun.cls == 2, let r = requests.removeValue(forKey: tid) {
                pool.append((r, i))
            }
        }
    }

    /// True when the relayed application data (ChannelData body, DATA value or peer-leg payload) is STUN.
    static func carriesStun(_ f: [UInt8], _ start: Int, _ end: Int) -> Bool {
        if let h = SynthStun.header(f, start, end) {
            guard h.method == 0x006 || h.method == 0x007 else { return true }
            var inner = false
            SynthStun.forEachAttribute(f, start, end) { type, v, len in
                if type == 0x0013, SynthStun.header(f, v, v + len) != nil { inner = true }
            }
            return inner
        }
        if end - start >= 4, (0x40...0x7f).contains(f[start]) {
            let len = Int(SynthBytes.be16(f, start + 2))
            return start + 4 + len <= end && SynthStun.header(f, start + 4, start + 4 + len) != nil
        }
        return false
    }

    static func flowKey(_ f: [UInt8], _ ip: Int, _ udp: Int, reversed: Bool) -> [UInt8] {
        let s = Array(f[(ip + 12)..<(ip + 16)]) + Array(f[udp..<(udp + 2)])
        let d = Array(f[(ip + 16)..<(ip + 20)]) + Array(f[(udp + 2)..<(udp + 4)])
        return reversed ? d + s : s + d
    }

    func clientSlot(_ ip: UInt32) -> Int {
        if let i = clientIndex[ip] { return i }
        let i = clientIndex.count
        clientIndex[ip] = i
        return i
    }
}

struct SynthError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

enum SynthBytes {
    @inline(__always) static func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }
    @inline(__always) static func be16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }
    @inline(__always) static func be32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
    @inline(__always) static func put16(_ b: inout [UInt8], _ o: Int, _ v: UInt16) {
        b[o] = UInt8(v >> 8); b[o + 1] = UInt8(v & 0xff)
    }
    @inline(__always) static func put32(_ b: inout [UInt8], _ o: Int, _ v: UInt32) {
        b[o] = UInt8(v >> 24); b[o + 1] = UInt8((v >> 16) & 0xff); b[o + 2] = UInt8((v >> 8) & 0xff); b[o + 3] = UInt8(v & 0xff)
    }
}

enum SynthStun {
    struct Header { var method: UInt16; var cls: Int }

    /// An RFC 5389 message filling exactly [start, end).
    static func header(_ b: [UInt8], _ start: Int, _ end: Int) -> Header? {
        guard end - start >= 20, b[start] & 0xc0 == 0, SynthBytes.be32(b, start + 4) == 0x2112_A442,
              20 + Int(SynthBytes.be16(b, start + 2)) == end - start else { return nil }
        let t = SynthBytes.be16(b, start)
        let method = (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2)
        let cls = Int((t & 0x0010) >> 4 | (t & 0x0100) >> 7)
        return Header(method: method, cls: cls)
    }

    /// Calls `body(type, valueOffset, length)` for each attribute that fits.
    static func forEachAttribute(_ b: [UInt8], _ start: Int, _ end: Int, _ body: (UInt16, Int, Int) -> Void) {
        var o = start + 20
        while end - o >= 4 {
            let type = SynthBytes.be16(b, o)
            let len = Int(SynthBytes.be16(b, o + 2))
            guard o + 4 + len <= end else { return }
            body(type, o + 4, len)
            o += 4 + ((len + 3) & ~3)
        }
    }
}

// MARK: - Generation

struct SynthSummary {
    var packets = 0
    var instances = 0
    var allocations = 0
    var relayPackets = 0
    var relayedChecks = 0
    var rounds = 0
    var duration = 0.0
}

/// SplitMix64: small, seedable, good enough for layout decisions.
struct SynthRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SynthRandom.mix(state)
    }
    static func mix(_ v: UInt64) -> UInt64 {
        var z = v
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

struct SynthGenerator {
    /// One replay of a template.
    final class Instance {
        let id: Int
        let template: SynthTemplate
        let start: Int64
        let relayBase: Int
        var batch: [(time: Int64, packet: Int, epoch: Int)] = []
        var cursor = 0
        var round = 0
        var poolDebt = 0.0
        var poolNext = 0
        var poolEpoch = 0
        init(id: Int, template: SynthTemplate, start: Int64, relayBase: Int) {
            self.id = id
            self.template = template
            self.start = start
            self.relayBase = relayBase
        }
    }

    let templates: [SynthTemplate]
    let packets: Int
    let allocationsWanted: Int
    let relayShare: Double
    let spread: Double
    let seed: UInt64

    static let baseTime: Int64 = 1_735_689_600 * 1_000_000_000   // 2025-01-01T00:00:00Z
    static let roundGap: Int64 = 20_000_000                        // 20 ms between relay rounds
    static let maxRoundSpan: Int64 = 500_000_000                   // a round's relay packets fit in 0.5 s

    private var instances: [Instance] = []
    private var rounds = 1
    /// One in-session control exchange per this much relay-phase time.
    static let controlEvery: Int64 = 10_000_000_000

    init(templates: [SynthTemplate], packets: Int, allocations: Int, relayShare: Double, spread: Double, seed: UInt64) {
        self.templates = templates
        self.packets = packets
        self.allocationsWanted = allocations
        self.relayShare = relayShare
        self.spread = spread
        self.seed = seed
    }

    private(set) var drawn: [String: Int] = [:]

    /// How often each template is drawn: control-only templates 1, relay templates 3, and the
    /// templates whose relay phase carries ICE checks as often as it takes for the relayed
    /// checks to make up (1 - relayShare) of the relay rounds.
    private func weights() -> [Double] {
        let checking = templates.filter { $0.relayChecks > 0 }
        let plain = templates.filter { $0.relayChecks == 0 && !$0.relayIndices.isEmpty }
        let c = Double(checking.reduce(0) { $0 + $1.relayChecks })
        let a = Double(checking.reduce(0) { $0 + $1.relayIndices.count - $1.relayChecks })
        let r = Double(plain.reduce(0) { $0 + $1.relayIndices.count })
        let share = 1 - relayShare
        var w = 1.0
        if c > 0 {
            let denominator = c - share * (c + a)
            w = denominator > 0 ? max(0.05, share * r / denominator) : 100
        }
        return templates.map { t in t.relayIndices.isEmpty ? 1 : t.relayChecks > 0 ? 3 * w : 3 }
    }

    mutating func plan() {
        var rng = SynthRandom(state: seed)
        let w = weights()
        let totalWeight = w.reduce(0, +)
        var allocations = 0
        var relayBase = 0
        var id = 0
        while allocations < allocationsWanted || instances.isEmpty {
            var pick = rng.unit() * totalWeight
            var k = 0
            while k < w.count - 1 && pick >= w[k] { pick -= w[k]; k += 1 }
            let t = templates[k]
            drawn[t.name, default: 0] += 1
            let start = Int64(rng.unit() * spread * 1e9)
            instances.append(Instance(id: id, template: t, start: start, relayBase: relayBase))
            relayBase += t.relayEndpoints.count
            allocations += t.allocations
            id += 1
        }
        let oneTime = instances.reduce(0) { $0 + $1.template.packets.count - $1.template.relayIndices.count }
        let relayPerRound = instances.reduce(0) { $0 + $1.template.relayIndices.count }
        if relayPerRound > 0 {
            rounds = max(1, Int(Double(packets - oneTime) / Double(relayPerRound) + 0.999))
        }
        for inst in instances { inst.poolEpoch = 1_000_000 }
    }

    private func scale(_ t: SynthTemplate) -> Double {
        let span = t.relayEnd - t.relayStart
        return span > SynthGenerator.maxRoundSpan ? Double(SynthGenerator.maxRoundSpan) / Double(span) : 1
    }

    /// Fills the instance's next non-empty batch of packets (sorted by time); false when it has no more.
    private func refill(_ inst: Instance) -> Bool {
        while fillNext(inst) {
            if !inst.batch.isEmpty { return true }
        }
        return false
    }

    private func fillNext(_ inst: Instance) -> Bool {
        let t = inst.template
        inst.batch.removeAll(keepingCapacity: true)
        inst.cursor = 0
        let relay = !t.relayIndices.isEmpty
        let s = scale(t)
        let span = Int64(Double(t.relayEnd - t.relayStart) * s)
        let period = span + SynthGenerator.roundGap
        func oneTime(_ time: Int64) -> Int64 {
            if !relay || time <= t.relayStart { return time }
            if time <= t.relayEnd { return t.relayStart + Int64(Double(time - t.relayStart) * s) }
            return time - t.relayEnd + t.relayStart + span + Int64(rounds - 1) * period
        }
        let r = inst.round
        if !relay {
            guard r == 0 else { return false }
            for i in t.packets.indices { inst.batch.append((t.packets[i].time, i, 0)) }
        } else {
            guard r <= rounds else { return false }
            if r == 0 {
                for i in t.packets.indices where !t.packets[i].relay && t.packets[i].time <= t.relayEnd {
                    inst.batch.append((oneTime(t.packets[i].time), i, 0))
                }
            }
            if r == rounds {
                for i in t.packets.indices where !t.packets[i].relay && t.packets[i].time > t.relayEnd {
                    inst.batch.append((oneTime(t.packets[i].time), i, 0))
                }
            } else {
                let roundStart = t.relayStart + Int64(r) * period
                for i in t.relayIndices {
                    inst.batch.append((roundStart + Int64(Double(t.packets[i].time - t.relayStart) * s), i, r + 1))
                }
                if !t.pool.isEmpty {
                    inst.poolDebt += Double(period) / Double(SynthGenerator.controlEvery)
                    var at = roundStart + span + SynthGenerator.roundGap / 4
                    while inst.poolDebt >= 1 {
                        let pair = t.pool[inst.poolNext % t.pool.count]
                        inst.poolNext += 1
                        inst.poolEpoch += 1
                        let rtt = min(t.packets[pair.response].time - t.packets[pair.request].time, SynthGenerator.roundGap / 8)
                        inst.batch.append((at, pair.request, inst.poolEpoch))
                        inst.batch.append((at + max(rtt, 1000), pair.response, inst.poolEpoch))
                        at += 2000
                        inst.poolDebt -= 1
                    }
                }
            }
        }
        inst.round += 1
        for k in inst.batch.indices { inst.batch[k].time += inst.start }
        inst.batch.sort { $0.time < $1.time || ($0.time == $1.time && $0.packet < $1.packet) }
        return true
    }

    mutating func write(to path: String) throws -> SynthSummary {
        plan()
        guard let file = fopen(path, "wb") else { throw SynthError("\(path): cannot create") }
        defer { fclose(file) }
        var out: [UInt8] = []
        out.reserveCapacity(1 << 22)
        // Classic pcap, microseconds, Ethernet.
        for v: UInt32 in [0xa1b2_c3d4] { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        for v: UInt16 in [2, 4] { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        for v: UInt32 in [0, 0, 262_144, 1] { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }

        // Min-heap of (next time, instance) over all instances.
        var heap: [(Int64, Int)] = []
        for inst in instances where refill(inst) { heap.append((inst.batch[0].time, inst.id)) }
        func less(_ a: (Int64, Int), _ b: (Int64, Int)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) }
        func siftDown(_ h: inout [(Int64, Int)], _ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < h.count && less(h[l], h[m]) { m = l }
                if r < h.count && less(h[r], h[m]) { m = r }
                if m == i { return }
                h.swapAt(i, m)
                i = m
            }
        }
        func siftUp(_ h: inout [(Int64, Int)], _ start: Int) {
            var i = start
            while i > 0 {
                let p = (i - 1) / 2
                if !less(h[i], h[p]) { return }
                h.swapAt(i, p)
                i = p
            }
        }
        for i in stride(from: heap.count / 2, through: 0, by: -1) { siftDown(&heap, i) }

        var summary = SynthSummary()
        summary.instances = instances.count
        summary.allocations = instances.reduce(0) { $0 + $1.template.allocations }
        summary.rounds = rounds
        var frame: [UInt8] = []
        var firstTime: Int64?
        var lastTime: Int64 = 0
        while summary.packets < packets, let top = heap.first {
            let inst = instances[top.1]
            let item = inst.batch[inst.cursor]
            let tp = inst.template.packets[item.packet]
            frame.removeAll(keepingCapacity: true)
            frame.append(contentsOf: tp.frame)
            rewrite(&frame, tp, inst, epoch: item.epoch)
            let time = SynthGenerator.baseTime + item.time
            if firstTime == nil { firstTime = time }
            lastTime = time
            let sec = UInt32(time / 1_000_000_000), usec = UInt32((time % 1_000_000_000) / 1000)
            for v in [sec, usec, UInt32(frame.count), UInt32(frame.count)] { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
            out.append(contentsOf: frame)
            if out.count >= 1 << 22 {
                guard out.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == out.count else { throw SynthError("\(path): write failed") }
                out.removeAll(keepingCapacity: true)
            }
            summary.packets += 1
            if tp.relay {
                if SynthTemplate.carriesStun(tp.frame, tp.udp + 8, tp.frame.count) { summary.relayedChecks += 1 } else { summary.relayPackets += 1 }
            }
            inst.cursor += 1
            if inst.cursor == inst.batch.count && !refill(inst) {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            } else {
                heap[0] = (inst.batch[inst.cursor].time, inst.id)
            }
            if !heap.isEmpty { siftDown(&heap, 0) }
        }
        _ = siftUp
        guard out.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == out.count else { throw SynthError("\(path): write failed") }
        summary.duration = Double(lastTime - (firstTime ?? lastTime)) / 1e9
        return summary
    }

    // MARK: Rewriting

    /// Client and peer addresses: 100.64.0.0/10, 64 per session.
    private func mapIP(_ ip: UInt32, _ inst: Instance) -> UInt32 {
        if inst.template.serverIPs.contains(ip) { return ip }
        let slot = inst.template.clientSlot(ip) & 63
        return 0x6440_0000 | UInt32((inst.id * 64 + slot) & 0x3f_ffff)
    }

    private func mapEndpoint(_ ip: UInt32, _ port: UInt16, _ inst: Instance) -> (UInt32, UInt16) {
        let t = inst.template
        if t.serverIPs.contains(ip) {
            if let k = t.relayEndpoints[UInt64(ip) << 16 | UInt64(port)] {
                return (ip, UInt16(49_152 + (inst.relayBase + k) % 16_384))
            }
            return (ip, port)
        }
        return (mapIP(ip, inst), port)
    }

    private func mapChannel(_ c: UInt16, _ inst: Instance) -> UInt16 {
        guard (0x4000...0x4fff).contains(c) else { return c }
        return 0x4000 | UInt16((Int(c - 0x4000) + inst.id * 7) & 0x0fff)
    }

    private func rewrite(_ f: inout [UInt8], _ tp: SynthTemplate.Packet, _ inst: Instance, epoch: Int) {
        let ip = tp.ip, udp = tp.udp
        let (sip, sport) = mapEndpoint(SynthBytes.be32(f, ip + 12), SynthBytes.be16(f, udp), inst)
        let (dip, dport) = mapEndpoint(SynthBytes.be32(f, ip + 16), SynthBytes.be16(f, udp + 2), inst)
        SynthBytes.put32(&f, ip + 12, sip)
        SynthBytes.put32(&f, ip + 16, dip)
        SynthBytes.put16(&f, udp, sport)
        SynthBytes.put16(&f, udp + 2, dport)
        let serverFlow = SynthTemplate.serverPorts.contains(sport) || SynthTemplate.serverPorts.contains(dport)
        rewritePayload(&f, udp + 8, f.count, inst, epoch: epoch, channelData: serverFlow, depth: 0)
        // IPv4 header checksum.
        let ihl = Int(f[ip] & 0x0f) * 4
        SynthBytes.put16(&f, ip + 10, 0)
        var sum: UInt32 = 0
        var o = ip
        while o < ip + ihl { sum &+= UInt32(SynthBytes.be16(f, o)); o += 2 }
        SynthBytes.put16(&f, ip + 10, SynthGenerator.fold(sum))
        // UDP checksum over the pseudo-header.
        SynthBytes.put16(&f, udp + 6, 0)
        let udpLength = f.count - udp
        sum = (sip >> 16) &+ (sip & 0xffff) &+ (dip >> 16) &+ (dip & 0xffff) &+ 17 &+ UInt32(udpLength)
        o = udp
        while o + 1 < f.count { sum &+= UInt32(SynthBytes.be16(f, o)); o += 2 }
        if o < f.count { sum &+= UInt32(f[o]) << 8 }
        var check = SynthGenerator.fold(sum)
        if check == 0 { check = 0xffff }
        SynthBytes.put16(&f, udp + 6, check)
    }

    static func fold(_ s: UInt32) -> UInt16 {
        var sum = s
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private func rewritePayload(_ f: inout [UInt8], _ start: Int, _ end: Int, _ inst: Instance, epoch: Int, channelData: Bool, depth: Int) {
        guard end > start else { return }
        if SynthStun.header(f, start, end) != nil {
            rewriteStun(&f, start, end, inst, epoch: epoch, depth: depth)
            return
        }
        if channelData, depth == 0, end - start >= 4, (0x40...0x7f).contains(f[start]) {
            let length = Int(SynthBytes.be16(f, start + 2))
            SynthBytes.put16(&f, start, mapChannel(SynthBytes.be16(f, start), inst))
            if start + 4 + length <= end {
                rewritePayload(&f, start + 4, start + 4 + length, inst, epoch: epoch, channelData: false, depth: depth + 1)
            }
            return
        }
        // Application data: vary bytes 4..<12 per session and round, keeping the RFC 7983 class bytes.
        guard epoch > 0 || depth > 0 else { return }
        var x = SynthRandom.mix(seed ^ UInt64(inst.id) &* 0x1000_0000_01b3 ^ UInt64(epoch) &* 0x9E37_79B9)
        var o = start + 4
        while o < min(end, start + 12) {
            f[o] ^= UInt8(truncatingIfNeeded: x)
            x >>= 8
            o += 1
        }
    }

    private func rewriteStun(_ f: inout [UInt8], _ start: Int, _ end: Int, _ inst: Instance, epoch: Int, depth: Int) {
        // New transaction id: a function of (seed, session, epoch, old id), so every copy of a message agrees.
        var h = seed ^ 0x5354_554E
        h = SynthRandom.mix(h ^ UInt64(inst.id))
        h = SynthRandom.mix(h ^ UInt64(epoch))
        for o in stride(from: start + 8, to: start + 20, by: 4) { h = SynthRandom.mix(h ^ UInt64(SynthBytes.be32(f, o))) }
        let oldHeader = Array(f[start..<(start + 20)])
        let h2 = SynthRandom.mix(h ^ 0xA5A5)
        SynthBytes.put32(&f, start + 8, UInt32(truncatingIfNeeded: h >> 32))
        SynthBytes.put32(&f, start + 12, UInt32(truncatingIfNeeded: h))
        SynthBytes.put32(&f, start + 16, UInt32(truncatingIfNeeded: h2))
        var fingerprint: Int?
        var o = start + 20
        while end - o >= 4 {
            let type = SynthBytes.be16(f, o)
            let len = Int(SynthBytes.be16(f, o + 2))
            let v = o + 4
            guard v + len <= end else { break }
            switch type {
            case 0x0012, 0x0016, 0x0020, 0x8020: // XOR-PEER / XOR-RELAYED / XOR-MAPPED
                if len == 8, f[v + 1] == 1 {
                    let port = SynthBytes.be16(f, v + 2) ^ 0x2112
                    let addr = SynthBytes.be32(f, v + 4) ^ 0x2112_A442
                    let (na, np) = mapEndpoint(addr, port, inst)
                    SynthBytes.put16(&f, v + 2, np ^ 0x2112)
                    SynthBytes.put32(&f, v + 4, na ^ 0x2112_A442)
                } else if len == 20, f[v + 1] == 2 {
                    for k in 0..<16 { f[v + 4 + k] ^= oldHeader[4 + k] ^ f[start + 4 + k] }
                }
            case 0x0001, 0x0002, 0x0004, 0x0005, 0x000B, 0x8023, 0x802B, 0x802C: // plain addresses
                if len == 8, f[v + 1] == 1 {
                    let (na, np) = mapEndpoint(SynthBytes.be32(f, v + 4), SynthBytes.be16(f, v + 2), inst)
                    SynthBytes.put16(&f, v + 2, np)
                    SynthBytes.put32(&f, v + 4, na)
                }
            case 0x000C: // CHANNEL-NUMBER
                if len >= 2 { SynthBytes.put16(&f, v, mapChannel(SynthBytes.be16(f, v), inst)) }
            case 0x0013: // DATA: the relayed payload, maybe an ICE check
                rewritePayload(&f, v, v + len, inst, epoch: epoch, channelData: false, depth: depth + 1)
            case 0x8028:
                if len == 4 { fingerprint = o }
            default:
                break
            }
            o = v + ((len + 3) & ~3)
        }
        if let fp = fingerprint {
            var crc = CRC32Synth()
            crc.update(f, start, fp)
            SynthBytes.put32(&f, fp + 4, crc.value ^ 0x5354_554E)
        }
    }
}

struct CRC32Synth {
    var state: UInt32 = 0xffff_ffff
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    mutating func update(_ b: [UInt8], _ from: Int, _ to: Int) {
        var c = state
        for o in from..<to { c = CRC32Synth.table[Int((c ^ UInt32(b[o])) & 0xff)] ^ (c >> 8) }
        state = c
    }
    var value: UInt32 { state ^ 0xffff_ffff }
}
