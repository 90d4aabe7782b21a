import PacketDecoding
import StunWire

extension ObservedStunMessage {
    /// Flattens a dissected message into what the trackers read.
    public init(_ message: StunMessage, context: FrameContext, flow: FiveTuple, payloadHash: UInt64,
                payloadLength: Int, carrier: Carrier?) {
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
                  messageClass: cls, transactionId: message.transactionID.hex,
                  transactionKey: TransactionKeyBits(high: message.transactionID.high,
                                                     low: message.transactionID.low ^ (message.transactionID.isClassic ? 1 : 0)),
                  classic: message.isClassic, payloadHash: payloadHash, payloadLength: payloadLength)
        self.carrier = carrier
        username = message.username
        realm = message.realm
        nonce = message.nonce
        software = message.software
        lifetime = message.lifetime
        xorRelayed = message.xorRelayedAddresses
        xorMapped = message.xorMappedAddress
        mapped = message.mappedAddress
        xorPeers = message.peerAddresses
        channelNumber = message.channelNumber
        errorCode = message.errorCode
        errorReason = message.errorReason
        requestedTransport = message.requestedTransport
        priority = message.priority
        useCandidate = message.useCandidate
        iceControlling = message.iceControlling
        iceControlled = message.iceControlled
        nomination = message.nomination
        if let d = message.data {
            dataLength = d.length
            dataHash = d.hash
        }
        for a in message.attributes {
            switch a.name {
            case "EVEN-PORT":
                if case let .evenPort(reserve) = a.value { evenPort = reserve }
            case "RESERVATION-TOKEN":
                if case let .bytes(b) = a.value { reservationToken = b.map { String(format: "%02x", $0) }.joined() }
            case "DONT-FRAGMENT":
                dontFragment = true
            case "REQUESTED-ADDRESS-FAMILY":
                requestedAddressFamily = a.unsigned.map { UInt8(truncatingIfNeeded: $0) }
            case "ADDITIONAL-ADDRESS-FAMILY":
                additionalAddressFamily = a.unsigned.map { UInt8(truncatingIfNeeded: $0) }
            case "OTHER-ADDRESS":
                otherAddress = a.address
            case "RESPONSE-ORIGIN":
                responseOrigin = a.address
            case "CHANGED-ADDRESS":
                changedAddress = a.address
            case "SOURCE-ADDRESS":
                sourceAddress = a.address
            case "ALTERNATE-SERVER":
                alternateServer = a.address
            case "CHANGE-REQUEST":
                if case let .changeRequest(ip, port) = a.value {
                    hasChangeRequest = true
                    changeIP = ip
                    changePort = port
                }
            case "CONNECTION-ID":
                connectionId = a.unsigned.map { UInt32(truncatingIfNeeded: $0) }
            default:
                break
            }
        }
        hasIntegrity = message.integrity != nil
        integrity = message.integrity?.rawValue
    }
}

import Foundation
