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
    private let captureReceived: Gauge
    private let captureDropped: Gauge
    private let queueShed: Gauge
    private let packets: Counter
    private let rtt: ValueHistogram
    private var counters: [String: Counter] = [:]

    public init(next: WireEventConsumer, forward: LiveEventObserver?) {
        self.next = next
        self.forward = forward
        activeAllocations = registry.makeGauge(name: "stunscope_allocations_active", labels: [],
                                               help: "TURN allocations currently alive")
        captureReceived = registry.makeGauge(name: "stunscope_capture_received_packets", labels: [],
                                             help: "Packets received by libpcap (pcap_stats ps_recv)")
        captureDropped = registry.makeGauge(name: "stunscope_capture_dropped_packets", labels: [],
                                            help: "Packets dropped by the kernel buffer (pcap_stats ps_drop)")
        queueShed = registry.makeGauge(name: "stunscope_analysis_shed_packets", labels: [],
                                       help: "Packets shed because analysis fell behind capture")
        packets = registry.makeCounter(name: "stunscope_packets_total", labels: [], help: "Packets analysed")
        rtt = registry.makeValueHistogram(name: "stunscope_transaction_rtt_seconds", labels: [],
                                          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
                                          help: "STUN transaction round-trip time (first request to response)")
    }

    private func counter(_ name: String, _ labels: [(String, String)], help: String) -> Counter {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        if let c = counters[key] { return c }
        let c = registry.makeCounter(name: name, labels: labels, help: help)
        counters[key] = c
        return c
    }

    public func packetAnalysed() { packets.increment() }

    public func captureStatistics(received: UInt32, dropped: UInt32, shed: Int) {
        captureReceived.set(to: Double(received))
        captureDropped.set(to: Double(dropped))
        queueShed.set(to: Double(shed))
    }

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

    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
