import NetworkVocabulary
import StunWire

/// Rebuilds TURN allocations from the messages between clients and servers,
/// plus the peer leg (raw datagrams on relayed addresses) when visible.
///
/// An allocation is keyed by the client's 5-tuple at the vantage point. A new
/// Allocate on a 5-tuple whose allocation has ended starts a new one.
final class TurnAllocationTracker {
    private(set) var allocations: [TurnAllocation] = []
    private var byFlow: [FiveTuple: TurnAllocation] = [:]
    private var byRelayed: [Endpoint: TurnAllocation] = [:]
    private var byConnectionId: [UInt32: TurnAllocation] = [:]
    private var pendingBinds: [TransactionKeyBits: (TurnAllocation, UInt32)] = [:]
    private var byDataConnection: [FiveTuple: TurnAllocation] = [:]
    private var nextId = 1
    private var lastSweep: CaptureTime?
    var maxAllocations = 20_000
    private(set) var evicted = 0
    /// Expiry instants of active allocations, soonest first: a sweep costs
    /// O(log n) per expiry instead of a scan of every allocation per second
    /// of capture time (a LIFETIME of 2^32 s keeps allocations active forever).
    private var expiries = ExpiryQueue()
    /// Requests, permissions, peers, TCP connections and index entries not kept
    /// because of the per-allocation and per-table bounds (`TurnAllocation.max...`).
    private(set) var detailDropped = 0
    weak var observer: LiveEventObserver?

    /// True when `flow` (either direction) belongs to a known allocation.
    func allocation(for flow: FiveTuple) -> TurnAllocation? {
        byFlow[flow] ?? byFlow[flow.reversed]
    }

    func allocation(relayed e: Endpoint) -> TurnAllocation? { byRelayed[e] }

    /// Counts a packet of the client leg (any STUN message or ChannelData frame on an allocation's 5-tuple).
    func countClientLeg(flow: FiveTuple, bytes: Int) {
        if let a = byFlow[flow] {
            countClientLeg(a, toServer: true, bytes: bytes)
        } else if let a = byFlow[flow.reversed] {
            countClientLeg(a, toServer: false, bytes: bytes)
        }
    }

    func countClientLeg(_ a: TurnAllocation, toServer: Bool, bytes: Int) {
        if toServer {
            a.traffic.clientToServer &+= 1
            a.traffic.clientToServerBytes &+= bytes
        } else {
            a.traffic.serverToClient &+= 1
            a.traffic.serverToClientBytes &+= bytes
        }
    }

    // MARK: STUN messages

    func handle(_ m: ObservedStunMessage, rtt: Double?, findings: inout FindingCollector) {
        sweep(now: m.context.time, findings: &findings)
        if m.msTurn, let a = byFlow[m.flow] ?? byFlow[m.flow.reversed] { a.msTurn = true }
        switch m.method {
        case .allocate: handleAllocate(m, rtt: rtt, findings: &findings)
        case .refresh, .createPermission, .channelBind, .connect:
            guard let a = owner(m) else { return }
            handleControl(a, m, rtt: rtt, findings: &findings)
        case .send, .data, .setActiveDestination:
            // MS-TURN's SetActiveDestination names a peer (DESTINATION-ADDRESS) and is counted as a Send.
            guard let a = owner(m) else { return }
            handleIndication(a, m, findings: &findings)
        case .connectionAttempt: // server -> client, a peer opened a TCP connection to the relay
            guard let a = owner(m) else { return }
            a.last = m.context.time
            let peer = m.xorPeers.first?.description ?? "?"
            if let id = m.connectionId { Self.insert(&byConnectionId, id, a, dropped: &detailDropped) }
            if a.tcpConnections.count >= TurnAllocation.maxTcpConnections { detailDropped &+= 1 } else {
            a.tcpConnections.append(TcpRelayConnection(peer: peer, connectionId: m.connectionId, initiatedBy: .peer,
                                                       requested: m.context.time.epochSeconds, bound: nil,
                                                       dataConnection: nil, outcome: .attempted))
            }
            a.log(m.context, .serverToClient, .connectionAttempt, "peer \(peer), connection-id \(m.connectionId.map(String.init) ?? "?")")
        case .connectionBind: // on a new data connection
            handleConnectionBind(m, rtt: rtt)
        case .binding:
            // Binding on a TURN 5-tuple: keepalive of the client's NAT binding toward the server.
            guard let a = owner(m) else { return }
            if m.messageClass == .request || m.messageClass == .indication { noteClientPacket(a, m.context, findings: &findings) }
        default:
            break
        }
    }

    private func owner(_ m: ObservedStunMessage) -> TurnAllocation? {
        if let a = byFlow[m.flow] { return a }
        if let a = byFlow[m.flow.reversed] { return a }
        return nil
    }

