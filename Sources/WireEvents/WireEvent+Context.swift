import NetworkVocabulary

extension WireEvent {
    /// The frame context of whatever the event is about.
    public var context: FrameContext {
        switch self {
        case let .stunMessage(e): return e.context
        case let .channelData(e): return e.context
        case let .malformed(e): return e.context
        case let .otherPayload(e): return e.context
        case let .icmpError(e): return e.context
        case let .tcpConnection(e): return e.context
        case let .streamSkipped(e): return e.context
        }
    }
}
