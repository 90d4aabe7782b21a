import NetworkVocabulary
import WireEvents
import StunWire

/// What the reconstructors need from one STUN message, flattened.
///
/// The dissector's message keeps every attribute in wire order; the
/// reconstructors need a dozen of them by meaning. `WireEventAdapter` fills
/// this once per message so the trackers never walk attribute lists.
public struct ObservedStunMessage {
    public var context: FrameContext
    public var flow: FiveTuple
    /// What the method does, whatever its dialect's number (StunWire's `StunMethodMeaning`).
    public var method: StunMethodMeaning
    /// `Allocate`, `SetActiveDestination`, ...; unknown methods by number (`0x200`).
    public var methodName: String { method.name }
    public var messageClass: ObservedClass
    /// Lowercase hex, 24 digits (32 for classic). Made from `transactionKey` when read
    /// (most messages never need it as text), unless set explicitly.
    public var transactionId: String {
        get { explicitTransactionId ?? ObservedStunMessage.hex(transactionKey, classic: classic) }
        set { explicitTransactionId = newValue }
    }
    /// An id given as text (hand-made observations); nil when it is the key's.
    var explicitTransactionId: String?
    public var transactionKey: TransactionKeyBits
    public var classic: Bool
    /// Hash of the whole UDP payload / framed message, to pair relay legs.
    public var payloadHash: UInt64
    public var payloadLength: Int
    /// MS-TURN (MS-TURN's own numbering; no permissions: its Send requests name the peer).
    public var msTurn = false
    /// Set when this message travelled inside a ChannelData frame or a DATA attribute.
    public var carrier: MessageCarrier?

    public var username: String?
    public var realm: String?
    public var nonce: String?
    public var software: String?
    public var lifetime: UInt32?
    public var xorRelayed: EndpointList = []
    public var xorMapped: Endpoint?
    public var mapped: Endpoint?
    public var xorPeers: EndpointList = []
    public var channelNumber: UInt16?
    public var errorCode: Int?
    public var errorReason: String?
    public var requestedTransport: UInt8?
    public var evenPort: Bool?
    public var reservationToken: String?
    public var dontFragment = false
    public var requestedAddressFamily: UInt8?
    public var additionalAddressFamily: UInt8?
    public var dataLength: Int?
    public var dataHash: UInt64?
    public var priority: UInt32?
    public var useCandidate = false
    public var iceControlling: UInt64?
    public var iceControlled: UInt64?
    public var nomination: UInt32?
    public var otherAddress: Endpoint?
    public var responseOrigin: Endpoint?
    public var changedAddress: Endpoint?
    public var sourceAddress: Endpoint?
    public var alternateServer: Endpoint?
    public var changeIP = false
    public var changePort = false
    public var hasChangeRequest = false
    /// RFC 5780 RESPONSE-PORT: the answer goes to this port of the client, not the request's source port.
    public var responsePort: UInt16?
    public var connectionId: UInt32?
    public var hasIntegrity = false
    /// `valid`, `invalid`, `unchecked`, or nil when the message has no integrity attribute.
    public var integrity: StunCheckResult?

    public init(context: FrameContext, flow: FiveTuple, method: StunMethodMeaning,
                messageClass: ObservedClass, transactionId: String, transactionKey: TransactionKeyBits,
                classic: Bool, payloadHash: UInt64, payloadLength: Int) {
        self.context = context
        self.flow = flow
        self.method = method
        self.messageClass = messageClass
        self.explicitTransactionId = transactionId
        self.transactionKey = transactionKey
        self.classic = classic
        self.payloadHash = payloadHash
        self.payloadLength = payloadLength
    }

    /// A request whose answer comes from another server address or port (CHANGE-REQUEST with a
    /// flag set) or goes to another client port (RESPONSE-PORT): an RFC 3489 / 5780 NAT test.
    public var isRedirectedRequest: Bool {
        messageClass == .request && (changeIP || changePort || responsePort != nil)
    }

    /// A Binding request that carries ICE attributes (RFC 8445 section 7.1.1).
    public var isIceCheck: Bool {
        method == .binding && messageClass == .request
            && (priority != nil || iceControlling != nil || iceControlled != nil || useCandidate)
    }
}

public enum ObservedClass: String, Sendable {
    case request, indication, success, error
    public var isResponse: Bool { self == .success || self == .error }
}

/// A transaction id as kept in per-message sets: integers, made text only when a summary needs it.
public struct TransactionIdentity: Hashable, Sendable {
    public var key: TransactionKeyBits
    public var classic: Bool
    public var hex: String { ObservedStunMessage.hex(key, classic: classic) }

    public init(key: TransactionKeyBits, classic: Bool) {
        self.key = key
        self.classic = classic
    }

    /// The identity `hex` was made from: 24 hex digits (RFC 5389 and later) or 32 (classic).
    /// Read without building anything, so that a transaction's id text can be looked up in
    /// sets of identities instead of turning every identity into text.
    public init?(hex: String) {
        var words: (UInt64, UInt64) = (0, 0)
        var count = 0
        for c in hex.utf8 {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            guard count < 32 else { return nil }
            // Digits fill `low` last: shift the pair left by one nibble.
            words.0 = words.0 << 4 | words.1 >> 60
            words.1 = words.1 << 4 | UInt64(nibble)
            count &+= 1
        }
        switch count {
        case 24:
            let id = StunTransactionID(high: words.0, low: words.1, isClassic: false)
            self.init(key: TransactionKeyBits(high: id.high, low: id.low), classic: false)
        case 32:
            self.init(key: TransactionKeyBits(high: words.0, low: words.1 ^ 1), classic: true)
        default:
            return nil
        }
    }
}

extension ObservedStunMessage {
    public var identity: TransactionIdentity { TransactionIdentity(key: transactionKey, classic: classic) }
}

/// A transaction id as integers (hashable without allocation).
public struct TransactionKeyBits: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

public struct ObservedChannelData {
    public var context: FrameContext
    public var flow: FiveTuple
    public var channel: UInt16
    public var length: Int
    /// Hash of the application data (not the 4-byte header or padding).
    public var payloadHash: UInt64
    /// The application data is a STUN message (a relayed check), observed next with this
    /// frame as its carrier; false for media and anything else.
    public var carriesStun: Bool

    public init(context: FrameContext, flow: FiveTuple, channel: UInt16, length: Int, payloadHash: UInt64,
                carriesStun: Bool = false) {
        self.context = context
        self.flow = flow
        self.channel = channel
        self.length = length
        self.payloadHash = payloadHash
        self.carriesStun = carriesStun
    }
}

/// A datagram or stream chunk that is not STUN/ChannelData (media, DTLS, peer legs).
public struct ObservedDatagram {
    public var context: FrameContext
    public var flow: FiveTuple
    public var length: Int
    public var payloadHash: UInt64
    public var kind: String

    public init(context: FrameContext, flow: FiveTuple, length: Int, payloadHash: UInt64, kind: String) {
        self.context = context
        self.flow = flow
        self.length = length
        self.payloadHash = payloadHash
        self.kind = kind
    }
}