    private func handleAllocate(_ m: ObservedStunMessage, rtt: Double?, findings: inout FindingCollector) {
        let t = m.context.time
        switch m.messageClass {
        case .request, .indication:
            var a = byFlow[m.flow]
            if a == nil || !(a!.isLive) {
                let new = TurnAllocation(id: nextId, flow: m.flow, start: t)
                new.observer = observer
                nextId &+= 1
                if allocations.count >= maxAllocations { evictOldestEnded() }
                allocations.append(new)
                byFlow[m.flow] = new
                a = new
            }
            let alloc = a!
            noteClientPacket(alloc, m.context, findings: &findings)
            alloc.last = t
            if let u = m.username { alloc.username = u }
            if let r = m.realm { alloc.realm = r }
            if let s = m.software { alloc.software = s }
            if let rt = m.requestedTransport { alloc.requestedTransport = rt }
            if let f = m.requestedAddressFamily { alloc.requestedAddressFamily = f }
            if let f = m.additionalAddressFamily { alloc.additionalAddressFamily = f }
            if let e = m.evenPort { alloc.evenPort = e }
            if let r = m.reservationToken { alloc.reservationToken = r }
            if m.dontFragment { alloc.dontFragment = true }
            detailDropped &+= alloc.rememberRequest(m)
            var detail: [String] = []
            if let rt = m.requestedTransport { detail.append("transport \(rt == 17 ? "UDP" : rt == 6 ? "TCP" : String(rt))") }
            if let u = m.username { detail.append("user \(u)") }
            if m.hasIntegrity { detail.append("authenticated") }
            if let l = m.lifetime { detail.append("lifetime \(l) s") }
            if let f = m.requestedAddressFamily { detail.append("family \(f == 2 ? "IPv6" : "IPv4")") }
            if let f = m.additionalAddressFamily { detail.append("additional family \(f == 2 ? "IPv6" : "IPv4")") }
            if m.evenPort != nil { detail.append("EVEN-PORT") }
            if m.reservationToken != nil { detail.append("RESERVATION-TOKEN") }
            if m.dontFragment { detail.append("DONT-FRAGMENT") }
            alloc.log(m.context, .clientToServer, .request(method: "Allocate"), detail.joined(separator: ", "))
        case .success:
            guard let alloc = byFlow[m.flow.reversed] else { return }
            alloc.last = t
            let request = alloc.openRequests.removeValue(forKey: m.transactionKey)
            // A new success replaces the relayed addresses: the index forgets the old ones.
            for r in alloc.relayed where byRelayed[r] === alloc { byRelayed.removeValue(forKey: r) }
            alloc.relayed = Array(m.xorRelayed.prefix(TurnAllocation.maxRelayedAddresses))
            for r in alloc.relayed { byRelayed[r] = alloc }
            if let x = m.xorMapped ?? m.mapped { alloc.mapped = x }
            if let s = m.software { alloc.software = s }
            let lifetime = m.lifetime ?? 600
            alloc.lifetime = lifetime
            alloc.allocateLifetime = lifetime
            let wasActive = alloc.state == .active
            alloc.state = .active
            alloc.expiresAt = t.adding(nanoseconds: Int64(lifetime) * 1_000_000_000)
            expiries.push(alloc.expiresAt!, alloc)
            if request?.hasIntegrity ?? false, alloc.errorCounts[401] != nil { alloc.authRoundTrips = max(alloc.authRoundTrips, 1) }
            let relayedText = m.xorRelayed.isEmpty ? "no XOR-RELAYED-ADDRESS" : m.xorRelayed.map(\.description).joined(separator: ", ")
            alloc.log(m.context, .serverToClient, .success(method: "Allocate"),
                      (m.xorRelayed.isEmpty ? relayedText : "relayed " + relayedText) + ", mapped \(alloc.mapped?.description ?? "?"), lifetime \(lifetime) s", rtt: rtt)
            if !wasActive {
                alloc.log(m.context, .state, .allocation(.created),
                          "allocation \(relayedText) created, lifetime \(lifetime) s")
            }
        case .error:
            guard let alloc = byFlow[m.flow.reversed] else { return }
            alloc.last = t
            let request = alloc.openRequests.removeValue(forKey: m.transactionKey)
            let code = m.errorCode ?? 0
            alloc.noteError(code, m.errorReason)
            if code == 401 { alloc.authRoundTrips &+= 1 }
            var detail = "\(code) \(m.errorReason ?? "")".trimmingCharacters(in: .whitespaces)
            if let r = m.realm { detail += ", realm \(r)" }
            if m.nonce != nil { detail += code == 438 ? ", new NONCE" : ", NONCE" }
            if let alt = m.alternateServer { detail += ", alternate server \(alt)" }
            alloc.log(m.context, .serverToClient, .errorResponse(method: "Allocate", code: code), detail, rtt: rtt)
            // A 401 challenge to an unauthenticated request and a 438 are steps of a normal
            // Allocate; any other error (or a 401 to an authenticated request) ends the attempt.
            let challenge = (code == 401 && !(request?.hasIntegrity ?? false)) || code == 438
            if !challenge, alloc.state != .active, let o = alloc.observer {
                o.liveEvent(LiveEvent(time: t.epochSeconds, frame: m.context.frame, kind: .allocationFailed, session: .allocation(alloc.id),
                                      message: "allocation \(alloc.id) \(alloc.flow.source) -> \(alloc.flow.destination): Allocate failed, \(detail)"))
            }
            reportError(code, alloc, m, request: request, findings: &findings)
        }
    }

