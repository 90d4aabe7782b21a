import NetworkVocabulary
import StunWire
import WireEvents

/// The `messages --format text` line: frame, UTC time of day, endpoints,
/// then what the message is and its key attributes. Strings from packets go
/// through `TerminalText.sanitize`, so a USERNAME cannot move the cursor.
public struct MessagesText {
    /// Longest string value shown before it is cut with "...".
    public var maximumStringLength = 48
    public var style: TerminalStyle

    public init(style: TerminalStyle = TerminalStyle(enabled: false)) {
        self.style = style
    }

    /// The line for `event` (without newline), or nil when `messages` does not list it.
    public func line(_ event: WireEvent) -> String? {
        switch event {
        case let .stunMessage(e):
            var text = prologue(e.context, e.flow.source, e.flow.destination, e.flow.transport)
            if let carrier = e.carrier { text += style.dim(describe(carrier)) + " " }
            return text + message(e.message)
        case let .channelData(e):
            return prologue(e.context, e.flow.source, e.flow.destination, e.flow.transport)
                + style.cyan("ChannelData") + " " + hex16(e.channel) + " len=\(e.length) " + e.payload.payloadClass.rawValue
        case let .malformed(e):
            var text = prologue(e.context, e.flow.source, e.flow.destination, e.flow.transport)
            if let carrier = e.carrier { text += style.dim(describe(carrier)) + " " }
            text += style.red("MALFORMED") + " " + TerminalText.sanitize(e.reason)
            if let partial = e.partial { text += " | " + message(partial) }
            return text
        case let .icmpError(e):
            guard let quoted = e.quotedMessage else { return nil }
            return prologue(e.context, e.quotedFlow.source, e.quotedFlow.destination, e.quotedFlow.transport)
                + style.dim("[quoted in ICMP \(e.meaning) from \(e.reporter)]") + " " + message(quoted)
        case .otherPayload, .tcpConnection, .streamSkipped:
            return nil
        }
    }

    private func prologue(_ context: FrameContext, _ source: Endpoint, _ destination: Endpoint,
                          _ transport: TransportProtocol) -> String {
        let iso = context.time.iso8601
        // "2024-05-01T10:11:12.123456789Z" -> "10:11:12.123456"
        let clock = iso.count >= 26 ? String(iso.dropFirst(11).prefix(15)) : iso
        return "#\(context.frame) \(clock) \(transport) \(source) -> \(destination) "
    }

    private func message(_ m: StunMessage) -> String {
        var parts: [String] = [style.bold("\(m.methodName) \(m.messageClass.name)")]
        if m.isClassic { parts.append("classic") }
        parts.append("tid=" + m.transactionID.hex)
        for a in m.attributes {
            switch a.type {
            case .messageIntegrity, .messageIntegritySHA256, .fingerprint: continue
            default: parts.append(attribute(a))
            }
        }
        if let fingerprint = m.fingerprint {
            parts.append(fingerprint == .valid ? "fingerprint=valid" : style.red("fingerprint=\(fingerprint.rawValue)"))
        }
        if let integrity = m.integrity {
            let text = "integrity=\(integrity.rawValue)"
            parts.append(integrity == .invalid ? style.red(text) : integrity == .valid ? style.green(text) : text)
        }
        return parts.joined(separator: " ")
    }

    private func attribute(_ a: StunAttribute) -> String {
        let name = a.name == "UNKNOWN" ? a.type.description : a.name
        switch a.value {
        case let .address(endpoint): return "\(name)=\(endpoint)"
        case let .unsigned(value):
            return a.type == .channelNumber ? "\(name)=\(hex16(UInt16(truncatingIfNeeded: value)))" : "\(name)=\(value)"
        case let .string(value): return "\(name)=\"\(shorten(value))\""
        case let .errorCode(code, reason): return "\(name)=\(code) \"\(shorten(reason))\""
        case let .addressErrorCode(family, code, reason): return "\(name)=family\(family):\(code) \"\(shorten(reason))\""
        case let .changeRequest(ip, port): return "\(name)=\(ip ? "ip" : "")\(ip && port ? "+" : "")\(port ? "port" : "")\(ip || port ? "" : "none")"
        case let .evenPort(reserve): return reserve ? "\(name)=reserve-next" : name
        case .empty: return name
        case let .unsigned16List(list), let .passwordAlgorithms(list): return "\(name)=\(list.map(String.init).joined(separator: ","))"
        case let .data(summary): return "\(name)=\(summary.length)B \(summary.payloadClass.rawValue)"
        case let .bytes(bytes): return "\(name)=\(bytes.count)B"
        case let .icmp(type, code, _): return "\(name)=type\(type)/code\(code)"
        case let .networkInfo(id, cost): return "\(name)=id\(id)/cost\(cost)"
        case let .transmitCounter(request, response): return "\(name)=req\(request)/resp\(response)"
        case let .invalid(reason): return style.red("\(name)=<\(TerminalText.sanitize(reason))>")
        }
    }

    private func describe(_ c: MessageCarrier) -> String {
        switch c.kind {
        case .channelData: return "[in ChannelData \(c.channel.map(hex16) ?? "?") of #\(c.frame)]"
        case .dataAttribute: return "[in DATA of #\(c.frame)\(c.peer.map { " peer \($0)" } ?? "")]"
        case .icmp: return "[quoted in ICMP #\(c.frame)]"
        }
    }

    private func shorten(_ s: String) -> String {
        let safe = TerminalText.sanitize(s)
        return safe.count > maximumStringLength ? String(safe.prefix(maximumStringLength)) + "..." : safe
    }

    private func hex16(_ v: UInt16) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
