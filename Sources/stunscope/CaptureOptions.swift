import ArgumentParser
import Pipeline

/// Options every command that reads capture files shares.
struct CaptureOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Capture files (pcap or pcapng). Several files are read as one stream in timestamp order (ties: file order, then frame order): rotated sets continue their sessions. analyze and export: the same packet captured at two points (another file, same 5-tuple and bytes, within 5 ms) is one packet, not a retransmission.",
                                 valueName: "capture"))
    var captures: [String] = []

    @Option(name: .long, help: ArgumentHelp("BPF filter applied to every packet (tcpdump syntax). Frame numbers stay those of the file.",
                                            valueName: "expr"))
    var filter: String?

    /// Each command checks this in its own `validate()` (analyze also takes its files from `--vantage`).
    func requireCaptures() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file") }
    }

    /// What the pipeline reads.
    var captureInput: CaptureInput { CaptureInput(captures: captures, filter: filter) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, ndjson
}