    private func handleControl(_ a: TurnAllocation, _ m: ObservedStunMessage, rtt: Double?, findings: inout FindingCollector) {
        let t = m.context.time
        a.last = t
        let name = m.methodName
        switch m.messageClass {
        case .request, .indication:
            noteClientPacket(a, m.context, findings: &findings)
            detailDropped &+= a.rememberRequest(m)
            var detail: [String] = []
            if m.method == .refresh {
                detail.append("lifetime \(m.lifetime.map(String.init) ?? "default")")
                let expiredByLifetime = a.state == .expired && a.endTime == a.expiresAt
                if let exp = a.expiresAt, a.state == .active || expiredByLifetime, t > exp {
                    findings.add(.error, .turnRefreshLate,
                                 "\(session: .allocation(a.id)) was refreshed \(String(format: "%.1f", t.seconds(since: exp))) s after its lifetime (\(a.lifetime.map { "\($0) s" } ?? "?") granted) ran out: the server had already released it, so the client lost its relayed address. Refresh at about half the lifetime.",
                                 frames: [m.context.frame], session: .allocation(a.id))
                }
            }
            if !m.xorPeers.isEmpty { detail.append("peer " + m.xorPeers.map(\.description).joined(separator: ", ")) }
            if let c = m.channelNumber { detail.append(String(format: "channel 0x%04x", c)) }
            // RFC 8656 section 12: a bound channel number may not be re-bound to another peer. The
            // server refuses it (400); the client's request is the problem, said here once.
            if m.method == .channelBind, let number = m.channelNumber, let peer = m.xorPeers.first,
               let bound = a.channels[number], bound.peer != peer, bound.expiresAt >= t {
                findings.add(.warning, .turnChannelConflict,
                             "\(session: .allocation(a.id)) asked to bind channel \(String(format: "0x%04x", number)) to \(peer) while it is bound to \(bound.peer); RFC 8656 forbids re-binding a channel to another peer while bound (the server refuses it, and the channel keeps its first peer).",
                             frames: [m.context.frame], session: .allocation(a.id))
                if a.conflictingChannelBinds.count < 64 { a.conflictingChannelBinds.insert(m.transactionKey) }
            }
            a.log(m.context, .clientToServer, .request(method: name), detail.joined(separator: ", "))
        case .success:
            let request = a.openRequests.removeValue(forKey: m.transactionKey)
            switch m.method {
            case .refresh:
                let granted = Int(m.lifetime ?? request?.lifetime ?? 600)
                if a.refreshes.count < TurnAllocation.maxRefreshes { a.refreshes.append(granted) } else { detailDropped &+= 1 }
                a.lifetime = UInt32(granted)
                if granted == 0 {
                    a.state = .deleted
                    a.endTime = t
                    a.expiresAt = t
                    a.log(m.context, .serverToClient, .success(method: "Refresh"), "lifetime 0", rtt: rtt)
                    a.log(m.context, .state, .allocation(.deleted), "allocation \(a.relayed.map(\.description).joined(separator: ", ")) deleted by Refresh lifetime 0")
                } else {
                    a.expiresAt = t.adding(nanoseconds: Int64(granted) * 1_000_000_000)
                    expiries.push(a.expiresAt!, a)
                    a.log(m.context, .serverToClient, .success(method: "Refresh"), "lifetime \(granted) s", rtt: rtt)
                }
            case .createPermission:
                let peers = request?.xorPeers ?? []
                // Installed when the server handled the request, i.e. when the request arrived.
                let installed = request?.context.time ?? t
                for p in peers where a.mayTrackPermission(p.address, dropped: &detailDropped) {
                    a.installPermission(p.address, at: installed, implicit: false)
                }
                a.log(m.context, .serverToClient, .success(method: "CreatePermission"),
                      "permission for " + peers.map { $0.address.description }.joined(separator: ", "), rtt: rtt)
            case .channelBind:
                if let req = request, let number = req.channelNumber, let peer = req.xorPeers.first {
                    bindChannel(a, number: number, peer: peer, at: FrameContext(frame: m.context.frame, fileIndex: m.context.fileIndex, time: req.context.time), findings: &findings)
                    a.log(m.context, .serverToClient, .success(method: "ChannelBind"), String(format: "channel 0x%04x <-> %@", number, peer.description), rtt: rtt)
                } else {
                    a.log(m.context, .serverToClient, .success(method: "ChannelBind"), "", rtt: rtt)
                }
            case .connect:
                let peer = request?.xorPeers.first?.description ?? "?"
                if let id = m.connectionId { Self.insert(&byConnectionId, id, a, dropped: &detailDropped) }
                if a.tcpConnections.count >= TurnAllocation.maxTcpConnections { detailDropped &+= 1 } else {
                a.tcpConnections.append(TcpRelayConnection(peer: peer, connectionId: m.connectionId, initiatedBy: .client,
                                                           requested: (request?.context.time ?? t).epochSeconds, bound: nil,
                                                           dataConnection: nil, outcome: .connected))
                }
                a.log(m.context, .serverToClient, .success(method: "Connect"), "peer \(peer), connection-id \(m.connectionId.map(String.init) ?? "?")", rtt: rtt)
            default:
                break
            }
        case .error:
            let request = a.openRequests.removeValue(forKey: m.transactionKey)
            let code = m.errorCode ?? 0
            a.noteError(code, m.errorReason)
            a.log(m.context, .serverToClient, .errorResponse(method: name, code: code), "\(code) \(m.errorReason ?? "")", rtt: rtt)
            if m.method == .refresh && code == 437, a.state == .active {
                // The server no longer has it: gone at the lifetime's end, or now if that is later.
                a.state = .expired
                a.endTime = min(a.expiresAt ?? t, t)
            }
            if m.method == .connect {
                let peer = request?.xorPeers.first?.description ?? "?"
                if a.tcpConnections.count >= TurnAllocation.maxTcpConnections { detailDropped &+= 1 } else {
                a.tcpConnections.append(TcpRelayConnection(peer: peer, connectionId: nil, initiatedBy: .client,
                                                           requested: (request?.context.time ?? t).epochSeconds, bound: nil,
                                                           dataConnection: nil, outcome: .failed(code: code)))
                }
            }
            reportError(code, a, m, request: request, findings: &findings)
        }
    }

