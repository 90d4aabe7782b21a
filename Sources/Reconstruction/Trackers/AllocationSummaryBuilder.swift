import NetworkVocabulary

/// Turns a finished `TurnAllocation` into its summary, adding the findings
/// only visible at the end (never-forwarded data, expiry while in use).
enum AllocationSummaryBuilder {
    /// Findings that already say why an allocation failed: `turn.allocation.failed` would repeat them.
    static let failureCauses: Set<FindingCode> = [
        .turnAuthWrongCredentials, .turnQuotaReached, .turnPeerForbidden, .turnServerCapacity, .turnUnsupported,
        .turnAuthStaleNonceLoop, .turnBadRequest, .turnServerAlternate,
    ]

    /// Peers of each allocation that are another allocation's relayed address (chained relays):
    /// by allocation id, peer -> the other allocation's id.
    static func chainedPeers(_ allocations: [TurnAllocation]) -> [Int: [Endpoint: Int]] {
        var owner: [Endpoint: TurnAllocation] = [:]
        for a in allocations { for r in a.relayed { owner[r] = a } }
        guard !owner.isEmpty else { return [:] }
        var out: [Int: [Endpoint: Int]] = [:]
        for a in allocations {
            var peers = Array(a.peers.keys) + a.channels.values.map(\.peer)
            peers += a.tcpConnections.compactMap { Endpoint($0.peer) }
            for p in peers {
                if let b = owner[p], b !== a, b.flow.destination.address == a.flow.destination.address { out[a.id, default: [:]][p] = b.id }
            }
        }
        return out
    }

