import Foundation
import NetworkVocabulary
import Reconstruction

/// The relational view of the session model that the CSV and SQLite exports
/// share: the same tables, the same columns in the same order (docs/export.md).
///
/// Every row carries `capture_id` (1-based position of its capture in the
/// export; in SQLite the `captures` row it belongs to). Child rows carry their
/// parent's id (`allocation_id`, `ice_session_id`) and a 1-based `seq` within
/// the parent.
public enum ExportTables {
    public enum ColumnType: String, Sendable { case integer = "INTEGER", real = "REAL", text = "TEXT" }

    public enum Cell: Sendable, Equatable {
        case null
        case int(Int)
        case real(Double)
        case text(String)

        static func bool(_ b: Bool) -> Cell { .int(b ? 1 : 0) }
        static func bool(_ b: Bool?) -> Cell { b.map { .int($0 ? 1 : 0) } ?? .null }
        static func int(_ v: Int?) -> Cell { v.map { .int($0) } ?? .null }
        static func real(_ v: Double?) -> Cell { v.map { .real($0) } ?? .null }
        static func text(_ v: String?) -> Cell { v.map { .text($0) } ?? .null }
        /// A value of a closed set: its contract name (the JSON's).
        static func text<T: RawRepresentable>(_ v: T?) -> Cell where T.RawValue == String { text(v?.rawValue) }
        static func text(_ v: TransportProtocol?) -> Cell { text(v?.description) }
        static func list(_ v: [String], _ separator: String = " ") -> Cell { v.isEmpty ? .null : .text(v.joined(separator: separator)) }
    }

    public struct Column: Sendable {
        public var name: String
        public var type: ColumnType
    }

    public struct ForeignKey: Sendable {
        public var columns: [String]
        public var table: String
        public var references: [String]
    }

    public struct Spec: Sendable {
        public var name: String
        public var columns: [Column]
        public var primaryKey: [String]
        public var foreignKeys: [ForeignKey]
        public var indexes: [[String]]
    }

    public struct Table: Sendable {
        public var spec: Spec
        public var rows: [[Cell]]
    }

    /// Table names in creation order (parents before children).
    public static var names: [String] { definitions.map(\.spec.name) }

    public static var specs: [Spec] { definitions.map(\.spec) }

    /// Every table for one capture, in creation order.
    public static func tables(for capture: ExportCapture, captureId: Int) -> [Table] {
        let ctx = Context(capture: capture, captureId: captureId)
        return definitions.map { Table(spec: $0.spec, rows: $0.rows(ctx)) }
    }

    // MARK: - Definitions

    struct Context {
        var capture: ExportCapture
        var captureId: Int
        var doc: AnalysisDocument { capture.document }
    }

    struct Def: Sendable {
        var spec: Spec
        var rows: @Sendable (Context) -> [[Cell]]
    }

    struct Col<R>: Sendable {
        var name: String
        var type: ColumnType
        var value: @Sendable (R) -> Cell
        init(_ name: String, _ type: ColumnType, _ value: @escaping @Sendable (R) -> Cell) {
            self.name = name
            self.type = type
            self.value = value
        }
    }

    static func def<R>(_ name: String, primaryKey: [String], foreignKeys: [ForeignKey] = [], indexes: [[String]] = [],
                       _ columns: [Col<R>], rows: @escaping @Sendable (Context) -> [R]) -> Def {
        let spec = Spec(name: name, columns: columns.map { Column(name: $0.name, type: $0.type) },
                        primaryKey: primaryKey, foreignKeys: foreignKeys, indexes: indexes)
        return Def(spec: spec, rows: { ctx in rows(ctx).map { r in columns.map { $0.value(r) } } })
    }

    static let toCapture = ForeignKey(columns: ["capture_id"], table: "captures", references: ["capture_id"])
    static let toAllocation = ForeignKey(columns: ["capture_id", "allocation_id"], table: "allocations", references: ["capture_id", "allocation_id"])
    static let toIce = ForeignKey(columns: ["capture_id", "ice_session_id"], table: "ice_sessions", references: ["capture_id", "ice_session_id"])