    private func bindChannel(_ a: TurnAllocation, number: UInt16, peer: Endpoint, at ctx: FrameContext,
                                      findings: inout FindingCollector) {
        let t = ctx.time
        if var c = a.channels[number] {
            if c.peer != peer {
                findings.add(.warning, .turnChannelConflict,
                             "Channel \(String(format: "0x%04x", number)) of \(session: .allocation(a.id), capitalized: false) was re-bound from \(c.peer) to \(peer); RFC 8656 forbids re-binding a channel to another peer while bound.",
                             frames: [ctx.frame], session: .allocation(a.id))
                c.peer = peer
            }
            c.refreshes &+= 1
            c.expiresAt = t.adding(nanoseconds: TurnAllocation.channelLifetime)
            a.channels[number] = c
        } else {
            a.channels[number] = TurnAllocation.Channel(number: number, peer: peer, bound: t,
                                                        expiresAt: t.adding(nanoseconds: TurnAllocation.channelLifetime), refreshes: 0)
        }
        if a.mayTrackPermission(peer.address, dropped: &detailDropped) {
            a.installPermission(peer.address, at: t, implicit: true)
        }
        _ = a.peer(peer)
    }

    private func handleIndication(_ a: TurnAllocation, _ m: ObservedStunMessage, findings: inout FindingCollector) {
        let t = m.context.time
        a.last = t
        guard let peer = m.xorPeers.first else { return }
        let bytes = m.dataLength ?? 0
        if m.method != .data { // Send (or SetActiveDestination): client -> server -> peer
            noteClientPacket(a, m.context, findings: &findings)
            a.traffic.sendIndications &+= 1
            a.traffic.sendIndicationBytes &+= bytes
            a.updatePeer(peer) { $0.sendIndications &+= 1; $0.bytesToPeer &+= bytes }
            checkPermission(a, peer: peer, ctx: m.context, what: "Send indication", findings: &findings)
            checkExpired(a, ctx: m.context, findings: &findings)
            if let h = m.dataHash {
                a.toPeer.arrived(.init(hash: h, time: t, frame: m.context.frame, peer: peer))
            }
            a.logRelay(m.context, .clientToServer, .send, peer: peer, bytes: bytes)
        } else { // Data: peer -> server -> client
            a.traffic.dataIndications &+= 1
            a.traffic.dataIndicationBytes &+= bytes
            a.updatePeer(peer) { $0.dataIndications &+= 1; $0.bytesFromPeer &+= bytes }
            let delay = m.dataHash.flatMap { a.fromPeer.departed(hash: $0, time: t, peer: peer) ?? chainedTransit(into: a, from: peer, hash: $0, at: t) }
            a.logRelay(m.context, .serverToClient, .data, peer: peer, bytes: bytes, forwardedAfter: delay)
        }
    }

