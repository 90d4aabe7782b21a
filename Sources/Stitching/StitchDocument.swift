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
    public var flows: [Flow] = []
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

    public struct FlowID: Encodable, Sendable {
        public var source: String
        public var destination: String
        public var transport: String
    }

    public struct Flow: Encodable, Sendable {
        /// The vantage point that saw the flow's packets first (nearest the sender).
        public var vantage: String
        public var flow: FlowID
        /// What the flow carries: `STUN Binding`, `ICE checks`, `TURN Allocate`, `ChannelData`, `rtp`, ...
        public var carries: [String]
        public var packets: Int
        public var seenAt: [String: Int]
        public var hops: [HopSummary]
        public var lost: Int
        public var seenOnlyAtSender: Int
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