    /// `clientServedElsewhere`: the same client socket holds another allocation that succeeded
    /// (MS-TURN takes the challenge from one server address and allocates on a sibling).
    static func summary(of a: TurnAllocation, chained: [Endpoint: Int] = [:], captureEnd: CaptureTime? = nil,
                        silences: [ClosedRange<CaptureTime>] = [],
                        clientServedElsewhere: Bool = false, findings: inout FindingCollector) -> TurnAllocationSummary {
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
        // Permissions and channels live inside the allocation: when it ended, they ended with it.
        let allocationGone = outcome != .active
        let permissions = a.permissions.map { ip, p in
            PermissionSummary(peer: ip.description, created: p.created.epochSeconds, refreshes: p.refreshes,
                              lastRefreshed: p.lastRefreshed.epochSeconds, expiresAt: p.expiresAt.epochSeconds,
                              expired: allocationGone || p.expiresAt < lastTime, implicit: p.implicit)
        }
        let channels = a.channels.map { n, c in
            ChannelSummary(number: Int(n), peer: c.peer.description, bound: c.bound.epochSeconds, refreshes: c.refreshes,
                           expiresAt: c.expiresAt.epochSeconds, expired: allocationGone || c.expiresAt < lastTime,
                           framesToServer: c.framesToServer, framesFromServer: c.framesFromServer,
                           bytesToServer: c.bytesToServer, bytesFromServer: c.bytesFromServer)
        }
        var peers: [PeerSummary] = []
        for (e, peer) in a.peers {
            var p = peer
            p.forwardingDelayToPeer = a.toPeer.delays[e]?.statistics
            p.forwardingDelayFromPeer = a.fromPeer.delays[e]?.statistics
            p.chainedAllocation = chained[e]
            // A chained peer's data leaves through the other allocation's client leg, on no peer leg.
            if chained[e] == nil, a.peerLegSeen {
                p.neverForwardedToPeer = a.toPeer.neverForwarded[e] ?? 0
                p.neverForwardedFromPeer = a.fromPeer.neverForwarded[e] ?? 0
                if p.neverForwardedToPeer + p.neverForwardedFromPeer > 0 {
                    findings.add(.warning, .turnRelayNotForwarded,
                                 "\(session: .allocation(a.id)), peer \(e): \(p.neverForwardedToPeer) datagram(s) from the client and \(p.neverForwardedFromPeer) from the peer were never seen leaving the server (expired channel or permission, or capture loss).",
                                 frames: [], session: .allocation(a.id))
                }
            }
            if p.droppedNoPermission > 0 {
                // Checks that reach a relayed address just before the permission is installed are an
                // ordinary ICE race; a peer that never gets a permission is never heard.
                // Only ICE checks dropped: the relay candidate's owner never paired it with that peer.
                let permittedAtSomePoint = a.permissions[e.address] != nil
                let onlyChecks = p.droppedChecksNoPermission == p.droppedNoPermission
                let why = permittedAtSomePoint
                    ? "; a permission for it existed at another time (they arrived before it was installed or after it expired)"
                    : onlyChecks
                        ? "; they are ICE checks to a relay candidate its agent never paired with that peer, so that pair fails by design and ICE uses another"
                        : "; the client never created a permission for that peer, so nothing it sends is heard"
                findings.add(permittedAtSomePoint || onlyChecks ? .info : .warning, .turnRelayNotForwarded,
                             "\(session: .allocation(a.id)): \(p.droppedNoPermission) datagram(s) from peer \(e) reached the relayed address while it had no permission for \(e.address), so the server dropped them (RFC 8656 section 9)\(why).",
                             frames: a.noPermissionFrames, session: .allocation(a.id), subject: e.description)
            }
            peers.append(p)
        }
        var errors = a.errorCounts.map { code, e in
            // Once the authenticated retry succeeded, the 401s were the challenge, not a wrong password.
            let meaning = code == 401 && outcome != .failed && a.authRoundTrips > 0
                ? "Unauthorized: the normal challenge (REALM and NONCE); the authenticated retry succeeded"
                : StunErrorMeaning.explain(code)
            return ErrorCount(code: code, count: e.count, reason: e.reason, meaning: meaning)
        }
        errors.sort { $0.code < $1.code }
        var finalError: ErrorCount?
        if outcome == .failed, let e = a.lastError {
            finalError = ErrorCount(code: e.code, count: a.errorCounts[e.code]?.count ?? 1, reason: e.reason,
                                    meaning: StunErrorMeaning.explain(e.code))
        }
        let expirySeen = !silences.contains { r in a.endTime.map { r.contains($0) } ?? false }
        if outcome == .expired, expirySeen, !a.relayed.isEmpty, (a.lifetime ?? 0) > 0, !findings.has([.turnRefreshLate], session: .allocation(a.id)) {
            let granted = a.lifetime.map { "\($0) s" } ?? "?"
            findings.add(.warning, .turnAllocationExpired,
                         "\(session: .allocation(a.id)) from \(a.flow.source) expired (lifetime \(granted), the client's last packet at \(a.lastClientPacket.map { String(format: "%.1f s", $0.seconds(since: a.start)) } ?? "?") into it) without a Refresh 0: the client stopped refreshing (it exited, crashed or lost its network) and traffic through \(a.relayed.map(\.description).joined(separator: ", ")) stopped without a clean close.",
                         frames: a.timeline.last(where: { $0.frame > 0 }).map { [$0.frame] } ?? [], session: .allocation(a.id))
        }
        let chainedIds = Set(chained.values).sorted()
        if !chainedIds.isEmpty {
            let pairs = chained.sorted { $0.value < $1.value }.map { peer, other in
                let transit = a.toPeer.delays[peer]?.statistics.map { "; transit through the server from this client leg to allocation \(other)'s: median \(String(format: "%.2f", $0.median * 1000)) ms over \($0.samples) message(s)" } ?? ""
                return "\(peer) (allocation \(other)'s relayed address\(transit))"
            }
            findings.add(.info, .turnRelayChained,
                         "\(session: .allocation(a.id)) relays to \(pairs.joined(separator: ", ")) on the same server: the two allocations are chained and the hop between them happens inside the server, on no wire. Its data leaves as the other allocation's Data / ChannelData to its client.",
                         frames: a.timeline.prefix(1).map(\.frame), session: .allocation(a.id))
        }
        if !a.forbiddenPrivatePeers.isEmpty {
            let refused = Set(a.forbiddenPrivatePeers.map(\.address)).map(\.description).sorted().joined(separator: ", ")
            let permitted = a.permissions.keys.filter { !$0.isPrivate }.map(\.description)
            if permitted.isEmpty {
                findings.add(.error, .turnPeerForbidden,
                             "\(session: .allocation(a.id)): 403 Forbidden for the private peer(s) \(refused) and no other peer was permitted: the server's policy refuses private and loopback peers, so this allocation could reach nobody.",
                             frames: a.forbiddenPrivatePeers.map(\.frame), session: .allocation(a.id))
            } else {
                findings.add(.info, .turnPeerForbidden,
                             "\(session: .allocation(a.id)): 403 Forbidden for the private peer(s) \(refused) (ICE tries host candidates through the relay too; the server refuses private peers by policy) while \(permitted.joined(separator: ", ")) was permitted: normal.",
                             frames: a.forbiddenPrivatePeers.map(\.frame), session: .allocation(a.id))
            }
        }
        // Never answered at all: the unanswered-request findings judge it (ICMP, races, capture end).
        if outcome == .failed, finalError != nil, !clientServedElsewhere, !findings.has(failureCauses, session: .allocation(a.id)) {
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
        var remaining: Double?
        if outcome == .active, let exp = a.expiresAt, let e = captureEnd { remaining = max(0, exp.seconds(since: e)) }
        func family(_ f: UInt8?) -> String? { f.map { $0 == 2 ? "IPv6" : $0 == 1 ? "IPv4" : "family \($0)" } }
        return TurnAllocationSummary(
            id: a.id, client: a.flow.source.description, server: a.flow.destination.description,
            transport: a.flow.transport, relayed: a.relayed.map(\.description), mapped: a.mapped?.description,
            username: a.username, realm: a.realm, software: a.software,
            requestedTransport: a.requestedTransport.map { $0 == 17 ? "udp" : $0 == 6 ? "tcp" : String($0) },
            requestedAddressFamily: family(a.requestedAddressFamily), additionalAddressFamily: family(a.additionalAddressFamily),
            evenPort: a.evenPort, reservationToken: a.reservationToken, dontFragment: a.dontFragment,
            start: a.start.epochSeconds, end: end.epochSeconds, outcome: outcome, finalError: finalError,
            lifetime: a.lifetime.map(Int.init), allocateLifetime: a.allocateLifetime.map(Int.init),
            remainingAtCaptureEnd: remaining,
            refreshes: a.refreshes, expiresAt: a.expiresAt?.epochSeconds,
            authRoundTrips: a.authRoundTrips, errors: errors, permissions: permissions, channels: channels,
            traffic: a.traffic, peers: peers, tcpConnections: a.tcpConnections, timeline: timeline)
    }
}