    private func handleConnectionBind(_ m: ObservedStunMessage, rtt: Double?) {
        if m.messageClass == .request || m.messageClass == .indication {
            guard let id = m.connectionId, let a = byConnectionId[id] else { return }
            a.last = m.context.time
            Self.insert(&pendingBinds, m.transactionKey, (a, id), dropped: &detailDropped)
            a.log(m.context, .clientToServer, .request(method: "ConnectionBind"), "connection-id \(id) on data connection \(m.flow.source)")
            return
        }
        // Responses carry no CONNECTION-ID: find the request by transaction.
        guard let (a, id) = pendingBinds.removeValue(forKey: m.transactionKey) else { return }
        a.last = m.context.time
        let dataFlow = m.flow.reversed
        if let i = a.tcpConnections.lastIndex(where: { $0.connectionId == id }) {
            a.tcpConnections[i].bound = m.context.time.epochSeconds
            a.tcpConnections[i].dataConnection = dataFlow.source.description
            a.tcpConnections[i].outcome = m.messageClass == .success ? .bound : .bindFailed(code: m.errorCode ?? 0)
        }
        if m.messageClass == .success { Self.insert(&byDataConnection, dataFlow, a, dropped: &detailDropped) }
        a.log(m.context, .serverToClient, m.messageClass == .success ? .success(method: "ConnectionBind") : .errorResponse(method: "ConnectionBind", code: m.errorCode ?? 0), "connection-id \(id)", rtt: rtt)
    }

    /// Raw data on an RFC 6062 data connection: relayed application bytes on the client leg.
    /// Returns true when the flow is a bound data connection.
    func handleDataConnection(context: FrameContext, flow: FiveTuple, length: Int) -> Bool {
        if let a = byDataConnection[flow] {
            a.last = context.time
            a.traffic.clientToServer &+= 1
            a.traffic.clientToServerBytes &+= length
            a.logRelay(context, .clientToServer, .tcpDataConnection, peer: flow.source, bytes: length)
            return true
        }
        if let a = byDataConnection[flow.reversed] {
            a.last = context.time
            a.traffic.serverToClient &+= 1
            a.traffic.serverToClientBytes &+= length
            a.logRelay(context, .serverToClient, .tcpDataConnection, peer: flow.destination, bytes: length)
            return true
        }
        return false
    }

    // MARK: ChannelData and peer leg

    /// Returns the allocation the frame belongs to (either direction), so that the caller's other
    /// consumers need not look it up again.
    @discardableResult
    func handleChannelData(_ c: ObservedChannelData, findings: inout FindingCollector) -> TurnAllocation? {
        if let a = byFlow[c.flow] { // client -> server
            a.last = c.context.time
            noteClientPacket(a, c.context, findings: &findings)
            a.traffic.channelDataToServer &+= 1
            a.traffic.channelDataToServerBytes &+= c.length
            guard let chIndex = a.channels.index(forKey: c.channel), a.channels.values[chIndex].expiresAt >= c.context.time else {
                findings.add(.warning, .turnChannelUnbound,
                             "\(session: .allocation(a.id)) sent ChannelData on channel \(String(format: "0x%04x", c.channel)), which is not bound (or its binding expired); the server drops it.",
                             frames: [c.context.frame], session: .allocation(a.id))
                a.logRelay(c.context, .clientToServer, .channelDataUnbound(c.channel), peer: nil, bytes: c.length)
                return a
            }
            a.channels.values[chIndex].framesToServer &+= 1
            a.channels.values[chIndex].bytesToServer &+= c.length
            let ch = a.channels.values[chIndex]
            a.updatePeer(ch.peer) { $0.channelDataToServer &+= 1; $0.bytesToPeer &+= c.length }
            checkExpired(a, ctx: c.context, findings: &findings)
            a.toPeer.arrived(.init(hash: c.payloadHash, time: c.context.time, frame: c.context.frame, peer: ch.peer))
            a.logRelay(c.context, .clientToServer, .channelData(c.channel), peer: ch.peer, bytes: c.length)
            return a
        }
        if let a = byFlow[c.flow.reversed] { // server -> client
            a.last = c.context.time
            a.traffic.channelDataFromServer &+= 1
            a.traffic.channelDataFromServerBytes &+= c.length
            if let chIndex = a.channels.index(forKey: c.channel) {
                a.channels.values[chIndex].framesFromServer &+= 1
                a.channels.values[chIndex].bytesFromServer &+= c.length
                let ch = a.channels.values[chIndex]
                a.updatePeer(ch.peer) { $0.channelDataFromServer &+= 1; $0.bytesFromPeer &+= c.length }
                let delay = a.fromPeer.departed(hash: c.payloadHash, time: c.context.time, peer: ch.peer)
                    ?? chainedTransit(into: a, from: ch.peer, hash: c.payloadHash, at: c.context.time)
                a.logRelay(c.context, .serverToClient, .channelData(c.channel), peer: ch.peer, bytes: c.length, forwardedAfter: delay)
            } else {
                a.logRelay(c.context, .serverToClient, .channelData(c.channel), peer: nil, bytes: c.length)
            }
            return a
        }
        return nil
    }

