import NetworkVocabulary

/// The `analyze --stitch` JSON document (docs/stitch.md): one call seen
/// from several vantage points. Times are seconds on the reference vantage's
/// clock; delays in milliseconds.
public struct StitchDocument: Encodable, Sendable {
    public var schemaVersion = 1
    public var generator = "stunscope analyze --stitch"
    public var reference: String = ""
    public var vantages: [Vantage] = []
    public var natTranslations: [Translation] = []
    public var nats: [Nat] = []
    public var hops: [HopSummary] = []
    public var conversations: [Conversation] = []
    public var transactions: [Transaction] = []
    public var packets: [Packet] = []
    /// What could not be stitched, and why.
    public var notes: [String] = []

    public init() {}

    public struct Vantage: Encodable, Sendable {
        public var name: String
        public var file: String
        /// Datagrams and framed messages read (the units that can be stitched).
        public var sightings: Int
        /// Sightings that are one packet with a sighting elsewhere.
        public var sharedSightings: Int
        public var linked: Bool
        /// Seconds to subtract from this capture's timestamps to put them on the reference clock.
        public var clockOffset: Double?
        /// The offset lies within clockOffset ± uncertainty (seconds).
        public var uncertainty: Double?
        public var clockTransactions: Int
        public var clockMeasuredAgainst: String?
        public var clockInconsistent: Bool
        public var firstTime: Double?
        public var lastTime: Double?
        public var sightingsDropped: Int
    }

    public struct FramesAt: Encodable, Sendable {
        public var vantage: String
        public var first: Int
        public var last: Int
    }

    public struct Translation: Encodable, Sendable {
        public var nat: String
        public var insideVantage: String
        public var outsideVantages: [String]
        public var transport: String
        public var inside: String
        public var outside: String
        public var destination: String
        public var outboundPackets: Int
        public var inboundPackets: Int
        public var frames: [FramesAt]
    }

    public struct Nat: Encodable, Sendable {
        public var outsideAddress: String
        public var insideVantage: String
        public var outsideVantages: [String]
        public var mapping: String
        public var mappingEvidence: String
        public var portPreserving: Bool
        public var filtering: String
        public var filteringEvidence: String
        public var translations: Int
        public var packetsDropped: Int
    }

    public struct Delay: Encodable, Sendable {
        public var minMs: Double
        public var medianMs: Double
        public var maxMs: Double
    }

    public struct HopSummary: Encodable, Sendable {
        public var from: String
        public var to: String
        public var packets: Int
        public var lost: Int
        public var delay: Delay?
    }

    /// One direction of a conversation.
    public struct Direction: Encodable, Sendable {
        public var source: String
        public var destination: String
        /// The vantage point that saw most of this direction's packets first (nearest the sender).
        public var senderVantage: String
        public var packets: Int
        public var lost: Int
        public var seenAt: [String: Int]
        public var hops: [HopSummary]
    }

    /// Both directions between two endpoints as addressed outside the NATs: a TURN
    /// allocation's client 5-tuple, an ICE candidate pair, a Binding session, a relayed
    /// address and its peer.
    public struct Conversation: Encodable, Sendable {
        /// `turn-allocation`, `ice-pair`, `stun-binding`, `sip`, `relay-peer` or `other`.
        public var kind: String
        public var transport: String
        public var endpoints: [String]
        /// Endpoints that are a NAT's outside endpoint -> the inside endpoint behind it.
        public var behindNat: [String: String]
        /// TURN allocations: the relayed addresses the server gave (XOR-RELAYED-ADDRESS).
        public var relayed: [String]
        /// ICE pairs: the USERNAMEs of the checks (from the packets: escape them where printed).
        public var usernames: [String]
        public var carries: [String]
        public var directions: [Direction]
    }

    public struct TransactionSeen: Encodable, Sendable {
        public var vantage: String
        public var requests: Int
        public var answers: Int
    }

    public struct Transaction: Encodable, Sendable {
        public var transactionId: String
        public var method: String
        /// Distinct request packets (a request seen at several vantage points counts once).
        public var requests: Int
        public var retransmissions: Int
        public var answers: Int
        public var seenAt: [TransactionSeen]
    }

    public struct SightingOut: Encodable, Sendable {
        public var vantage: String
        public var frame: Int
        public var time: Double
        public var source: String
        public var destination: String
    }

    public struct Loss: Encodable, Sendable {
        public var lastSeenAt: String
        public var expectedAt: String
        public var nat: String?
    }

    public struct Packet: Encodable, Sendable {
        public var summary: String
        public var transport: String
        public var transactionId: String?
        public var sightings: [SightingOut]
        public var lost: Loss?
    }
}