    struct Child<P, C> {
        var captureId: Int
        var parent: P
        var item: C
        var seq: Int
    }

    static func children<P, C>(_ ctx: Context, _ parents: [P], _ items: (P) -> [C]) -> [Child<P, C>] {
        var out: [Child<P, C>] = []
        for p in parents {
            for (i, c) in items(p).enumerated() { out.append(Child(captureId: ctx.captureId, parent: p, item: c, seq: i + 1)) }
        }
        return out
    }

    struct Item<C> {
        var captureId: Int
        var item: C
        var seq: Int
    }

    static func items<C>(_ ctx: Context, _ list: [C]) -> [Item<C>] {
        list.enumerated().map { Item(captureId: ctx.captureId, item: $0.element, seq: $0.offset + 1) }
    }

    typealias AllocRow = Item<TurnAllocationSummary>

    static let definitions: [Def] = [
        def("captures", primaryKey: ["capture_id"], indexes: [["sha256"], ["first_time"]], [
            Col<Context>("capture_id", .integer) { .int($0.captureId) },
            Col("file", .text) { .text($0.capture.file) },
            Col("sha256", .text) { .text($0.capture.summary.sha256) },
            Col("format", .text) { .text($0.capture.summary.format) },
            Col("link_type", .text) { .text($0.capture.summary.linkType) },
            Col("packets", .integer) { .int($0.capture.summary.packets) },
            Col("first_time", .real) { .real($0.capture.summary.firstTime ?? $0.doc.stats.firstTime) },
            Col("last_time", .real) { .real($0.capture.summary.lastTime ?? $0.doc.stats.lastTime) },
            Col("schema_version", .text) { .text($0.doc.schemaVersion) },
            Col("stun_messages", .integer) { .int($0.doc.stats.stunMessages) },
            Col("channel_data_frames", .integer) { .int($0.doc.stats.channelDataFrames) },
            Col("malformed", .integer) { .int($0.doc.stats.malformed) },
            Col("transactions", .integer) { .int($0.doc.stats.transactions) },
            Col("unanswered_transactions", .integer) { .int($0.doc.stats.unansweredTransactions) },
            Col("evicted", .integer) { .int($0.doc.stats.evicted.total) },
            Col("error", .text) { .text($0.capture.summary.error) },
        ], rows: { [$0] }),

        def("allocations", primaryKey: ["capture_id", "allocation_id"], foreignKeys: [toCapture],
            indexes: [["client"], ["server"], ["mapped"], ["relayed"], ["start_time"], ["end_time"], ["username"]], [
            Col<AllocRow>("capture_id", .integer) { .int($0.captureId) },
            Col("allocation_id", .integer) { .int($0.item.id) },
            Col("client", .text) { .text($0.item.client) },
            Col("server", .text) { .text($0.item.server) },
            Col("transport", .text) { .text($0.item.transport) },
            Col("relayed", .text) { .list($0.item.relayed) },
            Col("mapped", .text) { .text($0.item.mapped) },
            Col("username", .text) { .text($0.item.username) },
            Col("realm", .text) { .text($0.item.realm) },
            Col("software", .text) { .text($0.item.software) },
            Col("requested_transport", .text) { .text($0.item.requestedTransport) },
            Col("requested_address_family", .text) { .text($0.item.requestedAddressFamily) },
            Col("additional_address_family", .text) { .text($0.item.additionalAddressFamily) },
            Col("even_port", .integer) { .bool($0.item.evenPort) },
            Col("reservation_token", .text) { .text($0.item.reservationToken) },
            Col("dont_fragment", .integer) { .bool($0.item.dontFragment) },
            Col("start_time", .real) { .real($0.item.start) },
            Col("end_time", .real) { .real($0.item.end) },
            Col("duration", .real) { .real($0.item.end - $0.item.start) },
            Col("outcome", .text) { .text($0.item.outcome.rawValue) },
            Col("final_error_code", .integer) { .int($0.item.finalError?.code) },
            Col("final_error_reason", .text) { .text($0.item.finalError?.reason) },
            Col("lifetime", .integer) { .int($0.item.lifetime) },
            Col("refreshes", .text) { .list($0.item.refreshes.map(String.init)) },
            Col("refresh_count", .integer) { .int($0.item.refreshes.count) },
            Col("expires_at", .real) { .real($0.item.expiresAt) },
            Col("auth_round_trips", .integer) { .int($0.item.authRoundTrips) },
            Col("error_responses", .integer) { .int($0.item.errors.reduce(0) { $0 + $1.count }) },
            Col("permissions", .integer) { .int($0.item.permissions.count) },
            Col("channels", .integer) { .int($0.item.channels.count) },
            Col("peers", .integer) { .int($0.item.peers.count) },
            Col("tcp_connections", .integer) { .int($0.item.tcpConnections.count) },
            Col("client_to_server", .integer) { .int($0.item.traffic.clientToServer) },
            Col("server_to_client", .integer) { .int($0.item.traffic.serverToClient) },
            Col("client_to_server_bytes", .integer) { .int($0.item.traffic.clientToServerBytes) },
            Col("server_to_client_bytes", .integer) { .int($0.item.traffic.serverToClientBytes) },
            Col("send_indications", .integer) { .int($0.item.traffic.sendIndications) },
            Col("data_indications", .integer) { .int($0.item.traffic.dataIndications) },
            Col("channel_data_to_server", .integer) { .int($0.item.traffic.channelDataToServer) },
            Col("channel_data_from_server", .integer) { .int($0.item.traffic.channelDataFromServer) },
            Col("peer_leg_to_peer", .integer) { .int($0.item.traffic.peerLegToPeer) },
            Col("peer_leg_from_peer", .integer) { .int($0.item.traffic.peerLegFromPeer) },
            Col("send_indication_bytes", .integer) { .int($0.item.traffic.sendIndicationBytes) },
            Col("data_indication_bytes", .integer) { .int($0.item.traffic.dataIndicationBytes) },
            Col("channel_data_to_server_bytes", .integer) { .int($0.item.traffic.channelDataToServerBytes) },
            Col("channel_data_from_server_bytes", .integer) { .int($0.item.traffic.channelDataFromServerBytes) },
            Col("peer_leg_to_peer_bytes", .integer) { .int($0.item.traffic.peerLegToPeerBytes) },
            Col("peer_leg_from_peer_bytes", .integer) { .int($0.item.traffic.peerLegFromPeerBytes) },
            Col("last_relay_time", .real) { .real(lastRelayTime($0.item)) },
        ], rows: { items($0, $0.doc.allocations) }),

        def("allocation_errors", primaryKey: ["capture_id", "allocation_id", "seq"], foreignKeys: [toCapture, toAllocation],
            indexes: [["code"]], [
            Col<Child<TurnAllocationSummary, ErrorCount>>("capture_id", .integer) { .int($0.captureId) },
            Col("allocation_id", .integer) { .int($0.parent.id) },
            Col("seq", .integer) { .int($0.seq) },
            Col("code", .integer) { .int($0.item.code) },
            Col("count", .integer) { .int($0.item.count) },
            Col("reason", .text) { .text($0.item.reason) },
            Col("meaning", .text) { .text($0.item.meaning) },
        ], rows: { children($0, $0.doc.allocations) { $0.errors } }),

        def("permissions", primaryKey: ["capture_id", "allocation_id", "seq"], foreignKeys: [toCapture, toAllocation],
            indexes: [["peer"], ["created"]], [
            Col<Child<TurnAllocationSummary, PermissionSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("allocation_id", .integer) { .int($0.parent.id) },
            Col("seq", .integer) { .int($0.seq) },
            Col("peer", .text) { .text($0.item.peer) },
            Col("created", .real) { .real($0.item.created) },
            Col("refreshes", .integer) { .int($0.item.refreshes) },
            Col("last_refreshed", .real) { .real($0.item.lastRefreshed) },
            Col("expires_at", .real) { .real($0.item.expiresAt) },
            Col("expired", .integer) { .bool($0.item.expired) },
            Col("implicit", .integer) { .bool($0.item.implicit) },
        ], rows: { children($0, $0.doc.allocations) { $0.permissions } }),

        def("channels", primaryKey: ["capture_id", "allocation_id", "seq"], foreignKeys: [toCapture, toAllocation],
            indexes: [["peer"], ["bound"]], [
            Col<Child<TurnAllocationSummary, ChannelSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("allocation_id", .integer) { .int($0.parent.id) },
            Col("seq", .integer) { .int($0.seq) },
            Col("number", .integer) { .int($0.item.number) },
            Col("number_hex", .text) { .text(String(format: "0x%04x", $0.item.number)) },
            Col("peer", .text) { .text($0.item.peer) },
            Col("bound", .real) { .real($0.item.bound) },
            Col("refreshes", .integer) { .int($0.item.refreshes) },
            Col("expires_at", .real) { .real($0.item.expiresAt) },
            Col("expired", .integer) { .bool($0.item.expired) },
            Col("frames_to_server", .integer) { .int($0.item.framesToServer) },
            Col("frames_from_server", .integer) { .int($0.item.framesFromServer) },
            Col("bytes_to_server", .integer) { .int($0.item.bytesToServer) },
            Col("bytes_from_server", .integer) { .int($0.item.bytesFromServer) },
        ], rows: { children($0, $0.doc.allocations) { $0.channels } }),

        def("peers", primaryKey: ["capture_id", "allocation_id", "seq"], foreignKeys: [toCapture, toAllocation],
            indexes: [["peer"]], [
            Col<Child<TurnAllocationSummary, PeerSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("allocation_id", .integer) { .int($0.parent.id) },
            Col("seq", .integer) { .int($0.seq) },
            Col("peer", .text) { .text($0.item.peer) },
            Col("send_indications", .integer) { .int($0.item.sendIndications) },
            Col("data_indications", .integer) { .int($0.item.dataIndications) },
            Col("channel_data_to_server", .integer) { .int($0.item.channelDataToServer) },
            Col("channel_data_from_server", .integer) { .int($0.item.channelDataFromServer) },
            Col("peer_leg_to_peer", .integer) { .int($0.item.peerLegToPeer) },
            Col("peer_leg_from_peer", .integer) { .int($0.item.peerLegFromPeer) },
            Col("bytes_to_peer", .integer) { .int($0.item.bytesToPeer) },
            Col("bytes_from_peer", .integer) { .int($0.item.bytesFromPeer) },
            Col("delay_to_peer_samples", .integer) { .int($0.item.forwardingDelayToPeer?.samples) },
            Col("delay_to_peer_median", .real) { .real($0.item.forwardingDelayToPeer?.median) },
            Col("delay_to_peer_p95", .real) { .real($0.item.forwardingDelayToPeer?.p95) },
            Col("delay_to_peer_max", .real) { .real($0.item.forwardingDelayToPeer?.max) },
            Col("delay_from_peer_samples", .integer) { .int($0.item.forwardingDelayFromPeer?.samples) },
            Col("delay_from_peer_median", .real) { .real($0.item.forwardingDelayFromPeer?.median) },
            Col("delay_from_peer_p95", .real) { .real($0.item.forwardingDelayFromPeer?.p95) },
            Col("delay_from_peer_max", .real) { .real($0.item.forwardingDelayFromPeer?.max) },
            Col("never_forwarded_to_peer", .integer) { .int($0.item.neverForwardedToPeer) },
            Col("never_forwarded_from_peer", .integer) { .int($0.item.neverForwardedFromPeer) },
        ], rows: { children($0, $0.doc.allocations) { $0.peers } }),

        def("bindings", primaryKey: ["capture_id", "binding_id"], foreignKeys: [toCapture],
            indexes: [["client"], ["server"], ["start_time"]], [
            Col<Item<BindingSessionSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("binding_id", .integer) { .int($0.item.id) },
            Col("client", .text) { .text($0.item.client) },
            Col("server", .text) { .text($0.item.server) },
            Col("transport", .text) { .text($0.item.transport) },
            Col("classic", .integer) { .bool($0.item.classic) },
            Col("start_time", .real) { .real($0.item.start) },
            Col("end_time", .real) { .real($0.item.end) },
            Col("requests", .integer) { .int($0.item.requests) },
            Col("responses", .integer) { .int($0.item.responses) },
            Col("error_responses", .integer) { .int($0.item.errorResponses) },
            Col("indications", .integer) { .int($0.item.indications) },
            Col("retransmissions", .integer) { .int($0.item.retransmissions) },
            Col("reflexive", .text) { .list($0.item.reflexive) },
            Col("rtt_samples", .integer) { .int($0.item.rtt?.samples) },
            Col("rtt_median", .real) { .real($0.item.rtt?.median) },
            Col("rtt_p95", .real) { .real($0.item.rtt?.p95) },
            Col("rtt_max", .real) { .real($0.item.rtt?.max) },
            Col("keepalive_median", .real) { .real($0.item.keepaliveInterval?.median) },
            Col("keepalive_max", .real) { .real($0.item.keepaliveInterval?.max) },
            Col("longest_gap", .real) { .real($0.item.longestGap) },
            Col("software", .text) { .text($0.item.software) },
            Col("nat_tests", .integer) { .int($0.item.natTests.count) },
            Col("other_address", .text) { .text($0.item.otherAddress) },
            Col("response_origin", .text) { .text($0.item.responseOrigin) },
            Col("changed_address", .text) { .text($0.item.changedAddress) },
        ], rows: { items($0, $0.doc.bindings) }),

        def("nat_mappings", primaryKey: ["capture_id", "seq"], foreignKeys: [toCapture], indexes: [["local"]], [
            Col<Item<NatMappingSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("seq", .integer) { .int($0.seq) },
            Col("local", .text) { .text($0.item.local) },
            Col("mapping_behavior", .text) { .text($0.item.mappingBehavior) },
            Col("filtering_behavior", .text) { .text($0.item.filteringBehavior) },
            Col("servers", .integer) { .int(Set($0.item.observations.map(\.server)).count) },
            Col("reflexive", .text) { .list(unique($0.item.observations.map(\.reflexive))) },
            Col("explanation", .text) { .text($0.item.explanation) },
        ], rows: { items($0, $0.doc.natMappings) }),

        def("ice_sessions", primaryKey: ["capture_id", "ice_session_id"], foreignKeys: [toCapture],
            indexes: [["start_time"], ["selected_local"], ["selected_remote"]], [
            Col<Item<IceSessionSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("ice_session_id", .integer) { .int($0.item.id) },
            Col("ufrags", .text) { .list($0.item.ufrags) },
            Col("controlling", .text) { .text($0.item.controlling) },
            Col("controlled", .text) { .text($0.item.controlled) },
            Col("nomination", .text) { .text($0.item.nomination) },
            Col("role_conflicts", .integer) { .int($0.item.roleConflicts) },
            Col("candidates", .integer) { .int($0.item.candidates.count) },
            Col("pairs", .integer) { .int($0.item.pairs.count) },
            Col("selected_local", .text) { .text($0.item.selectedPair?.local) },
            Col("selected_remote", .text) { .text($0.item.selectedPair?.remote) },
            Col("selected_local_type", .text) { .text($0.item.selectedPair?.localType) },
            Col("selected_remote_type", .text) { .text($0.item.selectedPair?.remoteType) },
            Col("start_time", .real) { .real($0.item.start) },
            Col("end_time", .real) { .real($0.item.end) },
            Col("connect_time", .real) { .real($0.item.connectTime) },
            Col("first_media_time", .real) { .real($0.item.firstMediaTime) },
            Col("consent_checks", .integer) { .int($0.item.consent?.checks) },
            Col("consent_indications", .integer) { .int($0.item.consent?.indications) },
            Col("consent_longest_gap", .real) { .real($0.item.consent?.longestGap) },
            Col("integrity", .text) { .text($0.item.integrity) },
            Col("call", .text) { .text($0.item.call) },
            Col("visibility", .text) { .list($0.item.visibility, "; ") },
            Col("controlling_ufrag", .text) { .text($0.item.controllingUfrag) },
            Col("controlled_ufrag", .text) { .text($0.item.controlledUfrag) },
            Col("role_source", .text) { .text($0.item.roleSource) },
            Col("agents", .integer) { .int($0.item.agents.count) },
            Col("transports", .text) { .list($0.item.transports.map(\.description)) },
            Col("checks", .integer) { .int($0.item.checks) },
            Col("responses", .integer) { .int($0.item.responses) },
            Col("pairs_dropped", .integer) { .int($0.item.pairsDropped) },
            Col("first_media_delay", .real) { .real($0.item.firstMediaDelay) },
            Col("selected_via_relay", .integer) { .bool($0.item.selectedPair?.viaRelay) },
            Col("selected_basis", .text) { .text($0.item.selectedPair?.basis) },
        ], rows: { items($0, $0.doc.iceSessions) }),

        def("ice_pairs", primaryKey: ["capture_id", "ice_session_id", "seq"], foreignKeys: [toCapture, toIce],
            indexes: [["local"], ["remote"], ["first_request"]], [
            Col<Child<IceSessionSummary, IcePairSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("ice_session_id", .integer) { .int($0.parent.id) },
            Col("seq", .integer) { .int($0.seq) },
            Col("local", .text) { .text($0.item.local) },
            Col("remote", .text) { .text($0.item.remote) },
            Col("local_type", .text) { .text($0.item.localType) },
            Col("remote_type", .text) { .text($0.item.remoteType) },
            Col("transport", .text) { .text($0.item.transport) },
            Col("via_relay", .integer) { .bool($0.item.viaRelay) },
            Col("state", .text) { .text($0.item.state) },
            Col("nominated", .integer) { .bool($0.item.nominated) },
            Col("selected", .integer) { .bool(isSelected($0.item, $0.parent.selectedPair)) },
            Col("requests_sent", .integer) { .int($0.item.requestsSent) },
            Col("responses_received", .integer) { .int($0.item.responsesReceived) },
            Col("error_responses", .integer) { .int($0.item.errorResponses) },
            Col("retransmissions", .integer) { .int($0.item.retransmissions) },
            Col("first_request", .real) { .real($0.item.firstRequest) },
            Col("last_request", .real) { .real($0.item.lastRequest) },
            Col("first_response", .real) { .real($0.item.firstResponse) },
            Col("last_response", .real) { .real($0.item.lastResponse) },
            Col("rtt_samples", .integer) { .int($0.item.rtt?.samples) },
            Col("rtt_median", .real) { .real($0.item.rtt?.median) },
            Col("rtt_max", .real) { .real($0.item.rtt?.max) },
            Col("handshake_check", .integer) { .bool(step($0.item, 0)) },
            Col("handshake_response", .integer) { .bool(step($0.item, 1)) },
            Col("handshake_triggered_check", .integer) { .bool(step($0.item, 2)) },
            Col("handshake_triggered_response", .integer) { .bool(step($0.item, 3)) },
            Col("handshake_initiator", .text) { .text($0.item.handshakeInitiator) },
            Col("handshake_frames", .text) { .list($0.item.handshakeFrames.map { $0.map(String.init) ?? "-" }) },
            Col("controlled_local_type", .text) { .text($0.item.controlledLocalType) },
            Col("controlled_remote_type", .text) { .text($0.item.controlledRemoteType) },
            Col("checks_from_local", .integer) { .int($0.item.checksFromLocal) },
            Col("checks_from_remote", .integer) { .int($0.item.checksFromRemote) },
            Col("responses_to_local", .integer) { .int($0.item.responsesToLocal) },
            Col("responses_to_remote", .integer) { .int($0.item.responsesToRemote) },
            Col("use_candidate_checks", .integer) { .int($0.item.useCandidateChecks) },
            Col("error_codes", .text) { .list($0.item.errorCodes.map(String.init)) },
            Col("nomination_frame", .integer) { .int($0.item.nominationFrame) },
            Col("media_packets", .integer) { .int($0.item.mediaPackets) },
            Col("media_bytes", .integer) { .int($0.item.mediaBytes) },
        ], rows: { children($0, $0.doc.iceSessions) { $0.pairs } }),

        def("candidates", primaryKey: ["capture_id", "ice_session_id", "seq"], foreignKeys: [toCapture, toIce],
            indexes: [["address"]], [
            Col<Child<IceSessionSummary, IceCandidateSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("ice_session_id", .integer) { .int($0.parent.id) },
            Col("seq", .integer) { .int($0.seq) },
            Col("address", .text) { .text($0.item.address) },
            Col("type", .text) { .text($0.item.type) },
            Col("reason", .text) { .text($0.item.reason) },
            Col("source", .text) { .text($0.item.source) },
            Col("agent", .text) { .text($0.item.agent) },
            Col("transport", .text) { .text($0.item.transport) },
            Col("priority", .integer) { .int($0.item.priority.map { Int($0) }) },
            Col("foundation", .text) { .text($0.item.foundation) },
            Col("related_address", .text) { .text($0.item.relatedAddress) },
            Col("checked", .integer) { .bool($0.item.checked) },
            Col("explanation", .text) { .text($0.item.explanation) },
            Col("learnt_by", .text) { .text($0.item.learntBy) },
        ], rows: { children($0, $0.doc.iceSessions) { $0.candidates } }),

        def("sip_calls", primaryKey: ["capture_id", "seq"], foreignKeys: [toCapture], indexes: [["call_id"]], [
            Col<Item<SipCallSummary>>("capture_id", .integer) { .int($0.captureId) },
            Col("seq", .integer) { .int($0.seq) },
            Col("call_id", .text) { .text($0.item.callId) },
            Col("from_uri", .text) { .text($0.item.from) },
            Col("to_uri", .text) { .text($0.item.to) },
            Col("messages", .integer) { .int($0.item.messages.count) },
            Col("first_time", .real) { .real($0.item.messages.first?.time) },
            Col("last_time", .real) { .real($0.item.messages.last?.time) },
            Col("ice_session_id", .integer) { .int($0.item.iceSession) },
            Col("signalled_candidates", .integer) { .int($0.item.signalledCandidates) },
            Col("checked_candidates", .integer) { .int($0.item.checkedCandidates) },
            Col("never_checked", .text) { .list($0.item.neverChecked) },
            Col("offer_ufrag", .text) { .text($0.item.offer?.iceUfrag) },
            Col("answer_ufrag", .text) { .text($0.item.answer?.iceUfrag) },
            Col("caller", .text) { .text($0.item.caller) },
            Col("callee", .text) { .text($0.item.callee) },
            Col("transport", .text) { .text($0.item.transport) },
            Col("state", .text) { .text($0.item.state) },
        ], rows: { items($0, $0.doc.sipCalls) }),

        def("findings", primaryKey: ["capture_id", "seq"], foreignKeys: [toCapture],
            indexes: [["code"], ["severity"], ["session"]], [
            Col<Item<Finding>>("capture_id", .integer) { .int($0.captureId) },
            Col("seq", .integer) { .int($0.seq) },
            Col("severity", .text) { .text($0.item.severity.rawValue) },
            Col("code", .text) { .text($0.item.code.rawValue) },
            Col("message", .text) { .text($0.item.message.description) },
            Col("session", .text) { .text($0.item.session?.description) },
            Col("session_kind", .text) { .text($0.item.session?.kind.rawValue) },
            Col("session_id", .integer) { .int($0.item.session?.id) },
            Col("first_frame", .integer) { .int($0.item.frames.first) },
            Col("frames", .text) { .list($0.item.frames.map(String.init)) },
        ], rows: { items($0, $0.doc.findings) }),

        def("transactions", primaryKey: ["capture_id", "seq"], foreignKeys: [toCapture, toAllocation],
            indexes: [["client"], ["server"], ["first_request"], ["transaction_id"], ["error_code"], ["allocation_id"]], [
            Col<TransactionRow>("capture_id", .integer) { .int($0.captureId) },
            Col("seq", .integer) { .int($0.seq) },
            Col("transaction_id", .text) { .text($0.item.transactionId) },
            Col("method", .text) { .text($0.item.method) },
            Col("client", .text) { .text($0.item.client) },
            Col("server", .text) { .text($0.item.server) },
            Col("transport", .text) { .text($0.item.transport) },
            Col("allocation_id", .integer) { .int($0.allocationId) },
            Col("first_request", .real) { .real($0.item.firstRequest) },
            Col("last_request", .real) { .real($0.item.lastRequest) },
            Col("requests", .integer) { .int($0.item.requestFrames.count) },
            Col("retransmissions", .integer) { .int($0.item.retransmissions) },
            Col("state", .text) { .text($0.item.state) },
            Col("response_frame", .integer) { .int($0.item.responseFrame) },
            Col("response_time", .real) { .real($0.item.responseTime) },
            Col("error_code", .integer) { .int($0.item.errorCode) },
            Col("rtt", .real) { .real($0.item.rtt) },
            Col("nested", .integer) { .bool($0.item.nested) },
            Col("first_frame", .integer) { .int($0.item.requestFrames.first) },
            Col("request_frames", .text) { .list($0.item.requestFrames.map(String.init)) },
        ], rows: transactionRows),

        def("timeline", primaryKey: ["capture_id", "session", "seq"], foreignKeys: [toCapture],
            indexes: [["time"], ["event"]], [
            Col<TimelineRow>("capture_id", .integer) { .int($0.captureId) },
            Col("session", .text) { .text($0.session) },
            Col("seq", .integer) { .int($0.seq) },
            Col("time", .real) { .real($0.entry.time) },
            Col("frame", .integer) { .int($0.entry.frame) },
            Col("file_index", .integer) { .int($0.entry.fileIndex) },
            Col("direction", .text) { .text($0.entry.direction.description) },
            Col("event", .text) { .text($0.entry.event) },
            Col("detail", .text) { .text($0.entry.detail) },
            Col("frames", .integer) { .int($0.entry.kind.relay?.frames) },
            Col("rtt", .real) { .real($0.entry.rtt) },
        ], rows: timelineRows),
    ]