    /// A datagram that is not client<->server TURN traffic: peer leg when it touches a relayed address.
    @discardableResult
    func handlePeerLeg(context: FrameContext, flow: FiveTuple, length: Int, hash: UInt64, iceCheck: Bool = false) -> Bool {
        if let a = byRelayed[flow.source] { // relay -> peer
            let peer = flow.destination
            a.peerLegSeen = true
            a.last = context.time
            a.traffic.peerLegToPeer &+= 1
            a.traffic.peerLegToPeerBytes &+= length
            a.updatePeer(peer) { $0.peerLegToPeer &+= 1 }
            let delay = a.toPeer.departed(hash: hash, time: context.time, peer: peer)
            a.logRelay(context, .relayToPeer, flow.transport == .udp ? .udp : .tcp, peer: peer, bytes: length, forwardedAfter: delay)
            return true
        }
        if let a = byRelayed[flow.destination] { // peer -> relay
            let peer = flow.source
            a.peerLegSeen = true
            a.last = context.time
            a.traffic.peerLegFromPeer &+= 1
            a.traffic.peerLegFromPeerBytes &+= length
            a.updatePeer(peer) { $0.peerLegFromPeer &+= 1 }
            if a.hasLivePermission(for: peer.address, at: context.time) {
                a.fromPeer.arrived(.init(hash: hash, time: context.time, frame: context.frame, peer: peer))
            } else {
                // RFC 8656 section 9: the server drops what a peer without a permission sends.
                a.updatePeer(peer) {
                    $0.droppedNoPermission &+= 1
                    if iceCheck { $0.droppedChecksNoPermission &+= 1 }
                }
                if a.noPermissionFrames.count < 20 { a.noPermissionFrames.append(context.frame) }
            }
            a.logRelay(context, .peerToRelay, flow.transport == .udp ? .udp : .tcp, peer: peer, bytes: length)
            return true
        }
        return false
    }

    /// The client's TCP connection to the server ended.
    func tcpClosed(flow: FiveTuple, at ctx: FrameContext) {
        guard let a = byFlow[flow] ?? byFlow[flow.reversed], a.isLive else { return }
        if a.state == .active {
            a.state = .closed
            a.endTime = ctx.time
            a.log(ctx, .state, .allocation(.closed), "the client's TCP connection to the server closed")
        }
    }

    /// Data leaving allocation `a` towards its client from `peer`, when `peer` is another allocation's
    /// relayed address on this server (chained relays): it entered on that allocation's client leg and
    /// crossed the server without touching a wire. The delay is that allocation's forwarding delay to
    /// its peer, i.e. the server's transit from one client leg to the other.
    private func chainedTransit(into a: TurnAllocation, from peer: Endpoint, hash: UInt64, at t: CaptureTime) -> Double? {
        guard let other = byRelayed[peer], other !== a, let target = a.relayed.first(where: { Self.sameFamily($0.address, peer.address) }) else { return nil }
        return other.toPeer.departed(hash: hash, time: t, peer: target)
    }

    private static func sameFamily(_ x: IPAddress, _ y: IPAddress) -> Bool {
        switch (x, y) {
        case (.v4, .v4), (.v6, .v6): return true
        default: return false
        }
    }

    // MARK: Checks

    private func checkPermission(_ a: TurnAllocation, peer: Endpoint, ctx: FrameContext, what: String, findings: inout FindingCollector) {
        // MS-TURN has no permissions: its Send requests and SetActiveDestination name the peer.
        guard a.state == .active, !a.msTurn, !a.hasLivePermission(for: peer.address, at: ctx.time) else { return }
        // The server handles requests in arrival order: a CreatePermission / ChannelBind sent
        // before this data and still awaiting its answer has already installed the permission.
        let pending = a.openRequests.values.contains { r in
            (r.method == .createPermission || r.method == .channelBind) && r.xorPeers.contains { $0.address == peer.address }
        }
        guard !pending else { return }
        findings.add(.warning, .turnPermissionMissing,
                     "\(session: .allocation(a.id)) sent data (\(what)) to \(peer.address) without a live permission; the server drops it silently. Send CreatePermission (or ChannelBind) first and refresh it every 300 s.",
                     frames: [ctx.frame], session: .allocation(a.id))
    }

