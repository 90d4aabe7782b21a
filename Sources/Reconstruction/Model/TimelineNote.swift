import Foundation
import NetworkVocabulary
import StunWire
import WireEvents

/// Where a timeline entry happened, as values: an ICE entry names two wire
/// endpoints, written `FROM->TO` only when an output reads `direction`.
enum TimelinePlace: Sendable {
    case leg(TimelineDirection)
    case endpoints(from: Endpoint, to: Endpoint)

    init(_ d: TimelineDirection) { self = .leg(d) }

    var direction: TimelineDirection {
        switch self {
        case let .leg(d): return d
        case let .endpoints(from, to): return .between(from: from.description, to: to.description)
        }
    }
}

/// The `detail` sentence of a timeline entry, kept as the values it is made
/// of for the entries a busy session logs per packet (ICE checks, their
/// retransmissions and answers); anything rarer is plain text.
enum TimelineNote: Sendable {
    case text(String)
    case iceCheck(IceCheckNote)
    /// `after`: seconds since the first transmission.
    case iceRetransmission(ofFrame: Int, after: Double, afterAnswer: Bool)
    case iceResponse(IceResponseNote)
    /// Relayed data: one packet (`lastFrame` nil; how long the server took to forward it when
    /// known) or a band of repeats.
    case relay(peer: Endpoint?, frames: Int, bytes: Int, lastFrame: Int?, forwardedAfter: Double?)

    var text: String {
        switch self {
        case let .text(t): return t
        case let .iceCheck(n): return n.text
        case let .iceRetransmission(frame, after, afterAnswer):
            return "retransmission of the check of frame \(frame) (\(String(format: "%.3f", after)) s after it)"
                + (afterAnswer ? ", after its answer" : "")
        case let .iceResponse(n): return n.text
        case let .relay(peer, frames, bytes, lastFrame, forwardedAfter):
            let who = "peer \(peer?.description ?? "?")"
            guard let last = lastFrame else {
                return "\(who), \(frames) frame, \(bytes) bytes"
                    + (forwardedAfter.map { String(format: ", forwarded by the server in %.3f ms", $0 * 1000) } ?? "")
            }
            return "\(who), \(frames) frames, \(bytes) bytes, last frame \(last)"
        }
    }
}

/// What an ICE check's timeline entry says: its ICE attributes, how it travelled, its integrity.
struct IceCheckNote: Sendable {
    var role: IceRole?
    var useCandidate: Bool
    var nomination: UInt32?
    var priority: UInt32?
    var carrier: MessageCarrier.Kind?
    var integrity: StunCheckResult?

    var text: String {
        var parts: [String] = []
        if let r = role { parts.append(r == .controlling ? "ICE-CONTROLLING" : "ICE-CONTROLLED") }
        if useCandidate { parts.append("USE-CANDIDATE") }
        if let n = nomination { parts.append("NOMINATION \(n)") }
        if let p = priority { parts.append("PRIORITY \(p)") }
        if let c = carrier { parts.append(c == .channelData ? "in ChannelData" : "in Send/Data") }
        if let i = integrity { parts.append("integrity \(i)") }
        return parts.joined(separator: ", ")
    }
}

/// What the timeline entry of an answer to an ICE check says.
struct IceResponseNote: Sendable {
    var success: Bool
    var mapped: Endpoint?
    var nominates: Bool
    var errorCode: Int?
    var errorReason: String?
    /// The agent that must switch role after a 487.
    var roleConflict: String?
    var retransmitted: Bool
    var integrity: StunCheckResult?

    var text: String {
        var parts: [String] = []
        if success {
            if let x = mapped { parts.append("XOR-MAPPED-ADDRESS \(x)") }
            if nominates { parts.append("nominates the pair (USE-CANDIDATE)") }
        } else {
            parts.append("error \(errorCode ?? 0)\(errorReason.map { " " + $0 } ?? "")")
            if let u = roleConflict { parts.append("role conflict: \(u) must switch role") }
        }
        if retransmitted { parts.append("answers a retransmitted check: no RTT sample (Karn's rule)") }
        if let i = integrity { parts.append("integrity \(i)") }
        return parts.joined(separator: ", ")
    }
}
