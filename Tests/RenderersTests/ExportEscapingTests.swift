import Foundation
import NetworkVocabulary
@testable import Reconstruction
@testable import Renderers
import XCTest

final class CSVTextTests: XCTestCase {
    func testPlainFieldsAreUnquoted() {
        XCTAssertEqual(CSVText.field(.text("198.51.100.2:45485")), "198.51.100.2:45485")
        XCTAssertEqual(CSVText.field(.int(-3)), "-3")
        XCTAssertEqual(CSVText.field(.real(0.25)), "0.25")
        XCTAssertEqual(CSVText.field(.null), "")
        XCTAssertEqual(CSVText.field(.real(.nan)), "")
    }

    func testRFC4180Quoting() {
        XCTAssertEqual(CSVText.field(.text("a,b")), "\"a,b\"")
        XCTAssertEqual(CSVText.field(.text("say \"hi\"")), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVText.field(.text("line1\nline2")), "\"line1\nline2\"")
        XCTAssertEqual(CSVText.field(.text("cr\rhere")), "\"cr\rhere\"")
        XCTAssertEqual(CSVText.line([.text("a"), .null, .int(1), .text("x,y")]), "a,,1,\"x,y\"\r\n")
    }

    func testFormulaCellsAreNeutralised() {
        XCTAssertEqual(CSVText.field(.text("=HYPERLINK(\"http://x\")")), "\"'=HYPERLINK(\"\"http://x\"\")\"")
        XCTAssertEqual(CSVText.field(.text("+1+2")), "'+1+2")
        XCTAssertEqual(CSVText.field(.text("-2+3")), "'-2+3")
        XCTAssertEqual(CSVText.field(.text("@SUM(A1)")), "'@SUM(A1)")
        XCTAssertEqual(CSVText.field(.text("\tcmd")), "'\tcmd")
        XCTAssertEqual(CSVText.field(.text("\rcmd")), "\"'\rcmd\"")
        XCTAssertEqual(CSVText.field(.text("a=b")), "a=b")
        XCTAssertEqual(CSVText.field(.text("")), "")
    }
}

final class HTMLTextTests: XCTestCase {
    func testMarkupIsEscaped() {
        XCTAssertEqual(HTMLText.escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;")
        XCTAssertEqual(HTMLText.escape("\"><img src=x onerror='a()'>&"), "&quot;&gt;&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;")
        XCTAssertEqual(HTMLText.escape("Coturn-4.6.1 'Gorst'"), "Coturn-4.6.1 &#39;Gorst&#39;")
    }

    func testControlAndBidiCharactersBecomeVisible() {
        XCTAssertEqual(HTMLText.escape("a\u{1b}[31mb"), "a\\x1b[31mb")
        XCTAssertEqual(HTMLText.escape("x\u{202e}y"), "x\\u{202e}y")
        XCTAssertEqual(HTMLText.escape("nul\u{0}"), "nul\\x00")
    }

    func testReportEscapesEveryPacketString() {
        var doc = AnalysisDocument()
        doc.captures = [CaptureFileSummary(file: "<b>file</b>.pcap", format: "pcap", linkType: "EN10MB", packets: 4)]
        var a = Fixtures.allocation()
        a.username = "<u>user</u>"
        a.realm = "<script>alert(1)</script>"
        a.software = "<img src=x onerror=alert(2)>"
        a.timeline.append(TimelineEntry(time: 10.5, frame: 9, direction: .serverToClient, kind: .errorResponse(method: "Allocate", code: 401),
                                        detail: "401 Unauthorized, realm <script>alert(1)</script>, NONCE \"><svg onload=x>"))
        doc.allocations = [a]
        doc.findings = [Finding(severity: .error, code: .turnAuthWrongCredentials, message: "user <u>x</u> & realm <script>",
                                frames: [1], session: .allocation(1))]
        let html = HTMLReportRenderer(nonce: "n0nce").render([ExportCapture(file: "<b>file</b>.pcap", document: doc)])
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 1, "only the report's own script element")
        XCTAssertTrue(html.contains("<script nonce=\"n0nce\">"))
        for raw in ["<u>", "<img", "<svg onload", "<b>file", "<script>alert"] {
            XCTAssertFalse(html.contains(raw), raw)
        }
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&lt;img src=x onerror=alert(2)&gt;"))
        XCTAssertEqual(html.components(separatedBy: "<svg class=\"ladder\"").count - 1, 1)
    }
}

