import NetworkVocabulary
import OrderedCollections

/// A reflexive address a server returned to a local endpoint (Binding or Allocate response).
struct ReflexiveObservation {
    var server: Endpoint
    var reflexive: Endpoint
    var frame: Int
}

/// Plain Binding exchanges (server discovery, keepalives, RFC 3489 / 5780
/// NAT tests) per client 5-tuple, and the NAT view they add up to.
struct BindingSessionTracker {
    final class Session {
        let id: Int
        let flow: FiveTuple   // client -> server
        let start: CaptureTime
        var firstFrame = 0
        var last: CaptureTime
        var classic = false
        var requests = 0
        var responses = 0
        var errorResponses = 0
        var indications = 0
        var retransmissions = 0
        /// Distinct reflexive addresses, in the order first returned.
        var reflexive: OrderedSet<Endpoint> = []
        var rtts: [Double] = []
        var keepaliveTimes: [CaptureTime] = []
        var software: String?
        var natTests: [NatTest] = []
        var openTests: [TransactionKeyBits: Int] = [:]
        var otherAddress: Endpoint?
        var responseOrigin: Endpoint?
        var changedAddress: Endpoint?
        init(id: Int, flow: FiveTuple, start: CaptureTime) {
            self.id = id
            self.flow = flow
            self.start = start
            self.last = start
        }
    }

    private(set) var sessions: [Session] = []
    private var byFlow: [FiveTuple: Session] = [:]
    private var nextId = 1
    var maxSessions = 20_000
    var maxKeepaliveSamples = 10_000
    private(set) var evicted = 0
    /// Reflexive addresses per local endpoint, from Binding and Allocate responses; locals in the order first answered.
    private(set) var reflexiveByLocal: OrderedDictionary<Endpoint, [ReflexiveObservation]> = [:]

    /// `requestFlow`: the 5-tuple of the request a response answered, when the transaction matcher
    /// matched it (a NAT test's answer comes from another server address/port or goes to RESPONSE-PORT).
    mutating func handle(_ m: ObservedStunMessage, rtt: Double?, retransmission: Bool, requestFlow: FiveTuple? = nil) {
        let t = m.context.time
        switch m.messageClass {
        case .request, .indication:
            let s = session(for: m.flow, at: t)
            if s.firstFrame == 0 { s.firstFrame = m.context.frame }
            s.last = t
            if m.classic { s.classic = true }
            if m.messageClass == .indication { s.indications &+= 1 } else { s.requests &+= 1 }
            if retransmission { s.retransmissions &+= 1 } else if s.keepaliveTimes.count < maxKeepaliveSamples {
                s.keepaliveTimes.append(t)
            }
            if let sw = m.software, s.software == nil { s.software = sw }
            if m.hasChangeRequest || m.responsePort != nil, m.messageClass == .request, !retransmission {
                s.openTests[m.transactionKey] = s.natTests.count
                s.natTests.append(NatTest(frame: m.context.frame, changeIP: m.changeIP, changePort: m.changePort,
                                          responsePort: m.responsePort, answered: false, responseOrigin: nil, mapped: nil))
            }
        case .success, .error:
            guard let s = byFlow[requestFlow ?? m.flow.reversed] else { return }
            s.last = t
            if m.classic { s.classic = true }
            if m.messageClass == .error { s.errorResponses &+= 1; return }
            s.responses &+= 1
            if let r = rtt { s.rtts.append(r) }
            if let sw = m.software { s.software = sw }
            if let o = m.otherAddress { s.otherAddress = o }
            if let o = m.responseOrigin ?? m.sourceAddress { s.responseOrigin = o }
            if let c = m.changedAddress { s.changedAddress = c }
            let mapped = m.xorMapped ?? m.mapped
            if let x = mapped {
                s.reflexive.append(x)
                noteReflexive(local: s.flow.source, server: s.flow.destination, reflexive: x, frame: m.context.frame)
            }
            if let i = s.openTests.removeValue(forKey: m.transactionKey) {
                s.natTests[i].answered = true
                s.natTests[i].answerFrame = m.context.frame
                s.natTests[i].answeredFrom = m.flow.source.description
                s.natTests[i].responseOrigin = (m.responseOrigin ?? m.sourceAddress)?.description
                s.natTests[i].mapped = mapped?.description
            }
        }
    }

