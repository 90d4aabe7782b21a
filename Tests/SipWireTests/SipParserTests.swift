import Testing
@testable import SipWire
import TestSupport

let offerSdp = """
v=0\r
o=- 1351867248 1 IN IP4 10.0.1.10\r
s=StunScope ICE call\r
c=IN IP4 203.0.113.10\r
t=0 0\r
a=ice-options:trickle\r
m=audio 49369 RTP/AVP 0\r
a=rtpmap:0 PCMU/8000\r
a=ice-ufrag:hnoN\r
a=ice-pwd:SoAMdhmPqeieC9Or4VBUmT\r
a=setup:actpass\r
a=candidate:3f5954b5 1 udp 2130706431 10.0.1.10 41079 typ host\r
a=candidate:4e868a5c 1 udp 16777215 203.0.113.10 49369 typ relay raddr 203.0.113.2 rport 48626\r
a=candidate:22bd7e70 1 udp 1694498815 203.0.113.2 41079 typ srflx raddr 10.0.1.10 rport 41079\r
a=candidate:7 1 tcp 1518280447 10.0.1.10 9 typ host tcptype active\r
a=end-of-candidates\r
a=sendrecv\r

"""

func invite(body: String = offerSdp, compact: Bool = false) -> [UInt8] {
    let callID = compact ? "i" : "Call-ID"
    let length = compact ? "l" : "Content-Length"
    let type = compact ? "c" : "Content-Type"
    let text = "INVITE sip:bob@203.0.113.3 SIP/2.0\r\n"
        + "Via: SIP/2.0/UDP 10.0.1.10:5060;branch=z9hG4bK776asdhds\r\n"
        + "Max-Forwards: 70\r\n"
        + "To: Bob <sip:bob@203.0.113.3>\r\n"
        + "From: Alice <sip:alice@10.0.1.10>;tag=1928301774\r\n"
        + "\(callID): mi93hq0xgnjit5li@10.0.1.10\r\n"
        + "CSeq: 314159 INVITE\r\n"
        + "Contact: <sip:alice@10.0.1.10:5060>\r\n"
        + "\(type): application/sdp\r\n"
        + "\(length): \(body.utf8.count)\r\n"
        + "\r\n" + body
    return Array(text.utf8)
}

@Suite("SIP messages")
struct SipParserTests {
    @Test func parsesInviteWithSdp() throws {
        let m = try #require(SipParser.parse(invite()))
        #expect(m.isRequest)
        #expect(m.method == "INVITE")
        #expect(m.requestURI == "sip:bob@203.0.113.3")
        #expect(m.callID == "mi93hq0xgnjit5li@10.0.1.10")
        #expect(m.header("call-id") == m.header("Call-ID"))
        #expect(m.cseq?.number == 314159)
        #expect(m.cseq?.method == "INVITE")
        #expect(SipMessage.tag(of: m.from) == "1928301774")
        #expect(SipMessage.tag(of: m.to) == nil)
        #expect(m.contact == "<sip:alice@10.0.1.10:5060>")
        #expect(m.contentLength == offerSdp.utf8.count)
        #expect(!m.bodyTruncated)
        let sdp = try #require(m.sdp)
        #expect(sdp.media.count == 1)
        #expect(sdp.ufrag(media: 0) == "hnoN")
        #expect(sdp.password(media: 0) == "SoAMdhmPqeieC9Or4VBUmT")
        #expect(sdp.iceOptions == "trickle")
        #expect(sdp.effectiveSetup == "actpass")
        #expect(sdp.connection?.address == "203.0.113.10")
        #expect(sdp.originAddress == "10.0.1.10")
        #expect(sdp.media[0].line == "audio 49369 RTP/AVP 0")
        #expect(sdp.media[0].endOfCandidates)
        let c = sdp.allCandidates
        #expect(c.count == 4)
        #expect(c[0].type == "host" && c[0].endpoint?.description == "10.0.1.10:41079")
        #expect(c[1].type == "relay" && c[1].relatedEndpoint?.description == "203.0.113.2:48626")
        #expect(c[2].type == "srflx" && c[2].priority == 1694498815 && c[2].foundation == "22bd7e70")
        #expect(c[3].transport == "tcp" && c[3].tcpType == "active")
        #expect(sdp.iceCredentials.count == 1)
    }