final class MermaidTextTests: XCTestCase {
    func testSpecialCharactersBecomeEntityCodes() {
        XCTAssertEqual(MermaidText.escape("a;b#c"), "a#59;b#35;c")
        XCTAssertEqual(MermaidText.escape("<script>"), "#lt;script#gt;")
        XCTAssertEqual(MermaidText.escape("A-->B"), "A--#gt;B")
        XCTAssertEqual(MermaidText.escape("x\ny\r\tz"), "x y  z")
        XCTAssertEqual(MermaidText.escape("%%{init}%%"), "#37;#37;#123;init#125;#37;#37;")
        XCTAssertEqual(MermaidText.escape("`fence`"), "#96;fence#96;")
        XCTAssertEqual(MermaidText.escape("1.2.3.4:5"), "1.2.3.4#58;5")
        XCTAssertEqual(MermaidText.escape("\"q\" & 'a'"), "#quot;q#quot; #amp; #39;a#39;")
    }

    func testNoRawSpecialCharacterSurvives() {
        let nasty = "<script>alert(1)</script>;#end\nNote over P0: x-->y %% `x` {a|b}"
        let out = MermaidText.escape(nasty)
        let stripped = out.replacingOccurrences(of: "#[A-Za-z0-9]+;", with: "", options: .regularExpression)
        for c in [";", "#", "<", ">", "`", "\n", "%", "|", ":"] { XCTAssertFalse(stripped.contains(c), c) }
        XCTAssertFalse(out.contains("-->"))
    }

    func testLongLabelsAreCut() {
        XCTAssertEqual(MermaidText.escape(String(repeating: "a", count: 500), limit: 10), "aaaaaaaaaa…")
    }

    func testDiagramUsesSafeAliases() {
        var doc = AnalysisDocument()
        var a = Fixtures.allocation()
        a.timeline.append(TimelineEntry(time: 10.0, frame: 1, direction: .clientToServer, kind: .request(method: "Allocate"), detail: "realm a;b#<c>"))
        doc.allocations = [a]
        let md = MermaidExportRenderer().render([ExportCapture(file: "x.pcap", document: doc)])
        XCTAssertTrue(md.contains("participant P0 as client 192.168.77.10#58;40000"))
        XCTAssertTrue(md.contains("P0->>P2: [+0.000s frame 1] Allocate request · realm a#59;b#35;#lt;c#gt;"))
    }
}

