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
        abstract: "Developer tool: generate a big TURN-server capture from the real captures (benchmarks)."
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
        var loaded: [TemplateCapture] = []
        var skipped: [String] = []
        for path in paths {
            do {
                let template = try TemplateCapture(path: path)
                if template.allocations == 0 {
                    skipped.append("\(path) (no UDP Allocate)")
                    continue
                }
                loaded.append(template)
            } catch {
                skipped.append("\(path) (\(error))")
            }
        }
        guard !loaded.isEmpty else { throw ValidationError("no usable template capture in \(paths)") }
        var generator = SynthGenerator(templates: loaded, packets: packets, allocations: allocations,
                                       relayShare: relayShare, spread: spread, seed: seed)
        let summary = try generator.write(to: output)
        if !quiet {
            FileHandle.standardError.write(report(summary, generator: generator, loaded: loaded, skipped: skipped).data(using: .utf8)!)
        }
    }

    private func report(_ summary: SynthSummary, generator: SynthGenerator, loaded: [TemplateCapture], skipped: [String]) -> String {
        let relayPercent = String(format: "%.1f", 100 * Double(summary.relayPackets) / Double(max(1, summary.packets)))
        let control = summary.packets - summary.relayPackets - summary.relayedChecks
        var report = "synth: \(summary.packets) packets, \(summary.replays) sessions, \(summary.allocations) allocations, "
        report += "\(summary.relayPackets) relay data (\(relayPercent) %), "
        report += "\(summary.relayedChecks) relayed ICE checks, \(control) control, "
        report += "\(summary.rounds) relay rounds, \(String(format: "%.1f", summary.duration)) s -> \(output)\n"
        for template in loaded {
            report += "  template \(template.name): \(template.packets.count) packets, \(template.relayIndices.count) relay "
            report += "(\(template.relayChecks) ICE checks), \(template.allocations) allocations, "
            report += "\(template.controlPairs.count) control pairs, drawn \(generator.drawn[template.name] ?? 0) times\n"
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
