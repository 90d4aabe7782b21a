import TestSupport

/// The control-heavy mix: what a public TURN/STUN server sees in a busy
/// hour. Many short allocations (Allocate, 401, Allocate again,
/// CreatePermission or ChannelBind, a little relay data, Refresh 0), ICE
/// sessions whose checks go through the relay, and Binding-only clients:
/// mostly one-shot Binding transactions, some that keep their binding
/// alive or test their NAT. Each replay plays its template once (one relay
/// round), so the number of sessions follows the packet count.
struct ControlHeavyMix {
    /// Kinds of client, each drawn with its share; templates within a kind
    /// are drawn alike.
    enum Kind: CaseIterable {
        /// coturn's own client with channels or Send indications: 401,
        /// Allocate, permissions, a little data, Refresh 0.
        case shortAllocation
        /// Every other template with a UDP allocation and no relayed ICE
        /// checks: refusals, quotas, stale nonces, wrong passwords, expiry.
        case otherAllocation
        /// ICE agents whose checks go through the relay.
        case iceSession
        /// Binding-only clients with several exchanges: keepalives, RFC 5780 NAT tests.
        case bindingClient
        /// A Binding request and its answer, nothing else (`oneShotBindings`).
        case oneShotBinding

        /// Draw shares, chosen so that at 2M packets a third of the packets
        /// are short allocations, 5 % other allocations, 12 % ICE sessions,
        /// 13 % Binding clients with several exchanges and 37 % one-shot
        /// Binding transactions: about 45,000 allocations in 410,000 sessions.
        var share: Double {
            switch self {
            case .shortAllocation: 0.0355
            case .otherAllocation: 0.0066
            case .iceSession: 0.0141
            case .bindingClient: 0.0502
            case .oneShotBinding: 0.8936
            }
        }
    }

    static let shortAllocationTemplates: Set<String> = ["turn-udp-channels.server.pcap", "turn-udp-send.server.pcap"]

    static func kind(of template: TemplateCapture) -> Kind? {
        if shortAllocationTemplates.contains(template.name) { return .shortAllocation }
        if template.allocations > 0 { return template.relayChecks > 0 ? .iceSession : .otherAllocation }
        return template.answersBinding ? .bindingClient : nil
    }

    /// The templates of each kind: the loaded ones by `kind(of:)`, and the
    /// one-shot Binding exchanges cut out of all of them.
    let templates: [Kind: [TemplateCapture]]

    init(loaded: [TemplateCapture]) {
        var templates: [Kind: [TemplateCapture]] = [:]
        for template in loaded {
            if let kind = Self.kind(of: template) { templates[kind, default: []].append(template) }
        }
        templates[.oneShotBinding] = loaded.flatMap { $0.oneShotBindings() }
        self.templates = templates.filter { !$0.value.isEmpty }
    }

    var all: [TemplateCapture] { Kind.allCases.flatMap { templates[$0] ?? [] } }

    /// Clients drawn by kind, each with a wished start in `spread` seconds,
    /// until there are `sessions` of them or their packets reach `packets`.
    func arrivals(packets: Int, sessions: Int?, spread: Double, seed: UInt64,
                  footprints: [ObjectIdentifier: SessionFootprint]) -> [(template: TemplateCapture, start: Int64)] {
        let kinds = Kind.allCases.filter { templates[$0] != nil }
        let totalShare = kinds.reduce(0) { $0 + $1.share }
        var random = SplitMix64(seed: seed)
        var arrivals: [(template: TemplateCapture, start: Int64)] = []
        var written = 0
        while sessions.map({ arrivals.count < $0 }) ?? (written < packets) {
            var pick = random.nextUnit() * totalShare
            var kind = kinds[kinds.count - 1]
            for candidate in kinds {
                if pick < candidate.share { kind = candidate; break }
                pick -= candidate.share
            }
            guard let choices = templates[kind] else { preconditionFailure("only kinds with templates are drawn") }
            let template = choices[Int(random.next() % UInt64(choices.count))]
            arrivals.append((template, Int64(random.nextUnit() * spread * 1e9)))
            written += footprints[ObjectIdentifier(template)]?.packets ?? 0
        }
        return arrivals
    }
}
