import NetworkVocabulary
import StunWire
import WireEvents

/// The `messages --format ndjson` line format (docs/messages.md is its contract):
/// one JSON object per STUN message, ChannelData frame or malformed message.
public struct MessagesNDJSON {
    /// Add `"file"` (the capture's index) to every line: multi-file runs.
    public var includeFileIndex: Bool

    public init(includeFileIndex: Bool = false) {
        self.includeFileIndex = includeFileIndex
    }

    /// Appends the line for `event` (with its newline) to `out`; false when
    /// the event is not one `messages` lists.
    @discardableResult
    public func write(_ event: WireEvent, to out: inout JSONByteWriter) -> Bool {
        switch event {
        case let .stunMessage(e):
            prologue(&out, e.context, e.flow.source, e.flow.destination, e.flow.transport, kind: "stun")
            message(e.message, to: &out)
            if let carrier = e.carrier { self.carrier(carrier, to: &out) }
        case let .channelData(e):
            prologue(&out, e.context, e.flow.source, e.flow.destination, e.flow.transport, kind: "channeldata")
            out.key("channel"); out.uint(UInt64(e.channel))
            out.key("length"); out.int(e.length)
            out.key("payloadClass"); out.string(e.payload.payloadClass.rawValue)
            out.key("payloadHash"); out.hex64(e.payload.hash)
            if let session = e.msTurnSessionID { out.key("msTurnSessionId"); out.hex64(session) }
        case let .malformed(e):
            prologue(&out, e.context, e.flow.source, e.flow.destination, e.flow.transport, kind: "malformed")
            out.key("reason"); out.string(e.reason)
            if let partial = e.partial { message(partial, to: &out) }
            if let carrier = e.carrier { self.carrier(carrier, to: &out) }
        case let .icmpError(e):
            guard let quoted = e.quotedMessage else { return false }
            prologue(&out, e.context, e.quotedFlow.source, e.quotedFlow.destination, e.quotedFlow.transport, kind: "stun")
            message(quoted, to: &out)
            if quoted.malformation != nil { out.key("quoteTruncated"); out.bool(true) }
            out.key("carrier")
            out.objectStart()
            out.key("frame"); out.int(e.context.frame)
            out.key("kind"); out.plainString("icmp")
            out.key("reporter"); out.string(e.reporter.description)
            out.key("icmpType"); out.uint(UInt64(e.type))
            out.key("icmpCode"); out.uint(UInt64(e.code))
            out.key("meaning"); out.string(e.meaning)
            out.objectEnd()
        case .otherPayload, .tcpConnection, .streamSkipped:
            return false
        }
        out.objectEnd()
        out.newline()
        return true
    }

    private func prologue(_ out: inout JSONByteWriter, _ context: FrameContext, _ source: Endpoint, _ destination: Endpoint,
                          _ transport: TransportProtocol, kind: StaticString) {
        out.objectStart()
        out.key("frame"); out.int(context.frame)
        if includeFileIndex { out.key("file"); out.int(context.fileIndex) }
        out.key("time"); out.epochSeconds(nanoseconds: context.time.nanoseconds)
        out.key("src"); out.endpoint(source)
        out.key("dst"); out.endpoint(destination)
        out.key("transport"); transport == .udp ? out.plainString("udp") : out.plainString("tcp")
        out.key("kind"); out.plainString(kind)
    }

    private func message(_ m: StunMessage, to out: inout JSONByteWriter) {
        out.key("method"); out.string(m.methodName)
        out.key("class"); out.string(m.messageClass.name)
        out.key("type"); out.uint(UInt64(m.type.rawValue))
        out.key("transactionId"); out.hexString(m.transactionID.idBytes)
        out.key("classic"); out.bool(m.isClassic)
        if m.dialect == .msTurn { out.key("dialect"); out.plainString("ms-turn") }
        out.key("attributes")
        out.arrayStart()
        for a in m.attributes { attribute(a, to: &out) }
        out.arrayEnd()
        if let code = m.errorCode { out.key("errorCode"); out.int(code) }
        if let fingerprint = m.fingerprint { out.key("fingerprint"); out.string(fingerprint.rawValue) }
        if let integrity = m.integrity { out.key("integrity"); out.string(integrity.rawValue) }
    }

    private func attribute(_ a: StunAttribute, to out: inout JSONByteWriter) {
        out.objectStart()
        out.key("type"); out.uint(UInt64(a.type.rawValue))
        out.key("name"); out.string(a.name)
        out.key("length"); out.int(a.length)
        switch a.value {
        case let .address(endpoint):
            out.key("address"); out.endpoint(endpoint)
        case let .unsigned(value):
            out.key("value"); out.uint(value)
        case let .string(value):
            out.key("value"); out.string(value)
        case let .errorCode(code, reason):
            out.key("code"); out.int(code)
            out.key("reason"); out.string(reason)
        case let .addressErrorCode(family, code, reason):
            out.key("family"); out.uint(UInt64(family))
            out.key("code"); out.int(code)
            out.key("reason"); out.string(reason)
        case let .changeRequest(changeIP, changePort):
            out.key("changeIP"); out.bool(changeIP)
            out.key("changePort"); out.bool(changePort)
        case let .evenPort(reserveNext):
            out.key("reserveNext"); out.bool(reserveNext)
        case .empty:
            break
        case let .unsigned16List(list), let .passwordAlgorithms(list):
            out.key("value")
            out.arrayStart()
            for v in list { out.uint(UInt64(v)) }
            out.arrayEnd()
        case let .data(summary):
            out.key("length"); out.int(summary.length)
            out.key("payloadClass"); out.string(summary.payloadClass.rawValue)
            out.key("payloadHash"); out.hex64(summary.hash)
        case let .bytes(bytes):
            out.key("value"); out.hexString(bytes)
        case let .icmp(type, code, errorData):
            out.key("icmpType"); out.uint(UInt64(type))
            out.key("icmpCode"); out.uint(UInt64(code))
            out.key("errorData"); out.uint(UInt64(errorData))
        case let .networkInfo(networkID, cost):
            out.key("networkId"); out.uint(UInt64(networkID))
            out.key("networkCost"); out.uint(UInt64(cost))
        case let .transmitCounter(request, response):
            out.key("request"); out.uint(UInt64(request))
            out.key("response"); out.uint(UInt64(response))
        case let .invalid(reason):
            out.key("malformed"); out.string(reason)
        }
        out.objectEnd()
    }

    private func carrier(_ c: MessageCarrier, to out: inout JSONByteWriter) {
        out.key("carrier")
        out.objectStart()
        out.key("frame"); out.int(c.frame)
        out.key("kind"); out.string(c.kind.rawValue)
        if let channel = c.channel { out.key("channel"); out.uint(UInt64(channel)) }
        if let peer = c.peer { out.key("peer"); out.endpoint(peer) }
        if let type = c.carrierType { out.key("type"); out.uint(UInt64(type.rawValue)) }
        out.objectEnd()
    }
}
