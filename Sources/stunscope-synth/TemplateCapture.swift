import NetworkVocabulary
import CaptureSource
import Foundation
import PacketDecoding
import StunWire

/// One template capture, read through `PcapFileReader`: its IPv4/UDP
/// datagrams, which of them are relay traffic, the server's addresses and
/// relayed transport addresses, and the control exchanges worth replaying.
final class TemplateCapture {
    /// TURN's listening ports (RFC 8656 section 3: 3478, and 5349 for TLS).
    static let serverPorts: Set<UInt16> = [3478, 5349]

    let name: String
    private(set) var packets: [TemplatePacket] = []
    /// Server-side IPv4 addresses: those using a server port, and relayed addresses.
    private(set) var serverIPs: Set<UInt32> = []
    /// Relayed transport addresses (from Allocate success responses), numbered in order of appearance.
    private(set) var relayEndpoints: [Endpoint: Int] = [:]
    /// Client 5-tuples that sent an Allocate request.
    private(set) var allocations = 0
    /// Indices of the relay packets in `packets`.
    private(set) var relayIndices: [Int] = []
    /// Relay packets whose application data is a STUN message (relayed ICE checks).
    private(set) var relayChecks = 0
    /// Request/response pairs on the relaying 5-tuples, replayed with new ids during the relay phase.
    private(set) var controlPairs: [(request: Int, response: Int)] = []
    /// When the relay phase starts and ends, in template time.
    private(set) var relayStart: Int64 = 0
    private(set) var relayEnd: Int64 = 0
    /// Client-side IPv4 addresses in the order the generator meets them (`clientSlot`).
    private var clientIndex: [UInt32: Int] = [:]

    init(path: String) throws {
        name = (path as NSString).lastPathComponent
        try read(path)
        analyse()
    }

    /// A template made of some of another's packets (`OneShotBinding`), its time 0 at the first of them;
    /// the server addresses are the whole template's (a slice may not show the server's port).
    init(name: String, packets: [TemplatePacket], serverIPs: Set<UInt32>) {
        self.name = name
        self.serverIPs = serverIPs
        let origin = packets.first?.time ?? 0
        self.packets = packets.map { var packet = $0; packet.time -= origin; return packet }
        analyse()
    }

    private func analyse() {
        findServerAddresses()
        let relayFlows = classifyRelayTraffic()
        findControlPairs(on: relayFlows)
    }

    /// A Binding success response with the magic cookie: a STUN server answered here.
    var answersBinding: Bool {
        packets.contains { packet in
            guard let message = packet.payload.stunMessage else { return false }
            return message.method == .binding && message.messageClass == .success
        }
    }

    /// How many client-side IPv4 addresses a replay maps (`clientSlot` hands out at most this many
    /// slots): those in IP headers and in the address attributes the rewriter moves, at any depth.
    private(set) lazy var clientAddressCount: Int = {
        var addresses = Set<UInt32>()
        func note(_ endpoint: Endpoint) {
            guard case let .v4(address) = endpoint.address, !serverIPs.contains(address) else { return }
            addresses.insert(address)
        }
        func walk(_ payload: TemplatePayload) {
            switch payload {
            case let .stun(message, data):
                for attribute in message.attributes where TemplatePayload.movedAddressAttributes.contains(attribute.type) {
                    if let endpoint = attribute.address { note(endpoint) }
                }
                if let data { walk(data) }
            case let .channelData(_, _, body, _):
                walk(body)
            case .application:
                break
            }
        }
        for packet in packets {
            note(packet.source)
            note(packet.destination)
            walk(packet.payload)
        }
        return addresses.count
    }()

    /// The IPv4 address of each relayed transport address, by its number in `relayEndpoints`.
    private(set) lazy var relayAddresses: [UInt32] = relayEndpoints.sorted { $0.value < $1.value }.map(\.key.ipv4)

    /// Relayed transport addresses per relay IPv4 address: the ports a replay takes from that address's pool.
    private(set) lazy var relayPortsNeeded: [UInt32: Int] = relayAddresses.reduce(into: [:]) { $0[$1, default: 0] += 1 }