    /// Allocate responses also tell the client its reflexive address (XOR-MAPPED-ADDRESS).
    mutating func noteReflexive(local: Endpoint, server: Endpoint, reflexive: Endpoint, frame: Int) {
        if reflexiveByLocal[local] == nil {
            guard reflexiveByLocal.count < maxSessions else { return }
            reflexiveByLocal[local] = []
        }
        if reflexiveByLocal[local]!.contains(where: { $0.server == server && $0.reflexive == reflexive }) { return }
        if reflexiveByLocal[local]!.count < 64 {
            reflexiveByLocal[local]!.append(ReflexiveObservation(server: server, reflexive: reflexive, frame: frame))
        }
    }

    /// A Binding session without a packet for this long is over: typical NAT bindings
    /// expire after 30 s (the threshold of the keepalive-gap finding too).
    static let idleHorizonNanoseconds: Int64 = 30_000_000_000

    /// Sessions with a packet within the idle horizon before `now`.
    func aliveCount(at now: CaptureTime) -> Int {
        sessions.reduce(0) { $0 &+ (now.nanoseconds &- $1.last.nanoseconds <= BindingSessionTracker.idleHorizonNanoseconds ? 1 : 0) }
    }

    private mutating func session(for flow: FiveTuple, at t: CaptureTime) -> Session {
        if let s = byFlow[flow] { return s }
        if sessions.count >= maxSessions {
            // The oldest eighth at once: removing one from the front per new session
            // shifts the whole array each time (quadratic under a flood).
            let batch = min(sessions.count, max(1, maxSessions / 8))
            for oldest in sessions[0..<batch] where byFlow[oldest.flow] === oldest {
                byFlow.removeValue(forKey: oldest.flow)
            }
            sessions.removeFirst(batch)
            evicted &+= batch
        }
        let s = Session(id: nextId, flow: flow, start: t)
        nextId &+= 1
        sessions.append(s)
        byFlow[flow] = s
        return s
    }

    func summaries(findings: inout FindingCollector) -> [BindingSessionSummary] {
        sessions.map { s in
            var intervals: [Double] = []
            if s.keepaliveTimes.count > 1 {
                for i in 1..<s.keepaliveTimes.count { intervals.append(s.keepaliveTimes[i].seconds(since: s.keepaliveTimes[i - 1])) }
            }
            let longest = intervals.max()
            if let g = longest, g > 30 {
                findings.add(.warning, .stunKeepaliveGap,
                             "\(session: .binding(s.id)) (\(s.flow.source) -> \(s.flow.destination)): \(String(format: "%.1f", g)) s without a keepalive; typical NAT bindings expire after 30 s.",
                             frames: [], session: .binding(s.id))
            }
            // Unanswered requests are judged once, per transaction, with their frames
            // (SessionReconstructor's capture-wide findings), not again per session.
            return BindingSessionSummary(
                id: s.id, client: s.flow.source.description, server: s.flow.destination.description,
                transport: s.flow.transport, classic: s.classic,
                start: s.start.epochSeconds, end: s.last.epochSeconds,
                requests: s.requests, responses: s.responses, errorResponses: s.errorResponses,
                indications: s.indications, retransmissions: s.retransmissions,
                reflexive: s.reflexive.map(\.description), rtt: DelayStatistics(samples: s.rtts),
                keepaliveInterval: DelayStatistics(samples: intervals), longestGap: longest,
                software: s.software, natTests: s.natTests,
                otherAddress: s.otherAddress?.description, responseOrigin: s.responseOrigin?.description,
                changedAddress: s.changedAddress?.description)
        }
    }

