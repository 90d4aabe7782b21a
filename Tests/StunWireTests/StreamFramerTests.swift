import Testing
@testable import StunWire

/// What the framer emitted, copied out of the borrowed views.
enum Cut: Equatable {
    case stun([UInt8])
    case channel(UInt16, [UInt8])
    case framedOther([UInt8])
    case unframed([UInt8])
    case skipped(Int, SkipReason)
}

func run(_ framer: StunStreamFramer, _ segments: [[UInt8]], finish: Bool = false) -> [Cut] {
    var cuts: [Cut] = []
    let collect: (StreamUnit) -> Void = { unit in
        switch unit {
        case let .stun(b): cuts.append(.stun(Array(b)))
        case let .channelData(f): cuts.append(.channel(f.channel, Array(f.payload)))
        case let .framedOther(b): cuts.append(.framedOther(Array(b)))
        case let .unframed(b):
            // Consecutive unframed chunks are one stream of bytes.
            if case let .unframed(previous)? = cuts.last {
                cuts[cuts.count - 1] = .unframed(previous + Array(b))
            } else {
                cuts.append(.unframed(Array(b)))
            }
        case let .skipped(n, r): cuts.append(.skipped(n, r))
        }
    }
    for segment in segments {
        segment.withUnsafeBytes { framer.feed($0, collect) }
    }
    if finish { framer.finish(collect) }
    return cuts
}

func stunMessage(_ n: UInt8, padding: Int = 3) -> [UInt8] {
    var b = StunMessageBuilder(type: StunMessageType(method: .refresh, messageClass: .request),
                               transactionID: [UInt8](repeating: n, count: 12))
    b.add(.lifetime, uint32: UInt32(n))
    b.add(.software, string: String(repeating: "x", count: padding))
    return b.bytes
}

func channelFrame(_ channel: UInt16, _ data: [UInt8]) -> [UInt8] {
    let bytes = [UInt8(channel >> 8), UInt8(channel & 0xff), UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    return bytes + [UInt8](repeating: 0, count: (4 - data.count % 4) % 4)
}

@Suite("TCP stream framing")
struct StreamFramerTests {
    @Test func severalMessagesInOneSegment() {
        let framer = StunStreamFramer(channelDataAllowed: true, connectionStart: true)
        let a = stunMessage(1), b = stunMessage(2), c = channelFrame(0x4000, [1, 2, 3, 4, 5])
        let cuts = run(framer, [a + b + c + a])
        #expect(cuts == [.stun(a), .stun(b), .channel(0x4000, [1, 2, 3, 4, 5]), .stun(a)])
        #expect(framer.bufferedCount == 0)
    }

    @Test func oneMessageAcrossSegmentsAtEverySplit() {
        let stream = stunMessage(1) + channelFrame(0x4001, [9, 9, 9]) + stunMessage(2, padding: 7)
        for first in 1..<stream.count {
            for second in stride(from: first, to: stream.count, by: 7) {
                let framer = StunStreamFramer(channelDataAllowed: true, connectionStart: true)
                let cuts = run(framer, [Array(stream[0..<first]), Array(stream[first..<second]), Array(stream[second...])])
                #expect(cuts == [.stun(stunMessage(1)), .channel(0x4001, [9, 9, 9]), .stun(stunMessage(2, padding: 7))],
                        "split at \(first), \(second)")
            }
        }
    }

    @Test func byteByByte() {
        let stream = stunMessage(3) + stunMessage(4)
        let framer = StunStreamFramer(channelDataAllowed: false, connectionStart: true)
        let cuts = run(framer, stream.map { [$0] })
        #expect(cuts == [.stun(stunMessage(3)), .stun(stunMessage(4))])
    }

    @Test func rfc4571Framing() {
        func framed(_ body: [UInt8]) -> [UInt8] { [UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body }
        let rtp: [UInt8] = [0x80, 0x60, 0, 1, 2, 3, 4, 5]
        let stream = framed(stunMessage(1)) + framed(rtp) + framed(stunMessage(2))
        let framer = StunStreamFramer(channelDataAllowed: false, connectionStart: true)
        let cuts = run(framer, [Array(stream.prefix(5)), Array(stream.dropFirst(5))])
        #expect(cuts == [.stun(stunMessage(1)), .framedOther(rtp), .stun(stunMessage(2))])
        #expect(framer.framing == .rfc4571)
    }

    @Test func tlsIsPassedThrough() {
        let tls: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x20] + [UInt8](repeating: 7, count: 32)
        let framer = StunStreamFramer(channelDataAllowed: true, connectionStart: true)
        let cuts = run(framer, [Array(tls.prefix(3)), Array(tls.dropFirst(3)), [1, 2, 3]], finish: true)
        #expect(framer.framing == .passthrough)
        #expect(cuts == [.unframed(tls + [1, 2, 3])])
    }

    @Test func midStreamStartFindsTheNextCookie() {
        let message = stunMessage(5)
        let tail = Array(stunMessage(4).suffix(13))
        let framer = StunStreamFramer(channelDataAllowed: false, connectionStart: false)
        let cuts = run(framer, [tail + Array(message.prefix(9)), Array(message.dropFirst(9)) + message])
        #expect(cuts == [.skipped(13, .midStreamStart), .stun(message), .stun(message)])
    }

    @Test func gapResynchronises() {
        let a = stunMessage(1), b = stunMessage(2)
        let framer = StunStreamFramer(channelDataAllowed: true, connectionStart: true)
        var cuts = run(framer, [a + Array(b.prefix(10))])
        #expect(cuts == [.stun(a)])
        framer.gap()
        // The rest of b arrives after a hole, then a whole message.
        cuts = run(framer, [Array(b.suffix(8)) + a])
        #expect(cuts == [.skipped(18, .afterGap), .stun(a)])
    }

    @Test func channelDataNeedsPermission() {
        let frame = channelFrame(0x4000, [1, 2, 3, 4])
        let framer = StunStreamFramer(channelDataAllowed: false, connectionStart: true)
        let cuts = run(framer, [stunMessage(1) + frame + stunMessage(2)])
        // Not allowed: the ChannelData bytes are skipped until the next cookie.
        #expect(cuts == [.stun(stunMessage(1)), .skipped(frame.count, .lostSync), .stun(stunMessage(2))])
    }

    @Test func endOfStreamInsideAMessage() {
        let framer = StunStreamFramer(channelDataAllowed: false, connectionStart: true)
        let cuts = run(framer, [Array(stunMessage(1).prefix(30))], finish: true)
        #expect(cuts == [.skipped(30, .truncated)])
    }

    @Test func bufferStaysBounded() {
        // A header that announces 65,535 bytes, then an endless supply of bytes.
        let framer = StunStreamFramer(channelDataAllowed: true, connectionStart: true)
        var header = stunMessage(1)
        header[2] = 0xff
        header[3] = 0xfc
        _ = run(framer, [Array(header.prefix(24))])
        var largest = 0
        for _ in 0..<100 {
            _ = run(framer, [[UInt8](repeating: 0x55, count: 4_000)])
            largest = max(largest, framer.bufferedCount)
        }
        #expect(largest <= StunStreamFramer.maximumFrame)
    }
}
