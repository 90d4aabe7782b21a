import ArgumentParser
import CaptureSource
import Renderers

/// `stunscope interfaces`: what `live --interface` can open.
struct InterfacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interfaces",
        abstract: "List capture interfaces with their addresses and flags (pcap_findalldevs)."
    )

    func run() throws {
        let list: [CaptureInterface]
        do { list = try CaptureInterface.all() } catch {
            StandardError.report("\(error)")
            throw ExitStatus.liveCaptureError
        }
        let out = FileDescriptorOutput.standardOutput
        for i in list {
            var line = i.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            line += " [" + i.flags.joined(separator: ",") + "]"
            if !i.addresses.isEmpty { line += " " + i.addresses.joined(separator: " ") }
            if let d = i.description { line += "  (\(d))" }
            out.write(line + "\n")
        }
        out.flush()
    }
}