final class LadderTests: XCTestCase {
    func testAllocationLaneAndRelaySteps() {
        var a = Fixtures.allocation()
        let peer = "198.51.100.20:3480"
        a.timeline = [
            TimelineEntry(time: 10.0, frame: 1, direction: .clientToServer, kind: .request(method: "Allocate"), detail: "transport UDP"),
            TimelineEntry(time: 10.1, frame: 2, direction: .serverToClient, kind: .success(method: "Allocate"), detail: "", rtt: 0.1),
            TimelineEntry(time: 10.1, frame: 0, direction: .state, kind: .allocation(.created), detail: ""),
            TimelineEntry(time: 11.0, frame: 3, direction: .peerToRelay, kind: .relay(RelayBandSummary(kind: .udp, peer: peer, frames: 1, bytes: 100)), detail: "peer \(peer), 1 frame, 100 bytes"),
            TimelineEntry(time: 11.001, frame: 4, direction: .serverToClient, kind: .relay(RelayBandSummary(kind: .data, peer: peer, frames: 1, bytes: 136)), detail: "peer \(peer), 1 frame, 136 bytes"),
            TimelineEntry(time: 12.0, frame: 5, direction: .clientToServer, kind: .relay(RelayBandSummary(kind: .channelData(0x4000), peer: peer, frames: 12, bytes: 1248)), detail: "peer \(peer), 12 frames, 1248 bytes, last frame 30"),
            TimelineEntry(time: 12.001, frame: 6, direction: .relayToPeer, kind: .relay(RelayBandSummary(kind: .udp, peer: peer, frames: 12, bytes: 1200)), detail: "peer \(peer), 12 frames, 1200 bytes, last frame 31"),
        ]
        let l = LadderBuilder.allocation(a)
        XCTAssertEqual(l.lanes.map(\.role), ["client", "client NAT", "TURN server", "relayed", "peer"])
        XCTAssertEqual(l.rows.map(\.kind), [.message, .message, .note, .message, .hop, .message, .band, .hop, .band])
        XCTAssertEqual(l.rows.compactMap(\.step), ["1-2", "3", "4-5", "6-7", "8", "9-10"])
        XCTAssertEqual(l.rows[0].via, [1], "arrows from the client cross its NAT")
        XCTAssertEqual(l.rows[3].from, 4)
        XCTAssertEqual(l.rows[3].to, 3)
        XCTAssertEqual(l.rows[6].count, 12)
        let svg = LadderSVG(ladder: l, idPrefix: "t").render()
        XCTAssertTrue(svg.hasPrefix("<svg class=\"ladder\" data-session=\"allocation:1\""))
        XCTAssertTrue(svg.contains("×12 ChannelData 0x4000"))
    }

    /// Band counts and peers come from the entry's typed kind, whatever its sentence says.
    func testRelayDataIsReadFromTheTypedKind() {
        let band = RelayBandSummary(kind: .channelData(0x4000), peer: "1.2.3.4:5", frames: 12, bytes: 960)
        let relayed = TimelineEntry(time: 1, frame: 2, direction: .clientToServer, kind: .relay(band), detail: "anything at all")
        XCTAssertEqual(LadderBuilder.relayData(relayed), band)
        let refresh = TimelineEntry(time: 1, frame: 3, direction: .serverToClient, kind: .success(method: "Refresh"),
                                    detail: "peer 9.9.9.9:9, 12 frames")
        XCTAssertNil(LadderBuilder.relayData(refresh))
        // RFC 6062 data-connection bytes are drawn as plain messages, not relay bands.
        let tcp = RelayBandSummary(kind: .tcpDataConnection, peer: "1.2.3.4:5", frames: 3, bytes: 30)
        XCTAssertNil(LadderBuilder.relayData(TimelineEntry(time: 1, frame: 4, direction: .clientToServer, kind: .relay(tcp), detail: "")))
    }

    func testIceHandshakeAndNomination() {
        var s = IceSessionSummary(id: 3, ufrags: ["aaaa", "bbbb"], nomination: .regular, start: 100, end: 105)
        s.controlling = "192.0.2.1:5000"
        s.controlled = "198.51.100.9:6000"
        s.pairs = [
            IcePairSummary(local: "192.0.2.1:5000", remote: "198.51.100.9:6000", localType: .host, remoteType: .srflx, transport: .udp,
                           viaRelay: false, state: .succeeded, nominated: true, requestsSent: 3, responsesReceived: 2, errorResponses: 0,
                           retransmissions: 1, firstRequest: 100.5, lastRequest: 101, firstResponse: 100.6, lastResponse: 101.1, rtt: nil,
                           handshake: [true, true, false, true]),
        ]
        s.selectedPair = IceSelectedPair(local: "192.0.2.1:5000", remote: "198.51.100.9:6000", localType: .host, remoteType: .srflx)
        let l = LadderBuilder.ice(s)
        XCTAssertEqual(l.lanes.map(\.role), ["controlling host", "controlled srflx"])
        let steps = l.rows.filter { $0.style.contains(.handshake) && $0.kind == .message }
        XCTAssertEqual(steps.map(\.label), ["1 check", "2 response", "3 triggered check", "4 response"])
        XCTAssertEqual(steps.map { $0.style.contains(.notSeen) }, [false, false, true, false])
        XCTAssertEqual(steps.map { ($0.from, $0.to) }.map { "\($0.0)>\($0.1)" }, ["0>1", "1>0", "1>0", "0>1"])
        let nomination = l.rows.filter { $0.style.contains(.nominated) }
        XCTAssertEqual(nomination.map(\.label), ["check + USE-CANDIDATE"])
        XCTAssertTrue(l.rows.last!.label.hasPrefix("selected pair"))
        let md = MermaidExportRenderer().diagram(l)
        XCTAssertTrue(md.contains("P1-->>P0: (3) 3 triggered check · not seen at this vantage point"))
        XCTAssertTrue(md.contains("★ [+1.000s] check + USE-CANDIDATE"))
    }
}