    /// Keeps the untagged Ethernet frames holding one whole IPv4/UDP datagram,
    /// captured in full; parses their payloads.
    private func read(_ path: String) throws {
        let reader = try PcapFileReader(path: path)
        guard reader.linkType == .ethernet else { throw SynthError("link type is not Ethernet") }
        var firstTime: Int64?
        while let captured = try reader.nextPacket() {
            let frame = captured.bytes
            guard captured.linkType == .ethernet, frame.count == captured.originalLength,
                  let (ip, udp) = TemplatePacket.locateIPv4UDP(in: frame) else { continue }
            let source = Endpoint(.v4(frame.loadBE32(ip + 12)), frame.loadBE16(udp))
            let destination = Endpoint(.v4(frame.loadBE32(ip + 16)), frame.loadBE16(udp + 2))
            // ChannelData is only looked for where a client talks to the server's port.
            let serverFlow = TemplateCapture.serverPorts.contains(source.port) || TemplateCapture.serverPorts.contains(destination.port)
            let payload: TemplatePayload
            do {
                payload = try TemplatePayload(parsing: UnsafeRawBufferPointer(rebasing: frame[(udp + 8)...]), channelDataAllowed: serverFlow)
            } catch {
                throw SynthError("frame \(captured.frameNumber): \(error)")
            }
            let time = captured.time.nanoseconds
            if firstTime == nil { firstTime = time }
            packets.append(TemplatePacket(time: time - firstTime!, frame: Array(frame), ipOffset: ip, udpOffset: udp,
                                          source: source, destination: destination, payload: payload))
        }
    }

    private func findServerAddresses() {
        var allocateFlows = Set<FiveTuple>()
        for packet in packets {
            if TemplateCapture.serverPorts.contains(packet.source.port) { serverIPs.insert(packet.source.ipv4) }
            if TemplateCapture.serverPorts.contains(packet.destination.port) { serverIPs.insert(packet.destination.ipv4) }
            guard let message = packet.payload.stunMessage, message.method == .allocate else { continue }
            if message.messageClass == .request {
                allocateFlows.insert(FiveTuple(source: packet.source, destination: packet.destination, transport: .udp))
            }
            if message.messageClass == .success {
                for attribute in message.attributes where attribute.type == .xorRelayedAddress {
                    guard let relayed = attribute.address, case let .v4(address) = relayed.address else { continue }
                    serverIPs.insert(address)
                    if relayEndpoints[relayed] == nil { relayEndpoints[relayed] = relayEndpoints.count }
                }
            }
        }
        allocations = allocateFlows.count
    }

    /// ChannelData, Send/Data indications and peer-leg datagrams (to or from
    /// a relayed address) are relay traffic. Returns the client-to-server
    /// 5-tuples that carry some.
    private func classifyRelayTraffic() -> Set<FiveTuple> {
        var relayFlows = Set<FiveTuple>()
        for index in packets.indices {
            let packet = packets[index]
            let isRelay: Bool
            switch packet.payload {
            case let .stun(message, _):
                isRelay = (message.method == .send || message.method == .data) && message.messageClass == .indication
            case .channelData:
                isRelay = true
            case .application:
                isRelay = relayEndpoints[packet.source] != nil || relayEndpoints[packet.destination] != nil
            }
            packets[index].isRelay = isRelay
            guard isRelay else { continue }
            relayIndices.append(index)
            if packet.payload.carriesStun { relayChecks += 1 }
            if TemplateCapture.serverPorts.contains(packet.destination.port) {
                relayFlows.insert(FiveTuple(source: packet.source, destination: packet.destination, transport: .udp))
            }
        }
        if let first = relayIndices.first, let last = relayIndices.last {
            relayStart = packets[first].time
            relayEnd = packets[last].time
        }
        return relayFlows
    }

    /// Binding, Refresh, CreatePermission and ChannelBind requests on a
    /// relaying 5-tuple, paired with their success responses. A Refresh
    /// with LIFETIME 0 is left out: replayed, it would end the allocation.
    private func findControlPairs(on relayFlows: Set<FiveTuple>) {
        struct Transaction: Hashable {
            var id: StunTransactionID
            var method: StunMethod
        }
        let replayable: [StunMethod] = [.binding, .refresh, .createPermission, .channelBind]
        var requests: [Transaction: Int] = [:]
        for index in packets.indices where !packets[index].isRelay {
            let packet = packets[index]
            guard let message = packet.payload.stunMessage, replayable.contains(message.method) else { continue }
            let transaction = Transaction(id: message.transactionID, method: message.method)
            if message.messageClass == .request {
                guard relayFlows.contains(FiveTuple(source: packet.source, destination: packet.destination, transport: .udp)) else { continue }
                if message.method == .refresh,
                   message.attributes.contains(where: { $0.type == .lifetime && $0.value == .unsigned(0) }) { continue }
                requests[transaction] = index
            } else if message.messageClass == .success, let request = requests.removeValue(forKey: transaction) {
                controlPairs.append((request, index))
            }
        }
    }

    /// The slot (0, 1, 2, ...) of a client-side address, in the order the generator meets them.
    func clientSlot(_ address: UInt32) -> Int {
        if let slot = clientIndex[address] { return slot }
        let slot = clientIndex.count
        clientIndex[address] = slot
        return slot
    }
}

extension Endpoint {
    /// The IPv4 address of an endpoint read from an IPv4 header.
    var ipv4: UInt32 {
        if case let .v4(address) = address { return address }
        preconditionFailure("template endpoints are IPv4")
    }
}
