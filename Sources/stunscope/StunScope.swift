import ArgumentParser

@main
struct StunScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stunscope",
        abstract: "Rebuild STUN, TURN and ICE sessions from packet captures.",
        discussion: """
        StunScope reads pcap/pcapng files (or a live interface) through libpcap, \
        dissects every STUN message and TURN ChannelData frame, and rebuilds TURN \
        allocations, relay legs, Binding sessions and ICE handshakes into timelines.

        Exit status: 0 success; 2 a capture could not be (fully) read or a filter \
        is invalid (everything read before the damage is still reported); \
        3 live capture failed (interface missing, permission denied); \
        64 command-line usage error; 70 internal error.
        """,
        subcommands: [StatsCommand.self, MessagesCommand.self, AnalyzeCommand.self, ExportCommand.self, LiveCommand.self, InterfacesCommand.self]
    )
}
