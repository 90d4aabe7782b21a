import Foundation
import LiveMonitoring
import Pipeline
import Reconstruction
import StunWire
import Testing

/// Every metric `live --metrics` serves moves on a capture that should move
/// it: the captures go through the same tee (dissector -> metrics ->
/// reconstructor, reconstructor's live events -> metrics) as `live`.
@Suite("Live metrics")
struct LiveMetricsTests {
    /// The exposition after analysing these captures as one timestamp-ordered stream (as `--jobs 1`).
    static func exposition(_ names: [String]) -> String {
        let captures = GoldenDocumentTests.repository.appendingPathComponent("captures")
        let reconstructor = SessionReconstructor()
        let metrics = StunScopeMetrics(next: reconstructor, forward: nil)
        reconstructor.observer = metrics
        let stream = CaptureStream(input: CaptureInput(captures: names.map { captures.appendingPathComponent($0).path }))
        #expect(stream.open())
        let dissection = Dissection(consumer: metrics, credentials: CredentialStore())
        stream.run(into: dissection.decoder, each: { _ in metrics.packetsAnalysed(1) })
        dissection.finish()
        _ = reconstructor.finish(packets: 0)
        return String(decoding: metrics.exposition(), as: UTF8.self)
    }

    /// The value of one sample line (`name{labels} value`), nil when absent.
    static func value(_ exposition: String, _ sample: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }

    @Test("every counter moves on traffic that should move it")
    func everyMetricMoves() {
        let text = LiveMetricsTests.exposition([
            "turn-udp-channels.server.pcap",   // channels, created + deleted allocations
            "turn-udp-send.server.pcap",       // Send/Data indications
            "turn-expiry.server.pcap",         // allocations expire while the capture runs
            "turn-wrong-password.server.pcap", // 401 to authenticated Allocates: failed, a finding
            "ice-direct.lan-a.pcap",           // ICE pairs succeed and are nominated
        ])
        let expectedPositive = [
            "stunscope_packets_total",
            #"stunscope_requests_total{method="Allocate"}"#,
            #"stunscope_requests_total{method="Binding"}"#,
            #"stunscope_error_responses_total{method="Allocate",code="401"}"#,
            #"turn_traffic_indications_total{leg="client_to_server"}"#,
            #"turn_traffic_indications_total{leg="server_to_client"}"#,
            #"turn_traffic_indication_bytes_total{leg="client_to_server"}"#,
            "turn_traffic_channeldata_total",
            "turn_traffic_channeldata_bytes_total",
            #"stunscope_allocations_total{outcome="created"}"#,
            #"stunscope_allocations_total{outcome="deleted"}"#,
            #"stunscope_allocations_total{outcome="expired"}"#,
            #"stunscope_allocations_total{outcome="failed"}"#,
            #"stunscope_ice_sessions_total{outcome="pair-succeeded"}"#,
            #"stunscope_ice_sessions_total{outcome="nominated"}"#,
            #"stunscope_findings_total{code="turn.auth.wrong-credentials"}"#,
            "stunscope_transaction_rtt_seconds_count",
        ]
        for sample in expectedPositive {
            #expect((LiveMetricsTests.value(text, sample) ?? 0) > 0, "\(sample) did not move")
        }
    }

    @Test("a healthy TURN run raises no failure metrics")
    func healthyRunHasNoFailures() {
        let text = LiveMetricsTests.exposition(["turn-udp-channels.server.pcap"])
        #expect(LiveMetricsTests.value(text, #"stunscope_allocations_total{outcome="failed"}"#) == nil)
        #expect(LiveMetricsTests.value(text, #"stunscope_allocations_total{outcome="created"}"#) == 2)
        #expect(LiveMetricsTests.value(text, #"stunscope_allocations_total{outcome="deleted"}"#) == 1)
        #expect(!text.contains("stunscope_findings_total{code=\"turn.auth.wrong-credentials\"}"))
    }
}
