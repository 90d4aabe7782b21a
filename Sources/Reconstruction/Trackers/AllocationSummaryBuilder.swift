/// Turns a finished `TurnAllocation` into its summary, adding the findings
/// only visible at the end (never-forwarded data, expiry while in use).
enum AllocationSummaryBuilder {
    static func summary(of a: TurnAllocation, findings: inout FindingCollector) -> TurnAllocationSummary {
        a.finalizeTimeline()
        let end = a.endTime ?? a.last
        let outcome: TurnAllocationSummary.Outcome
        switch a.state {
        case .deleted: outcome = .deleted
        case .expired: outcome = .expired
        case .active: outcome = .active
        case .closed: outcome = .closed
        case .failed, .pending: outcome = .failed
        }
        let lastTime = a.last
        let permissions = a.permissions.map { ip, p in
            PermissionSummary(peer: ip.description, created: p.created.epochSeconds, refreshes: p.refreshes,
                              lastRefreshed: p.lastRefreshed.epochSeconds, expiresAt: p.expiresAt.epochSeconds,
                              expired: p.expiresAt < lastTime, implicit: p.implicit)
        }
        let channels = a.channels.map { n, c in
            ChannelSummary(number: Int(n), peer: c.peer.description, bound: c.bound.epochSeconds, refreshes: c.refreshes,
                           expiresAt: c.expiresAt.epochSeconds, expired: c.expiresAt < lastTime,
                           framesToServer: c.framesToServer, framesFromServer: c.framesFromServer,
                           bytesToServer: c.bytesToServer, bytesFromServer: c.bytesFromServer)
        }
        var peers: [PeerSummary] = []
        for (e, peer) in a.peers {
            var p = peer
            p.forwardingDelayToPeer = a.toPeer.delays[e]?.statistics
            p.forwardingDelayFromPeer = a.fromPeer.delays[e]?.statistics
            if a.peerLegSeen {
                p.neverForwardedToPeer = a.toPeer.neverForwarded[e] ?? 0
                p.neverForwardedFromPeer = a.fromPeer.neverForwarded[e] ?? 0
                if p.neverForwardedToPeer + p.neverForwardedFromPeer > 0 {
                    findings.add(.warning, .turnRelayNotForwarded,
                                 "\(session: .allocation(a.id)), peer \(e): \(p.neverForwardedToPeer) datagram(s) from the client and \(p.neverForwardedFromPeer) from the peer were never seen leaving the server (missing permission, expired channel, or capture loss).",
                                 frames: [], session: .allocation(a.id))
                }
            }
            peers.append(p)
        }
        var errors = a.errorCounts.map { code, e in
            ErrorCount(code: code, count: e.count, reason: e.reason, meaning: StunErrorMeaning.explain(code))
        }
        errors.sort { $0.code < $1.code }
        var finalError: ErrorCount?
        if outcome == .failed, let e = a.lastError {
            finalError = ErrorCount(code: e.code, count: a.errorCounts[e.code]?.count ?? 1, reason: e.reason,
                                    meaning: StunErrorMeaning.explain(e.code))
        }
        if outcome == .failed {
            let why = finalError.map { "last answer \($0.code) \($0.reason ?? "") — \($0.meaning)" } ?? "no answer from the server"
            findings.add(.error, .turnAllocationFailed,
                         "\(session: .allocation(a.id)) from \(a.flow.source) to \(a.flow.destination) never succeeded: \(why).",
                         frames: a.timeline.prefix(1).map(\.frame), session: .allocation(a.id))
        }
        var timeline = a.timeline
        if a.timelineDropped > 0 {
            timeline.append(TimelineEntry(time: end.epochSeconds, frame: 0, direction: .state, kind: .timelineTruncated,
                                          detail: "\(a.timelineDropped) further entries not kept"))
        }
        func family(_ f: UInt8?) -> String? { f.map { $0 == 2 ? "IPv6" : $0 == 1 ? "IPv4" : "family \($0)" } }
        return TurnAllocationSummary(
            id: a.id, client: a.flow.source.description, server: a.flow.destination.description,
            transport: a.flow.transport, relayed: a.relayed.map(\.description), mapped: a.mapped?.description,
            username: a.username, realm: a.realm, software: a.software,
            requestedTransport: a.requestedTransport.map { $0 == 17 ? "udp" : $0 == 6 ? "tcp" : String($0) },
            requestedAddressFamily: family(a.requestedAddressFamily), additionalAddressFamily: family(a.additionalAddressFamily),
            evenPort: a.evenPort, reservationToken: a.reservationToken, dontFragment: a.dontFragment,
            start: a.start.epochSeconds, end: end.epochSeconds, outcome: outcome, finalError: finalError,
            lifetime: a.lifetime.map(Int.init), refreshes: a.refreshes, expiresAt: a.expiresAt?.epochSeconds,
            authRoundTrips: a.authRoundTrips, errors: errors, permissions: permissions, channels: channels,
            traffic: a.traffic, peers: peers, tcpConnections: a.tcpConnections, timeline: timeline)
    }
}
