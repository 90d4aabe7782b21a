/// Counters of the dissection stage, including what bounded tables evicted.
public struct WireStatistics: Sendable {
    public var udpDatagrams = 0
    public var tcpChunks = 0
    public var icmpErrors = 0
    public var stunMessages = 0
    /// Messages found inside ChannelData frames or DATA attributes.
    public var nestedStunMessages = 0
    public var channelDataFrames = 0
    public var malformed = 0
    public var otherPayloads = 0
    public var tcpBytesSkipped = 0
    /// Known-TURN 5-tuples forgotten to stay within the table bound.
    public var turnFlowsEvicted = 0
    /// TCP stream framers dropped to stay within the stream bound.
    public var tcpStreamsEvicted = 0
    /// Requests whose integrity keys were forgotten (responses to them show `unchecked`).
    public var integrityTransactionsEvicted = 0

    public init() {}
}