final class ExportTablesTests: XCTestCase {
    func testColumnsAreUniqueAndKeysExist() {
        for spec in ExportTables.specs {
            let names = spec.columns.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, spec.name)
            for k in spec.primaryKey { XCTAssertTrue(names.contains(k), "\(spec.name).\(k)") }
            for fk in spec.foreignKeys { for c in fk.columns { XCTAssertTrue(names.contains(c), "\(spec.name).\(c)") } }
            for i in spec.indexes { for c in i { XCTAssertTrue(names.contains(c), "\(spec.name) index \(c)") } }
        }
    }

    func testSQLiteRoundTripAndAppend() throws {
        var doc = AnalysisDocument()
        doc.captures = [CaptureFileSummary(file: "a.pcap", format: "pcap", linkType: "EN10MB", packets: 3, sha256: String(repeating: "a", count: 64))]
        var a = Fixtures.allocation()
        a.errors = [ErrorCount(code: 401, count: 2, reason: "Unauthorized", meaning: "m")]
        a.timeline = [TimelineEntry(time: 10, frame: 1, direction: .clientToServer, kind: .request(method: "Allocate"), detail: "x")]
        doc.allocations = [a]
        doc.transactions = [TransactionSummary(transactionId: "00", method: "Allocate", client: a.client, server: a.server, transport: .udp,
                                               firstRequest: 10, lastRequest: 10, requestFrames: [1], retransmissions: 0, retransmissionSpacing: [],
                                               state: .error, responseFrame: 2, responseTime: 10.1, errorCode: 401, rtt: 0.1, nested: false)]
        let path = NSTemporaryDirectory() + "stunscope-test-\(UUID().uuidString).db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try SQLiteExportRenderer().write([ExportCapture(file: "a.pcap", document: doc)], toFile: path)
        var other = doc
        other.captures[0].sha256 = String(repeating: "b", count: 64)
        let second = try SQLiteExportRenderer().write([ExportCapture(file: "b.pcap", document: other)], toFile: path)
        XCTAssertEqual(first, [1])
        XCTAssertEqual(second, [2])
        let again = try SQLiteExportRenderer().write([ExportCapture(file: "a.pcap", document: doc)], toFile: path)
        XCTAssertEqual(again, [3], "the same file and hash replaces its old rows")
        let csv = CSVExportRenderer().render([ExportCapture(file: "a.pcap", document: doc)])
        XCTAssertEqual(csv.map(\.name), ExportTables.names.map { $0 + ".csv" })
        let tx = csv.first { $0.name == "transactions.csv" }!.content
        XCTAssertTrue(tx.contains(",1,10.0,"), "the transaction points at allocation 1: \(tx)")
    }
}

enum Fixtures {
    static func allocation() -> TurnAllocationSummary {
        var a = TurnAllocationSummary(id: 1, client: "192.168.77.10:40000", server: "198.51.100.10:3478", transport: .udp,
                                      start: 10, end: 20, outcome: .deleted)
        a.relayed = ["198.51.100.11:50000"]
        a.mapped = "198.51.100.2:40000"
        return a
    }
}
