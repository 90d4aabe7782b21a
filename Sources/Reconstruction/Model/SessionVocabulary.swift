import NetworkVocabulary
import StunWire

// The closed sets of values the session model uses. Raw values are the JSON
// contract (docs/analyze.md, docs/schema); code compares the cases.

/// A value of a closed set whose text everywhere (JSON, CSV, SQLite, terminal,
/// HTML, string interpolation) is its contract name, never the Swift case name.
public protocol ContractValue: RawRepresentable, CustomStringConvertible, Sendable, Encodable where RawValue == String {}

extension ContractValue {
    public var description: String { rawValue }
}

/// A value with associated data written as one string in the contract
/// (`allocation:3`, `bind failed (437)`, `10.0.0.1:5000->10.0.0.2:6000`).
/// The model is only ever written: nothing parses these strings back.
public protocol ContractText: Encodable, CustomStringConvertible {}

extension ContractText {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// ICE candidate types (RFC 8445 section 5.1.1), `unknown` when the capture cannot tell.
public enum CandidateType: String, ContractValue, CaseIterable {
    case host, srflx, prflx, relay, unknown
}

/// Why an address no candidate had appeared (RFC 8445 section 7.2.5.3.1 / 7.3.1.3).
public enum PrflxReason: String, ContractValue, CaseIterable {
    case symmetricNat = "symmetric-nat"
    case nestedNat = "nested-nat"
    case unknownNat = "unknown-nat"
    case unsignalled
}

/// Where a candidate is known from.
public enum CandidateSource: String, ContractValue {
    /// An SDP in the capture or given with `--sdp`.
    case signalled
    /// Only from checks and responses on the wire.
    case observed
}

public enum IceRole: String, ContractValue {
    case controlling, controlled
}

/// How the roles of an ICE session were learnt.
public enum IceRoleSource: String, ContractValue {
    /// A check carried ICE-CONTROLLING.
    case iceControlling = "ice-controlling"
    /// Only the other side's ICE-CONTROLLED was seen.
    case inferred
}

/// How the controlling agent nominated (RFC 8445 section 8.1.1; RFC 5245's aggressive mode; draft renomination).
public enum NominationMode: String, ContractValue {
    case regular, aggressive, renomination, none
}

/// A candidate pair's state as the capture shows it (RFC 8445 section 6.1.2.6).
public enum PairState: String, ContractValue {
    case waiting
    case inProgress = "in-progress"
    case succeeded, failed
}

/// A side of a candidate pair: `local` is the controlling agent's.
public enum PairSide: String, ContractValue {
    case local, remote
}

/// How the selected pair was recognised.
public enum PairSelectionBasis: String, ContractValue {
    case nominated
    case nominatedAndMedia = "nominated+media"
    /// A nominating check was sent (no nominating response seen) and media flowed on the pair.
    case nominationRequestAndMedia = "nomination-request+media"
    /// No nomination seen; media flowed on the pair.
    case media
}

/// A STUN transaction's end (RFC 8489 section 6.2.1 timeouts).
public enum TransactionState: String, ContractValue {
    case success, error, unanswered
    /// No answer within Rc/Rm's timeout.
    case timedOut = "timed-out"
}

/// NAT mapping and filtering behaviour (RFC 4787 section 4.1 / 5).
public enum NatBehavior: String, ContractValue {
    case endpointIndependent = "endpoint-independent"
    case addressDependent = "address-dependent"
    case addressAndPortDependent = "address-and-port-dependent"
    /// One server (or one answer) only: nothing to compare.
    case unknown
    /// The reflexive address is the local one: no NAT on the path.
    case none
}

public enum SipCallState: String, ContractValue {
    case attempted, ringing, established, ended, failed, cancelled
}

/// Offer or answer (RFC 3264).
public enum SdpRole: String, ContractValue {
    case offer, answer
}

/// Who opened an RFC 6062 TCP relay connection.
public enum TcpConnectionInitiator: String, ContractValue {
    /// Connect request.
    case client
    /// ConnectionAttempt indication.
    case peer
}

/// MESSAGE-INTEGRITY over a whole ICE session's checks and responses.
public enum SessionIntegrity: String, ContractValue {
    /// Every message with MESSAGE-INTEGRITY verified.
    case valid
    /// At least one failed.
    case invalid
    /// No password was known.
    case unchecked
    /// Some verified, others could not be checked (no password for one agent).
    case partlyUnchecked = "partly-unchecked"
}
