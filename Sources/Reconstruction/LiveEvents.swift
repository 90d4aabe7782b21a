/// State changes reported as they happen, for `stunscope live`: allocation
/// created / refreshed / expired / deleted, permission and channel changes,
/// findings, completed transactions, ICE pairs that succeed or are
/// nominated. Batch analysis ignores them.
public struct LiveEvent: Sendable {
    public enum Kind: String, ContractValue, CaseIterable {
        case allocationCreated = "allocation.created"
        case allocationRefreshed = "allocation.refreshed"
        case allocationExpired = "allocation.expired"
        case allocationDeleted = "allocation.deleted"
        case allocationClosed = "allocation.closed"
        case allocationFailed = "allocation.failed"
        case permissionInstalled = "permission.installed"
        case channelBound = "channel.bound"
        case requestError = "request.error"
        case transactionCompleted = "transaction.completed"
        case icePairSucceeded = "ice.pair-succeeded"
        case iceNominated = "ice.nominated"
        case finding
    }

    public var time: Double
    public var frame: Int
    public var kind: Kind
    public var session: SessionRef?
    public var message: String
    /// Extra numbers for metrics: lifetime, rtt, error code.
    public var value: Double?
    /// `finding`: its code.
    public var findingCode: FindingCode?

    public init(time: Double, frame: Int, kind: Kind, session: SessionRef?, message: String, value: Double? = nil,
                findingCode: FindingCode? = nil) {
        self.time = time
        self.frame = frame
        self.kind = kind
        self.session = session
        self.message = message
        self.value = value
        self.findingCode = findingCode
    }
}

public protocol LiveEventObserver: AnyObject {
    func liveEvent(_ event: LiveEvent)
}
