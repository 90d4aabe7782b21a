import ArgumentParser
import Pipeline

/// Options every command that reads capture files shares.
struct CaptureOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Capture files (pcap or pcapng). Several files are merged in timestamp order (analyze and export with --jobs above 1, the default on several cores: each file is analysed on its own and the results merged).",
                                 valueName: "capture"))
    var captures: [String]

    @Option(name: .long, help: ArgumentHelp("BPF filter applied to every packet (tcpdump syntax). Frame numbers stay those of the file.",
                                            valueName: "expr"))
    var filter: String?

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file") }
    }

    /// What the pipeline reads.
    var captureInput: CaptureInput { CaptureInput(captures: captures, filter: filter) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, ndjson
}
