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
        // MS-TURN and the TURN drafts number Send/Data differently; map them onto RFC 5766 methods.
        var method = message.method.rawValue
        if message.dialect != .rfc5389 {
            switch method {
            case 0x004: method = 0x006
            case 0x005: method = 0x007
            default: break
            }
        }
        self.init(context: context, flow: flow, methodNumber: method, methodName: message.methodName,
                  messageClass: cls, transactionId: "",
                  transactionKey: TransactionKeyBits(high: message.transactionID.high,
                                                     low: message.transactionID.low ^ (message.transactionID.isClassic ? 1 : 0)),
                  classic: message.isClassic, payloadHash: payloadHash, payloadLength: payloadLength)
        self.carrier = carrier
        explicitTransactionId = nil    // the text comes from transactionKey when it is read
        // One pass over the attributes, by type (the dialect decides what 0x0014-0x0016 mean). Same results as the StunMessage lookups by name:
        // "first" lookups take the first attribute of that meaning, whatever its value.
        let rfc = message.dialect == .rfc5389
        var seen: UInt32 = 0
        @inline(__always) func once(_ bit: UInt32) -> Bool {
            if seen & bit != 0 { return false }
            seen |= bit
            return true
        }
        var haveErrorCode = false
        var haveData = false
        for a in message.attributes {
            let value = a.value
            switch a.type.rawValue {
            case 0x0006: if once(1 << 0) { username = ObservedStunMessage.string(value) }
            case 0x0014, 0x0015:
                if (a.type.rawValue == 0x0014) == rfc {
                    if once(1 << 1) { realm = ObservedStunMessage.string(value) }
                } else if once(1 << 2) {
                    nonce = ObservedStunMessage.string(value)
                }
            case 0x8022: if once(1 << 3) { software = ObservedStunMessage.string(value) }
            case 0x000D: if once(1 << 4) { lifetime = ObservedStunMessage.unsigned(value).map { UInt32(truncatingIfNeeded: $0) } }
            case 0x0016:
                if message.dialect != .classic, let e = ObservedStunMessage.address(value) { xorRelayed.append(e) }
            case 0x0020: if once(1 << 5) { xorMapped = ObservedStunMessage.address(value) }
            case 0x0001: if once(1 << 6) { mapped = ObservedStunMessage.address(value) }
            case 0x0012, 0x0011:
                if let e = ObservedStunMessage.address(value) { xorPeers.append(e) }
            case 0x000C: if once(1 << 7) { channelNumber = ObservedStunMessage.unsigned(value).map { UInt16(truncatingIfNeeded: $0) } }
            case 0x0009:
                if !haveErrorCode, case let .errorCode(code, reason) = value {
                    haveErrorCode = true
                    errorCode = code
                    errorReason = reason
                }
            case 0x0019: if once(1 << 8) { requestedTransport = ObservedStunMessage.unsigned(value).map { UInt8(truncatingIfNeeded: $0) } }
            case 0x0024: if once(1 << 9) { priority = ObservedStunMessage.unsigned(value).map { UInt32(truncatingIfNeeded: $0) } }
            case 0x0025: useCandidate = true
            case 0x802A: if once(1 << 10) { iceControlling = ObservedStunMessage.unsigned(value) }
            case 0x8029: if once(1 << 11) { iceControlled = ObservedStunMessage.unsigned(value) }
            case 0xC001: if once(1 << 12) { nomination = ObservedStunMessage.unsigned(value).map { UInt32(truncatingIfNeeded: $0) } }
            case 0x0013:
                if !haveData, case let .data(d) = value {
                    haveData = true
                    dataLength = d.length
                    dataHash = d.hash
                }
            case 0x0018:
                if case let .evenPort(reserve) = value { evenPort = reserve }
            case 0x0022:
                if case let .bytes(b) = value { reservationToken = b.map { String(format: "%02x", $0) }.joined() }
            case 0x001A: dontFragment = true
            case 0x0017: requestedAddressFamily = ObservedStunMessage.unsigned(value).map { UInt8(truncatingIfNeeded: $0) }
            case 0x8000: additionalAddressFamily = ObservedStunMessage.unsigned(value).map { UInt8(truncatingIfNeeded: $0) }
            case 0x802C: otherAddress = ObservedStunMessage.address(value)
            case 0x802B: responseOrigin = ObservedStunMessage.address(value)
            case 0x0005: changedAddress = ObservedStunMessage.address(value)
            case 0x0004: sourceAddress = ObservedStunMessage.address(value)
            case 0x8023: alternateServer = ObservedStunMessage.address(value)
            case 0x0003:
                if case let .changeRequest(ip, port) = value {
                    hasChangeRequest = true
                    changeIP = ip
                    changePort = port
                }
            case 0x002A: connectionId = ObservedStunMessage.unsigned(value).map { UInt32(truncatingIfNeeded: $0) }
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

    @inline(never) static func string(_ v: StunAttributeValue) -> String? {
        if case let .string(x) = v { return x } else { return nil }
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
