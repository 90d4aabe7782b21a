import NetworkVocabulary
import ArgumentParser
import Foundation

/// `stunscope-synth`, a developer tool: builds a big, realistic TURN server
/// capture from the small real ones in `captures/`, for benchmarks
/// (`scripts/bench`, docs/PERFORMANCE.md).
///
/// Every template capture (the server's vantage point of a real coturn /
/// aioice session) is replayed many times as independent sessions: each
/// replay gets its own client and peer addresses, its own relay ports on
/// the server, its own transaction ids and channel numbers, and a start time
/// spread over a window, so that replays interleave as a busy server sees
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
/// Fields are kept valid: STUN messages are parsed with StunWire's views and
/// written again with `StunMessage.emit` (XOR-mapped addresses re-XORed for
/// the new transaction id, FINGERPRINT recomputed, also in nested messages);
/// IPv4 header and UDP checksums are recomputed. MESSAGE-INTEGRITY cannot be
/// recomputed without the passwords: it is kept as it was (so it checks as
/// `invalid` with credentials and `unchecked` without).
///
/// The number of sessions does not depend on `--packets`: bigger captures
/// have longer relay phases, so memory measured against packet count shows
/// growth with packets rather than with sessions. Deterministic for a seed.
@main
struct StunScopeSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stunscope-synth",
        abstract: "Developer tool: generate a big TURN-server capture from the real captures (benchmarks).",
        discussion: """
        Mixes (--mix): default: 2,000 allocations, 85 % relay data, 15 % relayed ICE checks. \
        relay-heavy: the default's generator over the templates without relayed ICE checks, 1,300 allocations \
        (ChannelData, Send/Data and peer-leg data). control-heavy: a public TURN/STUN server's busy hour: \
        short allocations, ICE sessions with relayed checks, one-shot and keepalive Binding clients, each \
        session played once, so sessions follow --packets (or --sessions); --max-alive bounds how many \
        are alive at once.
        """
    )

    @Option(help: ArgumentHelp("Named mix of sessions: default, relay-heavy or control-heavy.", valueName: "mix"))
    var mix: SynthMix = .standard

    @Option(help: "Packets to write (default 2,000,000; with --sessions: all their packets).")
    var packets: Int?

    @Option(help: "default and relay-heavy: at least this many TURN allocations (client 5-tuples sending Allocate); default 2,000, relay-heavy 1,300.")
    var allocations: Int?

    @Option(help: "default and relay-heavy: share of relay packets carrying application data (ChannelData, Send/Data, peer leg), 0..1; the rest is STUN control and relayed ICE checks (default 0.85; relay-heavy has no relayed checks).")
    var relayShare: Double?

    @Option(help: "Seconds over which session starts are spread (default 60; control-heavy 1,800).")
    var spread: Double?

    @Option(help: "default and relay-heavy: seconds of relay phase per replayed in-session exchange (Refresh, CreatePermission, ChannelBind); 0: none, so that more packets are only more relay packets (default 10).")
    var controlEvery: Double?

    @Option(help: "control-heavy: this many sessions (replays), however many packets they make.")
    var sessions: Int?

    @Option(help: "control-heavy: at most this many sessions alive at once (a session waits for a free slot); a session is alive until its allocations are deleted or expire, else 30 s after its last packet.")
    var maxAlive: Int?

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
        if let packets, packets < 1 { throw ValidationError("--packets must be positive") }
        if let relayShare, !(0...1).contains(relayShare) { throw ValidationError("--relay-share must be within 0...1") }
        if let sessions, sessions < 1 { throw ValidationError("--sessions must be positive") }
        if let maxAlive, maxAlive < 1 { throw ValidationError("--max-alive must be positive") }
        if let controlEvery, controlEvery < 0 { throw ValidationError("--control-every must not be negative") }
        if mix == .controlHeavy {
            if allocations != nil || relayShare != nil || controlEvery != nil {
                throw ValidationError("--allocations, --relay-share and --control-every do not apply to the control-heavy mix (its sessions follow --packets or --sessions, each played once)")
            }
        } else if sessions != nil || maxAlive != nil {
            throw ValidationError("--sessions and --max-alive apply to the control-heavy mix only")
        }
    }

    func run() throws {
        var paths = templates
        if paths.isEmpty {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: captures)) ?? []
            paths = names.filter { $0.hasSuffix(".server.pcap") || $0.hasSuffix(".turn-server.pcap") }
                .sorted().map { captures + "/" + $0 }
        }
        var loaded: [TemplateCapture] = []
        var skipped: [String] = []
        for path in paths {
            do {
                let template = try TemplateCapture(path: path)
                if let reason = mix.rejects(template) {
                    skipped.append("\(path) (\(reason))")
                    continue
                }
                loaded.append(template)
            } catch {
                skipped.append("\(path) (\(error))")
            }
        }
        guard !loaded.isEmpty else { throw ValidationError("no usable template capture in \(paths)") }
        let spread = spread ?? mix.spread
        let generator: SynthGenerator
        var shown = loaded
        switch mix {
        case .standard, .relayHeavy:
            let packets = packets ?? 2_000_000
            let draw = AllocationDraw(templates: loaded, packets: packets, allocationsWanted: allocations ?? mix.allocations,
                                      relayShare: relayShare ?? mix.relayShare, spread: spread, seed: seed,
                                      controlEvery: controlEvery.map { $0 > 0 ? Int64($0 * 1e9) : nil } ?? ReplayTiming.controlEvery)
            let (replays, rounds) = draw.replays()
            generator = SynthGenerator(replays: replays, rounds: rounds, packetLimit: packets, seed: seed)
        case .controlHeavy:
            let mixed = ControlHeavyMix(loaded: loaded)
            shown = mixed.all
            // One relay round: a replayed control exchange would need 10 s of relay phase.
            let footprints = shown.reduce(into: [ObjectIdentifier: SessionFootprint]()) {
                $0[ObjectIdentifier($1)] = SessionFootprint(template: $1, rounds: 1, controlEvery: ReplayTiming.controlEvery)
            }
            let arrivals = mixed.arrivals(packets: packets ?? 2_000_000, sessions: sessions, spread: spread, seed: seed, footprints: footprints)
            let replays = SessionSchedule.replays(arriving: arrivals, footprints: footprints, maxAlive: maxAlive)
            generator = SynthGenerator(replays: replays, rounds: 1, packetLimit: sessions == nil ? packets ?? 2_000_000 : packets, seed: seed)
        }
        let summary = try generator.write(to: output)
        if !quiet {
            FileHandle.standardError.write(report(summary, generator: generator, shown: shown, skipped: skipped).data(using: .utf8)!)
        }
    }

    private func report(_ summary: SynthSummary, generator: SynthGenerator, shown: [TemplateCapture], skipped: [String]) -> String {
        let relayPercent = String(format: "%.1f", 100 * Double(summary.relayPackets) / Double(max(1, summary.packets)))
        let control = summary.packets - summary.relayPackets - summary.relayedChecks
        var report = "synth: \(summary.packets) packets, \(summary.replays) sessions, \(summary.allocations) allocations, "
        report += "\(summary.relayPackets) relay data (\(relayPercent) %), "
        report += "\(summary.relayedChecks) relayed ICE checks, \(control) control, "
        report += "\(summary.rounds) relay rounds, \(String(format: "%.1f", summary.duration)) s -> \(output)\n"
        report += "  mix \(mix.rawValue): at most \(summary.maxAlive) sessions alive at once "
        report += "(alive until its allocations are deleted or expire, else 30 s after its last packet)\n"
        let drawn = generator.drawn
        for template in shown {
            report += "  template \(template.name): \(template.packets.count) packets, \(template.relayIndices.count) relay "
            report += "(\(template.relayChecks) ICE checks), \(template.allocations) allocations, "
            report += "\(template.controlPairs.count) control pairs, drawn \(drawn[template.name] ?? 0) times\n"
        }
        for line in skipped { report += "  skipped \(line)\n" }
        return report
    }
}

/// Why a template capture cannot be used, or the output not written.
struct SynthError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