    @Test func compactHeaderNames() throws {
        let m = try #require(SipParser.parse(invite(compact: true)))
        #expect(m.callID == "mi93hq0xgnjit5li@10.0.1.10")
        #expect(m.contentType == "application/sdp")
        #expect(m.sdp?.iceUfrags == ["hnoN"])
    }

    @Test func statusLines() throws {
        let text = "SIP/2.0 180 Ringing\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        let m = try #require(SipParser.parse(Array(text.utf8)))
        #expect(m.statusCode == 180)
        #expect(m.reasonPhrase == "Ringing")
        #expect(m.summaryLine == "180 Ringing")
        #expect(m.body.isEmpty)
        #expect(SipParser.parse(Array("SIP/2.0 99 Bad\r\n\r\n".utf8)) == nil)
        #expect(SipParser.parse(Array("SIP/2.0 700 Bad\r\n\r\n".utf8)) == nil)
        #expect(SipParser.parse(Array("SIP/2.0 2x0 OK\r\n\r\n".utf8)) == nil)
    }

    @Test func bareLineFeedsAndFolding() throws {
        let text = "BYE sip:bob@h SIP/2.0\nCall-ID: abc\nSubject: one\n two\n\n"
        let m = try #require(SipParser.parse(Array(text.utf8)))
        #expect(m.method == "BYE")
        #expect(m.header("subject") == "one two")
        #expect(m.header("s") == "one two")
    }

    @Test func truncatedBodyIsFlagged() throws {
        var bytes = invite()
        bytes.removeLast(40)
        let m = try #require(SipParser.parse(bytes))
        #expect(m.bodyTruncated)
        #expect(m.body.count == offerSdp.utf8.count - 40)
    }

    @Test func recognizer() {
        func starts(_ s: String) -> Bool { Array(s.utf8).withUnsafeBytes { SipRecognizer.startsWithSipLine($0) } }
        #expect(starts("INVITE sip:bob@example.com SIP/2.0\r\n"))
        #expect(starts("OPTIONS sip:x@y SIP/2.0\n"))
        #expect(starts("SIP/2.0 200 OK\r\n"))
        #expect(!starts("GET / HTTP/1.1\r\n"))
        #expect(!starts("INVITE sip:bob@example.com SIP/2.0"))   // no line end
        #expect(!starts("invite sip:bob@example.com SIP/2.0\r\n"))
        #expect(!starts("INVITE bob SIP/2.0\r\n"))
        #expect(!starts(""))
    }

    @Test func notSip() {
        #expect(SipParser.parse(Array("HTTP/1.1 200 OK\r\n\r\n".utf8)) == nil)
        #expect(SipParser.parse([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]) == nil)
        #expect(SipParser.parse([]) == nil)
        #expect(SipParser.parse(Array("\r\n\r\n".utf8)) == nil)
    }

    @Test func headerBound() throws {
        var text = "OPTIONS sip:x@y SIP/2.0\r\n"
        for i in 0..<(SipLimits.maximumHeaders + 20) { text += "X-H\(i): v\r\n" }
        text += "\r\n"
        let m = try #require(SipParser.parse(Array(text.utf8)))
        #expect(m.headers.count == SipLimits.maximumHeaders)
        #expect(m.droppedHeaders == 20)
    }
}