    private func checkExpired(_ a: TurnAllocation, ctx: FrameContext, findings: inout FindingCollector) {
        guard a.state == .expired || a.state == .deleted else { return }
        findings.add(.error, .turnAllocationUsedAfterEnd,
                     a.state == .expired
                        ? "\(session: .allocation(a.id)) had expired but the client kept sending relay data; the server drops it. Refresh before the lifetime runs out."
                        : "\(session: .allocation(a.id)) had been deleted (Refresh lifetime 0) but the client kept sending relay data; the server drops it. Stop sending, or allocate again.",
                     frames: [ctx.frame], session: .allocation(a.id))
    }

    private func noteClientPacket(_ a: TurnAllocation, _ ctx: FrameContext, findings: inout FindingCollector) {
        if let last = a.lastClientPacket {
            let gap = ctx.time.seconds(since: last)
            if gap > (a.longestClientGap?.seconds ?? 0) { a.longestClientGap = (gap, ctx.frame) }
            if gap > 30, a.state == .active, a.flow.transport == .udp {
                findings.add(.warning, .turnKeepaliveGap,
                             "\(session: .allocation(a.id)): the client sent nothing to the server for \(String(format: "%.1f", gap)) s; typical NAT bindings time out after 30 s, after which the server's packets no longer reach the client.",
                             frames: [ctx.frame], session: .allocation(a.id))
            }
        }
        a.lastClientPacket = ctx.time
    }

    private func reportError(_ code: Int, _ a: TurnAllocation, _ m: ObservedStunMessage, request: ObservedStunMessage?,
                             findings: inout FindingCollector) {
        let authenticated = request?.hasIntegrity ?? false
        let peers = request.map { $0.xorPeers.map { $0.address.description }.joined(separator: ", ") } ?? ""
        let session = SessionRef.allocation(a.id)
        let frame = [m.context.frame]
        switch code {
        case 401, 441:
            if authenticated || code == 441 {
                findings.add(.error, .turnAuthWrongCredentials,
                             "\(session: .allocation(a.id)): the server rejected an authenticated \(m.methodName) with \(code) — the username, realm or password is wrong (user \(a.username ?? "?"), realm \(a.realm ?? "?")).",
                             frames: frame, session: session)
            }
        case 438:
            // A loop is a client that sends a NONCE again after the server declared it stale and
            // gave a new one (well after: requests already in flight carry it too). A 438 burst
            // followed by a retry with the new NONCE is normal nonce rotation.
            let t = m.context.time
            if let stale = request?.nonce, let req = request {
                if let since = a.staleNonces[stale], req.context.time.seconds(since: since) > TurnAllocation.staleNonceGrace {
                    a.staleNonceReuses.append(req.context.frame)
                } else if a.staleNonces[stale] == nil, a.staleNonces.count < 16 {
                    a.staleNonces[stale] = t
                }
            }
            if a.staleNonceReuses.count >= 2 {
                findings.remove(.turnAuthStaleNonce, session: session)
                findings.add(.error, .turnAuthStaleNonceLoop,
                             "\(session: .allocation(a.id)): the client sent a NONCE the server had already declared stale \(a.staleNonceReuses.count) times after being given a new one (each answered 438 Stale Nonce): it does not take the new NONCE, so its requests keep failing.",
                             frames: a.staleNonceReuses + frame, session: session)
            } else if !findings.has([.turnAuthStaleNonceLoop], session: session) {
                findings.add(.info, .turnAuthStaleNonce,
                             "\(session: .allocation(a.id)): the server answered 438 Stale Nonce with a new NONCE (normal nonce rotation); the client must retry with it.",
                             frames: frame, session: session)
            }
        case 403 where !(request?.xorPeers.isEmpty ?? true) && request!.xorPeers.allSatisfy({ $0.address.isPrivate }):
            // ICE offers private host candidates too; servers refuse them as peers by policy. Whether
            // that hurt depends on whether another peer was permitted (AllocationSummaryBuilder).
            for p in request!.xorPeers where a.forbiddenPrivatePeers.count < 16 { a.forbiddenPrivatePeers.append((p.address, m.context.frame)) }
        case 403:
            findings.add(.error, .turnPeerForbidden,
                         "\(session: .allocation(a.id)): \(m.methodName) got 403 Forbidden for \(peers.isEmpty ? "the requested peer" : peers); the server's policy refuses this peer (e.g. denied-peer-ip, private or loopback ranges).",
                         frames: frame, session: session)
        case 486:
            findings.add(.error, .turnQuotaReached,
                         "\(session: .allocation(a.id)): 486 Allocation Quota Reached for user \(a.username ?? "?"); the user already holds the maximum number of allocations on this server.",
                         frames: frame, session: session)
        case 437 where findings.has([.turnRefreshLate], session: session):
            break   // the late refresh is the cause; 437 is how the server says it released the allocation
        case 437:
            findings.add(.warning, .turnAllocationMismatch,
                         "\(session: .allocation(a.id)): 437 Allocation Mismatch on \(m.methodName); the server has no allocation for this 5-tuple (expired or never created) or one already exists.",
                         frames: frame, session: session)
        case 508:
            findings.add(.error, .turnServerCapacity, "\(session: .allocation(a.id)): 508 Insufficient Capacity; the server has no relay ports left.",
                         frames: frame, session: session)
        case 300:
            findings.add(.info, .turnServerAlternate, "\(session: .allocation(a.id)): 300 Try Alternate, redirected to \(m.alternateServer?.description ?? "?").",
                         frames: frame, session: session)
        case 440, 442, 443:
            findings.add(.error, .turnUnsupported, "\(session: .allocation(a.id)): \(code) — \(StunErrorMeaning.explain(code)).",
                         frames: frame, session: session)
        case 400 where request.map { a.conflictingChannelBinds.contains($0.transactionKey) } ?? false:
            break   // the refused re-binding: turn.channel.conflict said it
        case 400, 420:
            findings.add(.warning, .turnBadRequest, "\(session: .allocation(a.id)): \(m.methodName) got \(code) — \(StunErrorMeaning.explain(code)).",
                         frames: frame, session: session)
        default:
            break
        }
    }

