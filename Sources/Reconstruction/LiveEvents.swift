/// State changes reported as they happen, for `stunscope live`: allocation
/// created / refreshed / expired / deleted, permission and channel changes,
/// findings, completed transactions. Batch analysis ignores them.
public struct LiveEvent: Codable, Sendable {
    public var time: Double
    public var frame: Int
    /// `allocation.created`, `allocation.refreshed`, `allocation.expired`, `allocation.deleted`,
    /// `allocation.closed`, `allocation.failed`, `permission.installed`, `channel.bound`,
    /// `transaction.completed`, `finding`, `ice.pair-succeeded`, `ice.nominated`.
    public var kind: String
    /// `allocation:3`, `ice:1`, ...
    public var session: String?
    public var message: String
    /// Extra numbers for metrics: lifetime, rtt, error code.
    public var value: Double?
    public var label: String?

    public init(time: Double, frame: Int, kind: String, session: String?, message: String, value: Double? = nil, label: String? = nil) {
        self.time = time
        self.frame = frame
        self.kind = kind
        self.session = session
        self.message = message
        self.value = value
        self.label = label
    }
}

public protocol LiveEventObserver: AnyObject {
    func liveEvent(_ event: LiveEvent)
}