    // MARK: - Helpers

    struct TransactionRow {
        var captureId: Int
        var seq: Int
        var item: TransactionSummary
        var allocationId: Int?
    }

    /// A transaction belongs to the latest allocation on the same client/server
    /// 5-tuple that started before it (within a second, for the first Allocate).
    static func transactionRows(_ ctx: Context) -> [TransactionRow] {
        var byTuple: [String: [TurnAllocationSummary]] = [:]
        for a in ctx.doc.allocations { byTuple[a.client + "|" + a.server, default: []].append(a) }
        for k in byTuple.keys { byTuple[k]!.sort { $0.start < $1.start } }
        return ctx.doc.transactions.enumerated().map { i, t in
            let owner = byTuple[t.client + "|" + t.server]?.last { $0.start <= t.firstRequest + 1e-6 }
            return TransactionRow(captureId: ctx.captureId, seq: i + 1, item: t, allocationId: owner?.id)
        }
    }

    struct TimelineRow {
        var captureId: Int
        var session: String
        var seq: Int
        var entry: TimelineEntry
    }

    static func timelineRows(_ ctx: Context) -> [TimelineRow] {
        var out: [TimelineRow] = []
        for a in ctx.doc.allocations {
            for (i, e) in a.timeline.enumerated() { out.append(TimelineRow(captureId: ctx.captureId, session: "allocation:\(a.id)", seq: i + 1, entry: e)) }
        }
        for s in ctx.doc.iceSessions {
            for (i, e) in s.timeline.enumerated() { out.append(TimelineRow(captureId: ctx.captureId, session: "ice:\(s.id)", seq: i + 1, entry: e)) }
        }
        return out
    }

    static func lastRelayTime(_ a: TurnAllocationSummary) -> Double? {
        a.timeline.last { $0.direction != .state && LadderBuilder.relayData($0) != nil }?.time
    }

    static func isSelected(_ p: IcePairSummary, _ s: IceSelectedPair?) -> Bool {
        guard let s = s else { return false }
        return s.local == p.local && s.remote == p.remote
    }

    static func step(_ p: IcePairSummary, _ i: Int) -> Bool? { i < p.handshake.count ? p.handshake[i] : nil }

    static func unique(_ list: [String]) -> [String] {
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }
}