    // MARK: Time

    /// Marks allocations whose lifetime ran out without a refresh as expired at that instant.
    func sweep(now: CaptureTime, findings: inout FindingCollector) {
        if let last = lastSweep, now.nanoseconds &- last.nanoseconds < 1_000_000_000 { return }
        lastSweep = now
        // Entries of refreshed, deleted or evicted allocations are stale: skipped here.
        while let (exp, entry) = expiries.popDue(before: now) {
            if let a = entry, a.state == .active, a.expiresAt == exp { expire(a, at: exp) }
        }
        if expiries.count > 4 * allocations.count + 1_024 {
            expiries.rebuild(allocations.compactMap { a in a.state == .active ? a.expiresAt.map { ($0, a) } : nil })
        }
    }

    private func expire(_ a: TurnAllocation, at exp: CaptureTime) {
        a.state = .expired
        a.endTime = exp
        a.log(FrameContext(frame: 0, time: exp), .state, .allocation(.expired),
              "lifetime \(a.lifetime.map(String.init) ?? "?") s ran out with no refresh")
    }

    /// Frees an eighth of the table in one pass: ended allocations first (oldest
    /// first), then the oldest live ones. One removal per new allocation would
    /// scan and shift the whole array each time (quadratic under a flood).
    private func evictOldestEnded() {
        let batch = max(1, maxAllocations / 8)
        var victim = [Bool](repeating: false, count: allocations.count)
        var chosen = 0
        for (i, a) in allocations.enumerated() where chosen < batch && !a.isLive {
            victim[i] = true
            chosen &+= 1
        }
        for i in allocations.indices where chosen < batch && !victim[i] {
            victim[i] = true
            chosen &+= 1
        }
        var kept: [TurnAllocation] = []
        kept.reserveCapacity(allocations.count - chosen)
        for (i, a) in allocations.enumerated() {
            guard victim[i] else {
                kept.append(a)
                continue
            }
            if byFlow[a.flow] === a { byFlow.removeValue(forKey: a.flow) }
            for r in a.relayed where byRelayed[r] === a { byRelayed.removeValue(forKey: r) }
            a.state = .failed   // its expiry-queue entries are stale now
            evicted &+= 1
        }
        allocations = kept
    }

    /// Inserts into a tracker-wide index bounded at `TurnAllocation.maxIndexEntries`:
    /// a full index forgets an arbitrary entry, counted in `dropped`.
    private static func insert<K: Hashable, V>(_ map: inout [K: V], _ key: K, _ value: V, dropped: inout Int) {
        if map.count >= TurnAllocation.maxIndexEntries, map[key] == nil {
            map.remove(at: map.startIndex)
            dropped &+= 1
        }
        map[key] = value
    }

    var activeCount: Int { allocations.reduce(0) { $0 + ($1.state == .active ? 1 : 0) } }

    /// Allocations active at `now` whose lifetime has not run out (between sweeps an
    /// allocation nobody refreshed is still `.active`; `finish` would expire it).
    func aliveCount(at now: CaptureTime) -> Int {
        allocations.reduce(0) { $0 &+ ($1.state == .active && !($1.expiresAt.map { $0 < now } ?? false) ? 1 : 0) }
    }

    func finish(at end: CaptureTime) {
        for a in allocations {
            if a.state == .active, let exp = a.expiresAt, exp < end { expire(a, at: exp) }
            if a.state == .pending { a.state = .failed; a.endTime = a.last }
            a.toPeer.finish(at: end)
            a.fromPeer.finish(at: end)
        }
    }
}
