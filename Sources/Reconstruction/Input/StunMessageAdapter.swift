import NetworkVocabulary
import StunWire
import WireEvents

extension ObservedStunMessage {
    /// Flattens a dissected message into what the trackers read.
    public init(_ message: StunMessage, context: FrameContext, flow: FiveTuple, payloadHash: UInt64,
                payloadLength: Int, carrier: MessageCarrier?) {
        let cls: ObservedClass
        switch message.messageClass {
        case .request: cls = .request
        case .indication: cls = .indication
        case .success: cls = .success
        case .error: cls = .error
        }
        self.init(context: context, flow: flow, method: message.methodMeaning, messageClass: cls, transactionId: "",
                  transactionKey: TransactionKeyBits(high: message.transactionID.high,
                                                     low: message.transactionID.low ^ (message.transactionID.isClassic ? 1 : 0)),
                  classic: message.isClassic, payloadHash: payloadHash, payloadLength: payloadLength)
        self.carrier = carrier
        explicitTransactionId = nil    // the text comes from transactionKey when it is read
        // One pass over the attributes, by their RFC 5389/8489 role (StunWire maps the dialects: MS-TURN's
        // 0x0014 is NONCE). Same results as the StunMessage lookups by name:
        // "first" lookups take the first attribute of that meaning, whatever its value.
        var seen: UInt32 = 0
        @inline(__always) func once(_ bit: UInt32) -> Bool {
            if seen & bit != 0 { return false }
            seen |= bit
            return true
        }
        var haveErrorCode = false
        var haveData = false
        let dialect = message.dialect
        msTurn = dialect == .msTurn
        let attributes = message.attributes
        for index in attributes.indices {
            // Values are read in place (`attributes[index].value`): an element bound to a name
            // would be copied for each attribute around the calls below.
            guard let type = attributes[index].type.standard(in: dialect) else { continue }
            switch type {
            case .username: if once(1 << 0) { username = ObservedStunMessage.identifier(attributes[index].value) }
            case .realm: if once(1 << 1) { realm = ObservedStunMessage.string(attributes[index].value) }
            case .nonce: if once(1 << 2) { nonce = ObservedStunMessage.string(attributes[index].value) }
            case .software: if once(1 << 3) { software = ObservedStunMessage.string(attributes[index].value) }
            case .lifetime: if once(1 << 4) { lifetime = ObservedStunMessage.unsigned(attributes[index].value).map { UInt32(truncatingIfNeeded: $0) } }
            case .xorRelayedAddress: if let e = ObservedStunMessage.address(attributes[index].value) { xorRelayed.append(e) }
            case .xorMappedAddress: if once(1 << 5) { xorMapped = ObservedStunMessage.address(attributes[index].value) }
            case .mappedAddress: if once(1 << 6) { mapped = ObservedStunMessage.address(attributes[index].value) }
            case .xorPeerAddress, .destinationAddress:
                if let e = ObservedStunMessage.address(attributes[index].value) { xorPeers.append(e) }
            case .channelNumber: if once(1 << 7) { channelNumber = ObservedStunMessage.unsigned(attributes[index].value).map { UInt16(truncatingIfNeeded: $0) } }
            case .errorCode:
                if !haveErrorCode, case let .errorCode(code, reason) = attributes[index].value {
                    haveErrorCode = true
                    errorCode = code
                    errorReason = reason.last == "\0" ? ObservedStunMessage.trimmingNULs(reason) : reason
                }
            case .requestedTransport: if once(1 << 8) { requestedTransport = ObservedStunMessage.unsigned(attributes[index].value).map { UInt8(truncatingIfNeeded: $0) } }
            case .priority: if once(1 << 9) { priority = ObservedStunMessage.unsigned(attributes[index].value).map { UInt32(truncatingIfNeeded: $0) } }
            case .useCandidate: useCandidate = true
            case .iceControlling: if once(1 << 10) { iceControlling = ObservedStunMessage.unsigned(attributes[index].value) }
            case .iceControlled: if once(1 << 11) { iceControlled = ObservedStunMessage.unsigned(attributes[index].value) }
            case .nomination: if once(1 << 12) { nomination = ObservedStunMessage.unsigned(attributes[index].value).map { UInt32(truncatingIfNeeded: $0) } }
            case .data:
                if !haveData, case let .data(d) = attributes[index].value {
                    haveData = true
                    dataLength = d.length
                    dataHash = d.hash
                }
            case .evenPort:
                if case let .evenPort(reserve) = attributes[index].value { evenPort = reserve }
            case .reservationToken:
                if case let .bytes(b) = attributes[index].value { reservationToken = b.map { String(format: "%02x", $0) }.joined() }
            case .dontFragment: dontFragment = true
            case .requestedAddressFamily: requestedAddressFamily = ObservedStunMessage.unsigned(attributes[index].value).map { UInt8(truncatingIfNeeded: $0) }
            case .additionalAddressFamily: additionalAddressFamily = ObservedStunMessage.unsigned(attributes[index].value).map { UInt8(truncatingIfNeeded: $0) }
            case .otherAddress: otherAddress = ObservedStunMessage.address(attributes[index].value)
            case .responseOrigin: responseOrigin = ObservedStunMessage.address(attributes[index].value)
            case .changedAddress: changedAddress = ObservedStunMessage.address(attributes[index].value)
            case .sourceAddress: sourceAddress = ObservedStunMessage.address(attributes[index].value)
            case .alternateServer: alternateServer = ObservedStunMessage.address(attributes[index].value)
            case .changeRequest:
                if case let .changeRequest(ip, port) = attributes[index].value {
                    hasChangeRequest = true
                    changeIP = ip
                    changePort = port
                }
            case .responsePort: responsePort = ObservedStunMessage.unsigned(attributes[index].value).map { UInt16(truncatingIfNeeded: $0) }
            case .connectionID: connectionId = ObservedStunMessage.unsigned(attributes[index].value).map { UInt32(truncatingIfNeeded: $0) }
            default:
                break
            }
        }
        hasIntegrity = message.integrity != nil
        integrity = message.integrity
    }

    // Value extraction out of line: inlined into the loop above, Swift 6.3's
    // CopyPropagation pass crashes on this initialiser in release builds.
    @inline(never) static func unsigned(_ v: StunAttributeValue) -> UInt64? {
        if case let .unsigned(x) = v { return x } else { return nil }
    }

    /// Trailing NULs (C strings copied with their terminator: some SOFTWARE and reason phrases)
    /// are not part of the text.
    @inline(never) static func string(_ v: StunAttributeValue) -> String? {
        switch v {
        case let .string(x): return x.last == "\0" ? trimmingNULs(x) : x
        case let .bytes(b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }

    /// A USERNAME: its text, or `0x` and hex when it is a binary token that is not UTF-8 (MS-TURN).
    /// Text with control characters stays text: every renderer escapes it.
    @inline(never) static func identifier(_ v: StunAttributeValue) -> String? {
        if case let .bytes(b) = v { return hex(b.array) }
        return string(v)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "0"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func trimmingNULs(_ s: String) -> String {
        var t = Substring(s)
        while t.last == "\0" { t.removeLast() }
        return String(t)
    }

    @inline(never) static func address(_ v: StunAttributeValue) -> Endpoint? {
        if case let .address(x) = v { return x } else { return nil }
    }
}

import Foundation

extension ObservedStunMessage {
    /// The id as lowercase hex from its key bits (24 digits, 32 for classic).
    static func hex(_ key: TransactionKeyBits, classic: Bool) -> String {
        StunTransactionID(high: key.high, low: classic ? key.low ^ 1 : key.low, isClassic: classic).hex
    }
}
