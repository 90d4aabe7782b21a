import ArgumentParser

/// The benchmark's named mixes (scripts/bench and docs/PERFORMANCE.md refer
/// to them by name), and what each takes from the templates.
enum SynthMix: String, CaseIterable, ExpressibleByArgument {
    /// 2,000 allocations, 85 % relay data and 15 % relayed ICE checks.
    case standard = "default"
    /// The default's generator without the templates whose relay carries ICE
    /// checks: 1,300 allocations of ChannelData, Send/Data and peer-leg data.
    case relayHeavy = "relay-heavy"
    /// A public TURN/STUN server's busy hour (`ControlHeavyMix`).
    case controlHeavy = "control-heavy"

    var allocations: Int { self == .relayHeavy ? 1_300 : 2_000 }
    var relayShare: Double { self == .relayHeavy ? 1 : 0.85 }
    /// Seconds over which starts are spread: the control-heavy mix's
    /// sessions, played once each, would otherwise crowd into a minute.
    var spread: Double { self == .controlHeavy ? 1_800 : 60 }

    /// Why the mix cannot use a template, or nil.
    func rejects(_ template: TemplateCapture) -> String? {
        switch self {
        case .standard:
            return template.allocations == 0 ? "no UDP Allocate" : nil
        case .relayHeavy:
            if template.allocations == 0 { return "no UDP Allocate" }
            return template.relayChecks > 0 ? "relayed ICE checks" : nil
        case .controlHeavy:
            return template.allocations == 0 && !template.answersBinding ? "no UDP Allocate or Binding answer" : nil
        }
    }
}
