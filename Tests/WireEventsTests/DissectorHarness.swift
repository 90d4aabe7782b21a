import NetworkVocabulary
@testable import PacketDecoding
import StunWire
import WireEvents

/// Collects events; feeds the dissector units built from byte arrays.
final class EventLog: WireEventConsumer {
    var events: [WireEvent] = []
    func wireEvent(_ event: WireEvent) { events.append(event) }

    var stun: [StunMessageEvent] { events.compactMap { if case let .stunMessage(e) = $0 { return e } else { return nil } } }
    var channelData: [ChannelDataEvent] { events.compactMap { if case let .channelData(e) = $0 { return e } else { return nil } } }
    var malformed: [MalformedEvent] { events.compactMap { if case let .malformed(e) = $0 { return e } else { return nil } } }
    var other: [OtherPayloadEvent] { events.compactMap { if case let .otherPayload(e) = $0 { return e } else { return nil } } }
    var skipped: [StreamSkippedEvent] { events.compactMap { if case let .streamSkipped(e) = $0 { return e } else { return nil } } }
    var icmp: [ICMPErrorEvent] { events.compactMap { if case let .icmpError(e) = $0 { return e } else { return nil } } }
}

struct Harness {
    let log = EventLog()
    let dissector: WireDissector
    var frame = 0

    init(credentials: CredentialStore = CredentialStore(), configure: (inout WireDissector.Configuration) -> Void = { _ in }) {
        var configuration = WireDissector.Configuration()
        configure(&configuration)
        dissector = WireDissector(consumer: log, credentials: credentials, configuration: configuration)
    }

    mutating func context() -> FrameContext {
        frame += 1
        return FrameContext(frame: frame, time: CaptureTime(nanoseconds: 1_700_000_000_000_000_000 + Int64(frame) * 1_000_000))
    }

    mutating func udp(_ from: String, _ to: String, _ payload: [UInt8]) {
        let flow = FiveTuple(source: Endpoint(from)!, destination: Endpoint(to)!, transport: .udp)
        let ctx = context()
        payload.withUnsafeBytes { raw in
            dissector.udpDatagram(UDPDatagram(context: ctx, flow: flow, payload: raw, reassembled: false))
        }
    }

    mutating func tcpOpen(_ stream: Int, _ from: String, _ to: String, handshake: Bool = true) {
        let flow = FiveTuple(source: Endpoint(from)!, destination: Endpoint(to)!, transport: .tcp)
        dissector.tcpEvent(TCPStreamEvent(context: context(), stream: stream, flow: flow, kind: .opened(sawHandshake: handshake)))
    }

    mutating func tcp(_ stream: Int, _ from: String, _ to: String, _ payload: [UInt8], offset: UInt64 = 1) {
        let flow = FiveTuple(source: Endpoint(from)!, destination: Endpoint(to)!, transport: .tcp)
        let ctx = context()
        payload.withUnsafeBytes { raw in
            dissector.tcpData(TCPStreamData(context: ctx, stream: stream, flow: flow, streamOffset: offset, payload: raw))
        }
    }

    mutating func tcpEvent(_ stream: Int, _ from: String, _ to: String, _ kind: TCPStreamEventKind) {
        let flow = FiveTuple(source: Endpoint(from)!, destination: Endpoint(to)!, transport: .tcp)
        dissector.tcpEvent(TCPStreamEvent(context: context(), stream: stream, flow: flow, kind: kind))
    }

    mutating func icmp(quoting from: String, _ to: String, _ payload: [UInt8]) {
        let flow = FiveTuple(source: Endpoint(from)!, destination: Endpoint(to)!, transport: .udp)
        let ctx = context()
        payload.withUnsafeBytes { raw in
            dissector.icmpError(ICMPError(context: ctx, reporter: flow.destination.address, isICMPv6: false, type: 3, code: 3,
                                          quotedFlow: flow, quotedPayload: raw))
        }
    }
}

func message(_ method: StunMethod, _ cls: StunMessageClass, id: UInt8 = 1,
             _ build: (inout StunMessageBuilder) -> Void = { _ in }) -> [UInt8] {
    var b = StunMessageBuilder(type: StunMessageType(method: method, messageClass: cls),
                               transactionID: [UInt8](repeating: id, count: 12))
    build(&b)
    return b.bytes
}

func channelData(_ channel: UInt16, _ data: [UInt8], padded: Bool = false) -> [UInt8] {
    var bytes = [UInt8(channel >> 8), UInt8(channel & 0xff), UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    if padded { bytes += [UInt8](repeating: 0, count: (4 - data.count % 4) % 4) }
    return bytes
}

func hash(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { PayloadHash.hash64($0) } }
