import ArgumentParser

// Placeholder until the dissector lands (issue 4); replaced by its owner.
struct MessagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "messages", abstract: "One line per STUN message or ChannelData frame.")
    func run() throws { throw ExitStatus.internalError }
}
