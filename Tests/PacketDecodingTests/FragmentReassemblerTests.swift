import NetworkVocabulary
import Testing
@testable import PacketDecoding

@Suite struct FragmentReassemblerTests {
    let key = FragmentReassembler.Key(source: .v4(0x0a00_0001), destination: .v4(0x0a00_0002), identification: 7, protocolNumber: 17)
    let data: [UInt8] = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    enum Result: Equatable { case incomplete, complete([UInt8]), dropped }

    func add(_ r: inout FragmentReassembler, _ range: Range<Int>, more: Bool, key k: FragmentReassembler.Key? = nil,
             at seconds: Int64 = 0) -> Result {
        let piece = Array(data[range])
        let outcome = piece.withUnsafeBytes {
            r.add(key: k ?? key, offset: range.lowerBound, moreFragments: more, payload: $0,
                  time: CaptureTime(seconds: 1_700_000_000 + seconds, nanoseconds: 0))
        }
        switch outcome {
        case .incomplete: return .incomplete
        case let .complete(bytes): return .complete(bytes)
        case .dropped: return .dropped
        }
    }

    @Test func inOrder() {
        var r = FragmentReassembler()
        #expect(add(&r, 0..<1232, more: true) == .incomplete)
        #expect(add(&r, 1232..<2464, more: true) == .incomplete)
        #expect(add(&r, 2464..<3000, more: false) == .complete(data))
        #expect(r.pendingDatagrams == 0)
    }

    @Test func outOfOrder() {
        var r = FragmentReassembler()
        #expect(add(&r, 2464..<3000, more: false) == .incomplete)
        #expect(add(&r, 0..<1232, more: true) == .incomplete)
        #expect(add(&r, 1232..<2464, more: true) == .complete(data))
    }

    @Test func duplicateIsIgnored() {
        var r = FragmentReassembler()
        #expect(add(&r, 0..<1232, more: true) == .incomplete)
        #expect(add(&r, 0..<1232, more: true) == .incomplete)
        #expect(add(&r, 1232..<3000, more: false) == .complete(data))
        #expect(r.droppedOverlap == 0)
    }

    @Test func overlapDropsTheDatagram() {
        var r = FragmentReassembler()
        #expect(add(&r, 0..<1232, more: true) == .incomplete)
        #expect(add(&r, 1000..<2000, more: true) == .dropped)
        #expect(r.droppedOverlap == 1)
        #expect(r.pendingDatagrams == 0)
        // What is left of it never completes a datagram.
        #expect(add(&r, 2000..<3000, more: false) == .incomplete)
    }

    @Test func overlapWithLastFragmentDrops() {
        var r = FragmentReassembler()
        #expect(add(&r, 1232..<3000, more: false) == .incomplete)
        #expect(add(&r, 0..<1240, more: true) == .dropped)
    }

    @Test func conflictingEndsDrop() {
        var r = FragmentReassembler()
        #expect(add(&r, 1000..<2000, more: false) == .incomplete)
        #expect(add(&r, 2000..<3000, more: false) == .dropped)
    }

    /// Pieces that tile the right byte count but leave a hole and run past the end
    /// (0-8, 24-32, then a last fragment 16-24) once made reassembly write past its buffer.
    @Test func dataBeyondTheEndDrops() {
        var r = FragmentReassembler()
        #expect(add(&r, 0..<8, more: true) == .incomplete)
        #expect(add(&r, 24..<32, more: true) == .incomplete)
        #expect(add(&r, 16..<24, more: false) == .dropped)
        #expect(r.pendingDatagrams == 0)
    }

    @Test func fragmentBeyondLastDrops() {
        var r = FragmentReassembler()
        #expect(add(&r, 8..<16, more: false) == .incomplete)
        #expect(add(&r, 16..<24, more: true) == .dropped)
    }

    @Test func datagramLargerThan64KiBDrops() {
        var r = FragmentReassembler()
        let piece = [UInt8](repeating: 1, count: 100)
        let outcome = piece.withUnsafeBytes {
            r.add(key: key, offset: 65_500, moreFragments: false, payload: $0, time: CaptureTime(nanoseconds: 0))
        }
        guard case .dropped = outcome else { Issue.record("want dropped"); return }
    }

    @Test func evictionCapKeepsTheNewest() {
        var r = FragmentReassembler()
        r.maxDatagrams = 2
        let keys = (0..<3).map { FragmentReassembler.Key(source: .v4(1), destination: .v4(2), identification: UInt32($0), protocolNumber: 17) }
        for k in keys { #expect(add(&r, 0..<1232, more: true, key: k) == .incomplete) }
        #expect(r.evicted == 1)
        #expect(r.pendingDatagrams == 2)
        // The oldest was evicted: its tail alone does not complete it; the others complete.
        #expect(add(&r, 1232..<3000, more: false, key: keys[0]) == .incomplete)
        #expect(add(&r, 1232..<3000, more: false, key: keys[2]) == .complete(data))
    }

    @Test func byteCapEvicts() {
        var r = FragmentReassembler()
        r.maxBufferedBytes = 2000
        let k2 = FragmentReassembler.Key(source: .v4(1), destination: .v4(2), identification: 99, protocolNumber: 17)
        #expect(add(&r, 0..<1232, more: true) == .incomplete)
        #expect(add(&r, 0..<1232, more: true, key: k2) == .incomplete)
        #expect(r.evicted == 1)
        #expect(r.pendingDatagrams == 1)
    }

    @Test func timeoutExpiresIncompleteDatagrams() {
        // Within the 30 s timeout it still completes ...
        var early = FragmentReassembler()
        #expect(add(&early, 0..<1232, more: true, at: 0) == .incomplete)
        #expect(add(&early, 1232..<3000, more: false, at: 29) == .complete(data))
        // ... after it, the first fragment is gone.
        var late = FragmentReassembler()
        #expect(add(&late, 0..<1232, more: true, at: 0) == .incomplete)
        #expect(add(&late, 1232..<3000, more: false, at: 31) == .incomplete)
        #expect(late.evicted == 1)
    }

    @Test func manyDatagramsStayBounded() {
        var r = FragmentReassembler()
        r.maxDatagrams = 64
        for i in 0..<10_000 {
            let k = FragmentReassembler.Key(source: .v4(1), destination: .v4(2), identification: UInt32(i), protocolNumber: 17)
            _ = add(&r, 0..<100, more: true, key: k)
        }
        #expect(r.pendingDatagrams == 64)
        #expect(r.evicted == 10_000 - 64)
    }
}