@Suite("SDP")
struct SdpParserTests {
    @Test func sessionLevelIceAttributes() throws {
        let text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\na=ice-ufrag:SESS\na=ice-pwd:sesspassword0123456789\na=ice-lite\n"
            + "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:0\na=setup:active\n"
            + "m=video 9 UDP/TLS/RTP/SAVPF 96\na=ice-ufrag:VID\na=ice-pwd:videopassword0123456789\n"
        let sdp = try #require(SdpParser.parse(text))
        #expect(sdp.iceLite)
        #expect(sdp.media.count == 2)
        #expect(sdp.ufrag(media: 0) == "SESS")
        #expect(sdp.ufrag(media: 1) == "VID")
        #expect(sdp.password(media: 1) == "videopassword0123456789")
        #expect(sdp.iceCredentials.map(\.ufrag) == ["SESS", "VID"])
        #expect(sdp.media[0].connection?.address == "0.0.0.0")
        #expect(sdp.media[0].setup == "active")
        #expect(sdp.ufrag(media: 7) == "SESS")
    }

    @Test func candidateLines() throws {
        let c = try #require(SdpParser.candidate("1 1 UDP 2122260223 [2001:db8::1] 54400 typ host generation 0"[...]))
        #expect(c.transport == "udp")
        #expect(c.address == "[2001:db8::1]")
        #expect(c.endpoint?.description == "[2001:db8::1]:54400")
        let mdns = try #require(SdpParser.candidate("1 1 udp 2122260223 4f2c.local 54400 typ host"[...]))
        #expect(mdns.endpoint == nil)
        #expect(SdpParser.candidate("1 1 udp 2122260223 10.0.0.1 54400 host"[...]) == nil)
        #expect(SdpParser.candidate("1 1 udp notanumber 10.0.0.1 54400 typ host"[...]) == nil)
        #expect(SdpParser.candidate("1 1 udp 1 10.0.0.1 99999 typ host"[...]) == nil)
        #expect(SdpParser.candidate(""[...]) == nil)
        let odd = try #require(SdpParser.candidate("f 2 udp 5 10.0.0.1 1 typ relay raddr"[...]))
        #expect(odd.relatedAddress == nil)
    }

    @Test func notSdp() {
        #expect(SdpParser.parse("hello world") == nil)
        #expect(SdpParser.parse("") == nil)
        #expect(SdpParser.parse([0xff, 0xfe, 0x00]) == nil)
    }
}

@Suite("SIP over TCP")
struct SipStreamFramerTests {
    @Test func splitAndCoalescedMessages() {
        let one = invite()
        let two = Array("SIP/2.0 100 Trying\r\nCall-ID: mi93hq0xgnjit5li@10.0.1.10\r\nContent-Length: 0\r\n\r\n".utf8)
        let stream = Array("\r\n\r\n".utf8) + one + two + one
        for cut in [1, 7, 50, one.count - 3, one.count, one.count + 5, stream.count - 1] {
            let framer = SipStreamFramer()
            var got: [SipMessage] = []
            stream[0..<cut].withUnsafeBytes { b in framer.feed(UnsafeRawBufferPointer(b)) { got.append($0) } }
            stream[cut...].withUnsafeBytes { b in framer.feed(UnsafeRawBufferPointer(b)) { got.append($0) } }
            #expect(got.map(\.summaryLine) == ["INVITE sip:bob@203.0.113.3", "100 Trying", "INVITE sip:bob@203.0.113.3"], "cut \(cut)")
            #expect(got.first?.sdp?.allCandidates.count == 4)
            #expect(framer.bufferedCount == 0)
        }
    }

    @Test func resynchronisesMidStream() {
        let framer = SipStreamFramer(synced: false)
        var got: [SipMessage] = []
        let stream = Array("ody of something\r\nmore junk\r\n".utf8) + invite()
        stream.withUnsafeBytes { framer.feed($0) { got.append($0) } }
        #expect(got.count == 1)
        #expect(framer.skippedBytes > 0)
    }

    @Test func gapDropsPartialMessage() {
        let framer = SipStreamFramer()
        var got: [SipMessage] = []
        let m = invite()
        m[0..<100].withUnsafeBytes { framer.feed(UnsafeRawBufferPointer($0)) { got.append($0) } }
        framer.gap()
        m.withUnsafeBytes { framer.feed($0) { got.append($0) } }
        #expect(got.count == 1)
    }

