import Foundation
import Prometheus
import Reconstruction
import StunWire
import WireEvents

/// Prometheus metrics for a live capture. Sits between the dissector and the
/// reconstructor (a WireEvent tee) and observes the reconstructor's live
/// events. Names follow coturn's `turn_traffic_*` where they mean the same.
public final class StunScopeMetrics: WireEventConsumer, LiveEventObserver {
    public let registry = PrometheusCollectorRegistry()
    private let next: WireEventConsumer
    private weak var forward: LiveEventObserver?

    private let activeAllocations: Gauge
    private let packets: Counter
    private let rtt: ValueHistogram
    /// Written by the capture thread (libpcap's counters, the queue's shed count).
    public let captureGauges: CaptureGauges
    private var counters: [String: Counter] = [:]

    /// libpcap's received / dropped counters and the packets the analysis shed,
    /// set by the capture thread while the analysing thread owns the rest.
    public struct CaptureGauges: Sendable {
        let received: Gauge
        let dropped: Gauge
        let shed: Gauge

        public func set(received r: UInt32, dropped d: UInt32, shed s: Int) {
            received.set(to: Double(r))
            dropped.set(to: Double(d))
            shed.set(to: Double(s))
        }
    }

    public init(next: WireEventConsumer, forward: LiveEventObserver?) {
        self.next = next
        self.forward = forward
        let registry = self.registry
        activeAllocations = registry.makeGauge(descriptor: Self.name("stunscope_allocations_active",
                                                                     help: "TURN allocations currently alive"), labels: [])
        captureGauges = CaptureGauges(
            received: registry.makeGauge(descriptor: Self.name("stunscope_capture_received_packets",
                                                               help: "Packets received by libpcap (pcap_stats ps_recv)"), labels: []),
            dropped: registry.makeGauge(descriptor: Self.name("stunscope_capture_dropped_packets",
                                                              help: "Packets dropped by the kernel buffer (pcap_stats ps_drop)"), labels: []),
            shed: registry.makeGauge(descriptor: Self.name("stunscope_analysis_shed_packets",
                                                           help: "Packets shed because analysis fell behind capture"), labels: []))
        packets = registry.makeCounter(descriptor: Self.name("stunscope_packets_total", help: "Packets analysed"), labels: [])
        rtt = registry.makeValueHistogram(descriptor: Self.name("stunscope_transaction_rtt_seconds",
                                                                help: "STUN transaction round-trip time (first request to response)"),
                                          labels: [], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5])
    }

    /// The whole metric name as `metricName` with an empty unit: the descriptor joins only
    /// non-empty parts, so the exposed name is exactly `name` (names are documented, and
    /// some follow coturn's `turn_traffic_*`).
    private static func name(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    private func counter(_ name: String, _ labels: [(String, String)], help: String) -> Counter {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        if let c = counters[key] { return c }
        let c = registry.makeCounter(descriptor: Self.name(name, help: help), labels: labels)
        counters[key] = c
        return c
    }

    public func packetsAnalysed(_ count: Int) { packets.increment(by: Int64(count)) }

    public func setActiveAllocations(_ n: Int) { activeAllocations.set(to: Double(n)) }

    // MARK: WireEventConsumer

    public func wireEvent(_ event: WireEvent) {
        switch event {
        case let .stunMessage(e) where e.carrier == nil:
            let m = e.message
            if m.messageClass == .request {
                counter("stunscope_requests_total", [("method", m.methodName)], help: "STUN requests by method").increment()
            }
            if let code = m.errorCode {
                counter("stunscope_error_responses_total", [("method", m.methodName), ("code", String(code))],
                        help: "STUN error responses by method and code").increment()
            }
            if m.method == .send || m.method == .data {
                let leg = m.method == .send ? "client_to_server" : "server_to_client"
                counter("turn_traffic_indications_total", [("leg", leg)], help: "Send/Data indications").increment()
                counter("turn_traffic_indication_bytes_total", [("leg", leg)], help: "DATA bytes in Send/Data indications")
                    .increment(by: Int64(m.data?.length ?? 0))
            }
        case let .channelData(e):
            counter("turn_traffic_channeldata_total", [], help: "ChannelData frames (both directions)").increment()
            counter("turn_traffic_channeldata_bytes_total", [], help: "ChannelData application bytes").increment(by: Int64(e.payload.length))
        default:
            break
        }
        next.wireEvent(event)
    }

    // MARK: LiveEventObserver

    public func liveEvent(_ e: LiveEvent) {
        // Exhaustive on purpose: a new kind of live event must be given a metric (or a reason for none) here.
        switch e.kind {
        case .transactionCompleted:
            if let v = e.value { rtt.record(v) }
        case .allocationCreated, .allocationDeleted, .allocationExpired, .allocationClosed, .allocationFailed:
            counter("stunscope_allocations_total", [("outcome", String(e.kind.rawValue.dropFirst("allocation.".count)))],
                    help: "TURN allocation lifecycle events by outcome").increment()
        case .icePairSucceeded, .iceNominated:
            counter("stunscope_ice_sessions_total", [("outcome", String(e.kind.rawValue.dropFirst("ice.".count)))],
                    help: "ICE events by outcome: a candidate pair's first success, a pair's nomination").increment()
        case .finding:
            counter("stunscope_findings_total", [("code", e.findingCode?.rawValue ?? "unknown")], help: "Findings by code").increment()
        case .allocationRefreshed, .permissionInstalled, .channelBound, .requestError:
            // Printed as events; their volume is already in stunscope_requests_total / stunscope_error_responses_total.
            break
        }
        forward?.liveEvent(e)
    }

    public func exposition() -> [UInt8] { Self.exposition(of: registry) }

    /// What the metrics endpoint serves, callable from its own thread (the registry is Sendable).
    public var scrape: @Sendable () -> [UInt8] {
        let registry = self.registry
        return { StunScopeMetrics.exposition(of: registry) }
    }

    private static func exposition(of registry: PrometheusCollectorRegistry) -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
