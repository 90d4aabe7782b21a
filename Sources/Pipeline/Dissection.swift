import PacketDecoding
import Reconstruction
import StunWire
import WireEvents

/// Packet decoder -> wire dissector -> one consumer: the stages every command
/// that looks past the packet layer wires the same way.
public final class Dissection {
    public let decoder: PacketDecoder
    public let dissector: WireDissector

    public convenience init(consumer: WireEventConsumer, credentials: CredentialStore, turnPorts: [UInt16] = []) {
        var configuration = WireDissector.Configuration()
        configuration.turnServerPorts.formUnion(turnPorts)
        self.init(consumer: consumer, credentials: credentials, configuration: configuration)
    }

    /// With explicit table bounds (the fuzz harness shrinks them so eviction paths run).
    public init(consumer: WireEventConsumer, credentials: CredentialStore, configuration: WireDissector.Configuration,
                decoderLimits: PacketDecoder.Limits? = nil) {
        dissector = WireDissector(consumer: consumer, credentials: credentials, configuration: configuration)
        decoder = PacketDecoder(sink: dissector)
        if let decoderLimits { decoder.apply(decoderLimits) }
    }

    /// Flushes what the dissector still holds (TCP streams, pending integrity checks).
    public func finish() {
        dissector.finish()
    }

    /// What the bounded tables of the decoder and the dissector forgot.
    public var evictions: DissectionEvictions {
        let decoded = decoder.currentStatistics()
        let wire = dissector.statistics
        return DissectionEvictions(turnFiveTuples: wire.turnFlowsEvicted,
                                   tcpStreams: wire.tcpStreamsEvicted + decoded.tcpStreamsEvicted,
                                   ipFragments: decoded.fragmentDatagramsEvicted,
                                   integrityRequestKeys: wire.integrityTransactionsEvicted)
    }
}

/// State the lower stages dropped to stay within their memory bounds.
public struct DissectionEvictions: Sendable, Equatable {
    public var turnFiveTuples = 0
    public var tcpStreams = 0
    public var ipFragments = 0
    public var integrityRequestKeys = 0

    public init(turnFiveTuples: Int = 0, tcpStreams: Int = 0, ipFragments: Int = 0, integrityRequestKeys: Int = 0) {
        self.turnFiveTuples = turnFiveTuples
        self.tcpStreams = tcpStreams
        self.ipFragments = ipFragments
        self.integrityRequestKeys = integrityRequestKeys
    }

    public mutating func add(_ other: DissectionEvictions) {
        turnFiveTuples += other.turnFiveTuples
        tcpStreams += other.tcpStreams
        ipFragments += other.ipFragments
        integrityRequestKeys += other.integrityRequestKeys
    }

    public var isEmpty: Bool { self == DissectionEvictions() }

    /// The session model's counters for what the lower stages forgot.
    public var lowerStages: EvictionCounters {
        var c = EvictionCounters()
        c.tcpStreams = tcpStreams
        c.ipFragments = ipFragments
        c.turnFiveTuples = turnFiveTuples
        return c
    }
}