    @Test func oversizedBodyIsSkipped() {
        let framer = SipStreamFramer()
        var got: [SipMessage] = []
        let head = Array("MESSAGE sip:x@y SIP/2.0\r\nContent-Length: 100000\r\n\r\n".utf8)
        head.withUnsafeBytes { framer.feed($0) { got.append($0) } }
        let filler = [UInt8](repeating: 0x41, count: 100_000)
        filler.withUnsafeBytes { framer.feed($0) { got.append($0) } }
        invite().withUnsafeBytes { framer.feed($0) { got.append($0) } }
        #expect(got.map(\.method) == ["INVITE"])
        #expect(framer.bufferedCount == 0)
    }

    @Test func garbageStaysBounded() {
        let framer = SipStreamFramer()
        let junk = [UInt8](repeating: 0x41, count: 200_000)
        junk.withUnsafeBytes { framer.feed($0) { _ in } }
        #expect(framer.bufferedCount <= SipLimits.maximumHeaderBlock)
    }
}

@Suite("Hostile input")
struct SipHostileInputTests {
    @Test func randomBytesNeverTrap() {
        var rng = SplitMix64(seed: 42)
        let alphabet: [UInt8] = Array("INVITE SIP/2.0 200 OK\r\n:;=a=candidate typ v=0 m=audio c=IN IP4 Content-Length: 99 \t0123456789".utf8)
        for round in 0..<3_000 {
            let length = Int(rng.next() % 600)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                let r = rng.next()
                bytes.append(round % 2 == 0 ? UInt8(truncatingIfNeeded: r) : alphabet[Int(r % UInt64(alphabet.count))])
            }
            if round % 3 == 0 { bytes = Array("INVITE sip:a@b SIP/2.0\r\n".utf8) + bytes }
            bytes.withUnsafeBytes { b in
                _ = SipRecognizer.startsWithSipLine(b)
                if let m = SipParser.parse(b) { _ = (m.sdp, m.cseq, SipMessage.tag(of: m.from), m.summaryLine) }
                _ = SipParser.parse(b, stream: true)
            }
            _ = SdpParser.parse(bytes)
            let framer = SipStreamFramer(synced: round % 2 == 0)
            var offset = 0
            while offset < bytes.count {
                let step = max(1, Int(rng.next() % 64))
                let end = min(bytes.count, offset + step)
                bytes[offset..<end].withUnsafeBytes { framer.feed(UnsafeRawBufferPointer($0)) { _ in } }
                if rng.next() % 17 == 0 { framer.gap() }
                offset = end
            }
            #expect(framer.bufferedCount <= SipLimits.maximumHeaderBlock + SipLimits.maximumMessage)
        }
    }

    @Test func mutatedInvitesNeverTrap() {
        var rng = SplitMix64(seed: 7)
        let base = invite()
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0..<Int(rng.next() % 8 + 1) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                }
            }
            if rng.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
            if let m = SipParser.parse(bytes) {
                _ = m.sdp?.allCandidates.map { ($0.endpoint, $0.relatedEndpoint, $0.attributeValue) }
                _ = m.sdp?.iceCredentials
            }
        }
    }

    @Test func hugeContentLengthAndLongLines() {
        let text = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\nv=0\r\n"
        let m = SipParser.parse(Array(text.utf8))
        #expect(m != nil)
        let negative = "INVITE sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\nbody"
        #expect(SipParser.parse(Array(negative.utf8))?.body.count == 4)
        let long = "INVITE sip:a@b SIP/2.0\r\nX: " + String(repeating: "x", count: 100_000) + "\r\n\r\n"
        let lm = SipParser.parse(Array(long.utf8))
        #expect((lm?.header("x")?.utf8.count ?? 0) <= SipLimits.maximumFieldLength)
        let sdp = "v=0\r\n" + String(repeating: "a=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n", count: 1_000)
        #expect((SdpParser.parse(sdp)?.candidates.count ?? 0) <= SipLimits.maximumCandidates)
    }
}