    /// One local endpoint mapped to different reflexive addresses by different
    /// servers means the NAT's mapping depends on the destination: symmetric.
    /// RFC 5780 section 4.3: when two ports of one server IP already see
    /// different mappings, it depends on address and port.
    ///
    /// `fromPeers`: what ICE check responses told the checking hosts (the peer
    /// in `server`); kept where they show a NAT (another address) or add to a
    /// host the servers answered.
    func natMappings(fromPeers: OrderedDictionary<Endpoint, [ReflexiveObservation]> = [:],
                     findings: inout FindingCollector) -> [NatMappingSummary] {
        var described = Set<Endpoint>()
        // Each host's NAT tests, gathered once: looked up per local endpoint, a scan of every
        // session per endpoint made a public STUN server's summary quadratic.
        var testsByHost: [IPAddress: [NatTest]] = [:]
        for s in sessions where !s.natTests.isEmpty { testsByHost[s.flow.source.address, default: []] += s.natTests }
        // Hosts whose mapping behaviour a NAT test shows from outside: their endpoints are described there.
        var out = mappingTestsSeenOutside(described: &described, findings: &findings)
        let hostsSeenOutside = Set(out.compactMap { Endpoint($0.local)?.address })
        var all = reflexiveByLocal
        for (local, obs) in fromPeers where all[local] != nil || obs.contains(where: { $0.reflexive != local }) {
            all[local, default: []] += obs
        }
        for (local, obs) in all where !obs.isEmpty && !hostsSeenOutside.contains(local.address) {
            described.insert(local)
            let servers = Set(obs.map(\.server))
            let reflexives = Set(obs.map(\.reflexive))
            let behavior: NatBehavior
            var explanation: String
            if reflexives == [local] {
                behavior = .none
                explanation = "\(servers.count == 1 ? "The server" : "\(servers.count) servers") saw \(local) as itself: no NAT between it and \(servers.count == 1 ? "the server" : "them") (or the capture was taken outside the NAT)."
            } else if servers.count < 2 {
                behavior = .unknown
                explanation = reflexives.count == 1
                    ? "Only one server was asked; \(local) is seen as \(obs[0].reflexive) by \(obs[0].server)."
                    : "One server reported several reflexive addresses for \(local); the NAT re-mapped it during the capture."
            } else if Dictionary(grouping: obs, by: \.server).values.contains(where: { Set($0.map(\.reflexive)).count > 1 }) {
                // One server, several answers: the mapping changed under the same destination (a NAT
                // that re-maps, a pool of exit addresses, a VPN): not a per-destination mapping.
                behavior = .unknown
                explanation = "The same server reported several reflexive addresses for \(local) (\(reflexives.count) in all): the mapping changed during the capture even towards one destination (re-mapping NAT, exit pool or VPN), so its behaviour per destination cannot be told."
            } else if reflexives.count == 1 {
                behavior = .endpointIndependent
                explanation = "\(servers.count) servers saw \(local) as the same \(obs[0].reflexive): the NAT maps independently of the destination, so server-reflexive candidates work."
            } else {
                let portDependent = obs.contains { a in
                    obs.contains { b in a.server.address == b.server.address && a.server.port != b.server.port && a.reflexive != b.reflexive }
                }
                behavior = portDependent ? .addressAndPortDependent : .addressDependent
                explanation = "\(servers.count) servers saw \(local) as \(reflexives.count) different addresses: the NAT's mapping depends on the destination \(portDependent ? "address and port" : "address") (symmetric NAT); server-reflexive candidates from it will fail and ICE needs a relay or peer-reflexive candidates."
                // Reported when the servers alone show it; ICE peers' views explain prflx and relayed
                // pairs in the ICE findings (ice.candidate.prflx, ice.relayed.symmetric-nat).
                let byServers = obs.filter { o in !(fromPeers[local]?.contains { $0.server == o.server } ?? false) }
                if Set(byServers.map(\.server)).count >= 2 && Set(byServers.map(\.reflexive)).count >= 2 {
                findings.add(.warning, .natSymmetric,
                             "\(local) is behind a symmetric (\(behavior.rawValue) mapping) NAT: \(obs.map { "\($0.server) saw \($0.reflexive)" }.joined(separator: ", ")). Its srflx candidates will fail; expect relay or prflx pairs.",
                             frames: obs.map(\.frame), session: nil)
                }
            }
            let peers = Set((fromPeers[local] ?? []).map(\.server)).intersection(servers)
            if !peers.isEmpty {
                explanation += " (\(peers.count) of them ICE peer(s), by the XOR-MAPPED-ADDRESS of their check responses)"
            }
            let filteringSeen = reflexives != [local]
            out.append(NatMappingSummary(local: local.description,
                                         observations: obs.map { .init(server: $0.server.description, reflexive: $0.reflexive.description, frame: $0.frame) },
                                         mappingBehavior: behavior,
                                         filteringBehavior: filteringSeen ? Self.filtering(testsByHost[local.address] ?? []) : nil,
                                         explanation: explanation + (filteringSeen || testsByHost[local.address] == nil ? "" : Self.outsideFilteringNote)))
        }
        // Hosts that only ran CHANGE-REQUEST probes (RFC 3489 tests II/III come from their own socket).
        for s in sessions where !s.natTests.isEmpty && !described.contains(s.flow.source) {
            described.insert(s.flow.source)
            // Without a reflexive answer, only a private source says the capture is inside the NAT.
            guard s.flow.source.address.isPrivate, let f = Self.filtering(testsByHost[s.flow.source.address] ?? []) else { continue }
            out.append(NatMappingSummary(local: s.flow.source.description, observations: [], mappingBehavior: .unknown,
                                         filteringBehavior: f,
                                         explanation: "CHANGE-REQUEST probes from \(s.flow.source): the NAT's filtering is \(f.rawValue)."))
        }
        return out
    }

