import NetworkVocabulary
import Testing
@testable import PacketDecoding

/// Drives a TCPReassembler with segments of one client/server pair.
struct TCPHarness {
    var r = TCPReassembler()
    let sink = RecordingSink()
    var client = Endpoint(.v4(0x0a00_0001), 40_000)
    let server = Endpoint(.v4(0x0a00_0002), 3478)
    var frame = 0

    mutating func segment(fromClient: Bool = true, seq: UInt32, syn: Bool = false, ack: Bool = true,
                          fin: Bool = false, rst: Bool = false, _ text: String = "", at seconds: Int64 = 0) {
        frame += 1
        let flow = fromClient ? FiveTuple(source: client, destination: server, transport: .tcp)
                              : FiveTuple(source: server, destination: client, transport: .tcp)
        let context = FrameContext(frame: frame, time: CaptureTime(seconds: 1_700_000_000 + seconds, nanoseconds: 0))
        let bytes = Array(text.utf8)
        let sink = self.sink
        bytes.withUnsafeBytes { raw in
            r.process(TCPReassembler.Segment(context: context, flow: flow, sequence: seq, syn: syn, ack: ack,
                                             fin: fin, rst: rst, payload: raw), sink: sink)
        }
    }

    /// SYN (client ISN 1000), SYN-ACK (server ISN 5000), ACK.
    mutating func handshake() {
        segment(seq: 1000, syn: true, ack: false)
        segment(fromClient: false, seq: 5000, syn: true)
        segment(seq: 1001)
    }

    func clientText(_ stream: Int = 0) -> String { String(decoding: sink.tcpBytes[stream] ?? [], as: UTF8.self) }
    func serverText(_ stream: Int = 0) -> String { String(decoding: sink.tcpReplyBytes[stream] ?? [], as: UTF8.self) }
    var kinds: [TCPStreamEventKind] { sink.events.map(\.kind) }
}

@Suite struct TCPReassemblerTests {
    @Test func inOrderBothDirections() {
        var h = TCPHarness()
        h.handshake()
        h.segment(seq: 1001, "hello")
        h.segment(seq: 1006, " world")
        h.segment(fromClient: false, seq: 5001, "reply")
        #expect(h.clientText() == "hello world")
        #expect(h.serverText() == "reply")
        #expect(h.kinds.first == .opened(sawHandshake: true))
        #expect(h.sink.tcpOffsets.map(\.offset) == [0, 5, 0])
        #expect(h.r.streamsCreated == 1)
    }

    @Test func retransmissionIsTrimmed() {
        var h = TCPHarness()
        h.handshake()
        h.segment(seq: 1001, "abcdef")
        h.segment(seq: 1004, "defghi")   // overlaps the first three bytes
        h.segment(seq: 1001, "abc")      // pure retransmission
        #expect(h.clientText() == "abcdefghi")
        #expect(h.r.retransmittedSegments == 2)
        #expect(h.r.gaps == 0)
    }

    @Test func outOfOrderIsBufferedThenDelivered() {
        var h = TCPHarness()
        h.handshake()
        h.segment(seq: 1006, "world")
        #expect(h.clientText() == "")
        h.segment(seq: 1001, "hello")
        #expect(h.clientText() == "helloworld")
        #expect(h.r.outOfOrderSegments == 1)
        #expect(h.sink.tcpOffsets.map(\.offset) == [0, 5])
    }

    @Test func overlappingOutOfOrderSegmentsFirstCopyWins() {
        var h = TCPHarness()
        h.handshake()
        h.segment(seq: 1004, "DEF")
        h.segment(seq: 1006, "fgh")
        h.segment(seq: 1001, "abc")
        #expect(h.clientText() == "abcDEFgh")
    }

    @Test func gapReportedWhenBufferIsFull() {
        var h = TCPHarness()
        h.r.maxBufferedPerDirection = 16
        h.handshake()
        h.segment(seq: 1101, "0123456789")   // 100 bytes missing before it: buffered
        h.segment(seq: 1201, "abcdefghij")   // buffer would exceed 16 bytes: give up the first hole
        #expect(h.kinds.contains(.gap(missingBytes: 100)))
        #expect(h.clientText() == "0123456789")
        #expect(h.r.gaps == 1)
        // At the end the remaining hole is reported too and the buffered bytes delivered.
        h.r.finish(sink: h.sink, at: FrameContext(frame: h.frame, time: CaptureTime(nanoseconds: 0)))
        #expect(h.r.gaps == 2)
        #expect(h.r.gapBytes == 190)
        #expect(h.clientText() == "0123456789abcdefghij")
        #expect(h.kinds.last == .closed(reason: .endOfCapture))
        // Stream offsets count the missing bytes.
        #expect(h.sink.tcpOffsets.map(\.offset) == [100, 200])
    }

    @Test func finOnBothSidesCloses() {
        var h = TCPHarness()
        h.handshake()
        h.segment(seq: 1001, "x")
        h.segment(seq: 1002, fin: true)
        h.segment(fromClient: false, seq: 5001, fin: true)
        #expect(h.kinds.last == .closed(reason: .fin))
        h.segment(seq: 1003)  // the last ACK: part of the closed connection
        #expect(h.r.streamsCreated == 1)
        // A new SYN on the same ports is a new stream (as tshark's tcp.stream).
        h.segment(seq: 9000, syn: true, ack: false)
        #expect(h.r.streamsCreated == 2)
        #expect(h.sink.events.last?.stream == 1)
    }

    @Test func rstCloses() {
        var h = TCPHarness()
        h.handshake()
        h.segment(fromClient: false, seq: 5001, rst: true)
        #expect(h.kinds.last == .closed(reason: .reset))
        #expect(h.r.openConnections == 1)  // kept to absorb its tail
    }

    @Test func midStreamCaptureWithoutHandshake() {
        var h = TCPHarness()
        h.segment(seq: 77_777, "late")
        h.segment(seq: 77_781, "comer")
        #expect(h.kinds.first == .opened(sawHandshake: false))
        #expect(h.clientText() == "latecomer")
    }

    @Test func sequenceWraparound() {
        var h = TCPHarness()
        h.segment(seq: 0xFFFF_FFF0, syn: true, ack: false)
        h.segment(seq: 0xFFFF_FFF1, String(repeating: "a", count: 15))
        h.segment(seq: 0, "bbbb")
        #expect(h.clientText() == String(repeating: "a", count: 15) + "bbbb")
        #expect(h.r.gaps == 0)
    }

    @Test func connectionTableIsBounded() {
        var h = TCPHarness()
        h.r.maxConnections = 4
        for port in 0..<10 {
            h.client = Endpoint(.v4(0x0a00_0001), UInt16(50_000 + port))
            h.segment(seq: 1, syn: true, ack: false)
            h.segment(seq: 2, "data")
        }
        #expect(h.r.openConnections <= 4)
        #expect(h.r.evicted == 6)
        #expect(h.kinds.filter { $0 == .closed(reason: .capacityEvicted) }.count == 6)
    }

    @Test func idleConnectionsAreSwept() {
        var h = TCPHarness()
        h.r.idleTimeoutNanoseconds = 60_000_000_000
        h.segment(seq: 1, syn: true, ack: false, at: 0)
        h.client = Endpoint(.v4(0x0a00_0001), 50_001)
        h.segment(seq: 1, syn: true, ack: false, at: 100)
        h.segment(seq: 2, "x", at: 200)
        #expect(h.kinds.contains(.closed(reason: .idleEvicted)))
        #expect(h.r.evicted >= 1)
    }
}