    /// RFC 3489 test I(2) / RFC 5780 section 4.3 seen outside the NAT: the client asks the primary
    /// address, learns the alternate (CHANGED-ADDRESS / OTHER-ADDRESS) and asks it again from the
    /// same socket. Outside the NAT that socket is only seen through its mappings: when the request
    /// to the alternate arrives from another port of the same IP, within seconds, from a port never
    /// used towards the primary, the NAT gave the socket a new mapping for the new destination.
    private func mappingTestsSeenOutside(described: inout Set<Endpoint>, findings: inout FindingCollector) -> [NatMappingSummary] {
        var out: [NatMappingSummary] = []
        var reported = Set<IPAddress>()
        let testing = sessions.filter { ($0.otherAddress ?? $0.changedAddress) != nil && $0.reflexive.contains($0.flow.source) }
        guard !testing.isEmpty else { return [] }
        let testingByHost = Dictionary(grouping: testing) { $0.flow.source.address }
        var destinationsBySource: [Endpoint: Set<IPAddress>] = [:]
        for s in sessions { destinationsBySource[s.flow.source, default: []].insert(s.flow.destination.address) }
        for second in sessions where !reported.contains(second.flow.source.address) {
            let host = second.flow.source.address
            guard second.reflexive.contains(second.flow.source) else { continue }
            let first = testingByHost[host]?.last { s in
                s.flow.source.port != second.flow.source.port
                    && (s.otherAddress ?? s.changedAddress)!.address == second.flow.destination.address
                    && s.flow.destination.address != second.flow.destination.address
                    && s.start <= second.start && second.start.seconds(since: s.start) < 5
                    && !(destinationsBySource[s.flow.source]?.contains(second.flow.destination.address) ?? false)
                    && !(destinationsBySource[second.flow.source]?.contains(s.flow.destination.address) ?? false)
            }
            guard let first else { continue }
            reported.insert(host)
            described.insert(first.flow.source)
            described.insert(second.flow.source)
            findings.add(.warning, .natSymmetric,
                         "\(host) is behind a symmetric NAT (address-dependent mapping), seen from outside it: its NAT test asked \(first.flow.destination) from \(first.flow.source) (frame \(first.firstFrame)), then the alternate address \(second.flow.destination) named in the answer, and that request arrived from \(second.flow.source) (frame \(second.firstFrame)): the NAT gave the same socket a new mapping for the new destination. Its srflx candidates will fail; expect relay or prflx pairs.",
                         frames: [first.firstFrame, second.firstFrame], session: nil, subject: host.description)
            out.append(NatMappingSummary(
                local: first.flow.source.description,
                observations: [.init(server: first.flow.destination.description, reflexive: first.flow.source.description, frame: first.firstFrame),
                               .init(server: second.flow.destination.description, reflexive: second.flow.source.description, frame: second.firstFrame)],
                mappingBehavior: .addressDependent, filteringBehavior: nil,
                explanation: "Seen outside the NAT (local is the first public mapping; the client's own socket is behind the NAT): the NAT test's request to the alternate address \(second.flow.destination) came from \(second.flow.source) instead of \(first.flow.source), so the NAT maps per destination (symmetric)."))
        }
        return out
    }

    /// Seen outside the NAT (or with none), an answer to a CHANGE-REQUEST test is seen leaving the
    /// server, not arriving: the NAT may still drop it, so the filtering is not inferred here.
    private static let outsideFilteringNote =
        " Its CHANGE-REQUEST / RESPONSE-PORT tests are seen here outside any NAT (the server saw the source as it is here): answers leaving the server say nothing of what the NAT let in, so the filtering behaviour is only known from a capture inside the NAT."

    /// RFC 5780 section 4.4 / RFC 3489 tests II and III, for every socket of a host (`tests`), seen
    /// inside the NAT: an answer from another IP means endpoint-independent filtering; only from
    /// another port, address-dependent; neither, address-and-port-dependent.
    private static func filtering(_ tests: [NatTest]) -> NatBehavior? {
        let ipChange = tests.filter(\.changeIP)
        let portOnly = tests.filter { !$0.changeIP && $0.changePort }
        if ipChange.contains(where: \.answered) { return .endpointIndependent }
        if portOnly.contains(where: \.answered) { return .addressDependent }
        if !ipChange.isEmpty && !portOnly.isEmpty { return .addressAndPortDependent }
        return nil
    }
}
