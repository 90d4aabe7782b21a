import Testing
@testable import StunWire
import TestSupport

/// Hostile input never traps: random bytes, mutated and truncated valid
/// messages, random segmentations. Deterministic seeds, so a failure replays.
@Suite("Fuzz: hostile input never traps")
struct FuzzTests {
    /// A fresh store for each verifier: a `CredentialStore` is mutable and the tests run in parallel.
    static var store: CredentialStore {
        let s = CredentialStore()
        s.addLongTerm(user: "alice", realm: "example.org", password: "secret")
        s.addShortTerm(username: "evtj", password: RFC5769.shortTermPassword)
        return s
    }

    /// Runs every decoder on `bytes`; returns whether STUN was recognised.
    @discardableResult
    func exercise(_ bytes: [UInt8], _ verifier: IntegrityVerifier) -> Bool {
        bytes.withUnsafeBytes { raw -> Bool in
            _ = PayloadClass.classify(raw)
            _ = PayloadHash.hash64(raw)
            if let frame = ChannelDataView.datagram(raw) { _ = PayloadHash.hash64(frame.payload) }
            _ = ChannelDataView.streamFrame(raw)
            if let prefix = StunMessageView.recognizePrefix(raw) { _ = StunMessage(prefix) }
            guard let view = StunMessageView.recognize(raw) else { return false }
            var message = StunMessage(view)
            verifier.verify(view, &message)
            _ = (message.methodName, message.transactionID.hex, message.peerAddresses, message.errorCode, message.data)
            _ = view.firstValue(of: .data)
            return true
        }
    }

    static var seeds: [[UInt8]] {
        var b = StunMessageBuilder(type: StunMessageType(method: .allocate, messageClass: .request),
                                   transactionID: AttributeDecodingTests.tid)
        b.add(.requestedTransport, [17, 0, 0, 0])
        b.add(.username, string: "alice")
        b.add(.realm, string: "example.org")
        b.add(.xorPeerAddress, address: .init("[2001:db8::1]:5000")!, xor: true)
        b.add(.errorCode, [0, 0, 4, 1, 0x41])
        b.add(.passwordAlgorithms, [0, 1, 0, 0, 0, 2, 0, 4, 1, 2, 3, 4])
        b.add(.data, [0x00, 0x01, 0x00, 0x00] + [UInt8](repeating: 0, count: 16))
        b.addMessageIntegrity(key: .longTerm(user: "alice", realm: "example.org", password: "secret"))
        b.addMessageIntegritySHA256(key: .longTerm(user: "alice", realm: "example.org", password: "secret"))
        b.addFingerprint()
        var classic = StunMessageBuilder(type: StunMessageType(rawValue: 0x0115), transactionID: Array(0..<16), padded: false)
        classic.add(.magicCookie, uint32: StunHeader.msTurnMagicCookie)
        classic.add(StunAttributeType(0x0012), address: .init("1.2.3.4:5")!, xor: false)
        classic.add(.data, [1, 2, 3])
        return [RFC5769.sampleRequest, RFC5769.ipv4Response, RFC5769.ipv6Response, RFC5769.longTermRequest, b.bytes, classic.bytes]
    }

    @Test func randomBytes() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let verifier = IntegrityVerifier(credentials: Self.store, transactionCapacity: 64)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...160, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if count >= 8 && Bool.random(using: &rng) {
                // Make the cheap checks pass often, so the deep paths run.
                bytes[0] &= 0x3F
                bytes[4] = 0x21; bytes[5] = 0x12; bytes[6] = 0xA4; bytes[7] = 0x42
                if Bool.random(using: &rng) {
                    let length = count - 20
                    if length >= 0 { bytes[2] = UInt8(length >> 8); bytes[3] = UInt8(length & 0xff) }
                }
            }
            exercise(bytes, verifier)
        }
    }

    @Test func truncationsAndLengthLies() {
        let verifier = IntegrityVerifier(credentials: Self.store, transactionCapacity: 64)
        for seed in Self.seeds {
            for cut in 0...seed.count {
                exercise(Array(seed.prefix(cut)), verifier)
                exercise(Array(seed.suffix(cut)), verifier)
            }
            // Every attribute-length and message-length value at the first attribute.
            for value in stride(from: 0, through: 0xFFFF, by: 97) {
                var lie = seed
                lie[22] = UInt8(value >> 8); lie[23] = UInt8(value & 0xff)
                exercise(lie, verifier)
                lie = seed
                lie[2] = UInt8(value >> 8); lie[3] = UInt8(value & 0xff)
                exercise(lie, verifier)
            }
        }
    }

    @Test func bitFlipsAndByteMutations() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let verifier = IntegrityVerifier(credentials: Self.store, transactionCapacity: 64)
        var recognised = 0
        for seed in Self.seeds {
            for _ in 0..<2_000 {
                var bytes = seed
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    if Bool.random(using: &rng) {
                        bytes[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                    } else {
                        bytes[i] = UInt8.random(in: 0...255, using: &rng)
                    }
                }
                if exercise(bytes, verifier) { recognised += 1 }
            }
        }
        #expect(recognised > 1_000, "mutations should still reach the decoders often")
    }

    @Test func streamFramerWithRandomSegmentsAndGaps() {
        var rng = SplitMix64(seed: 0x5EED_0003)
        for round in 0..<300 {
            var stream: [UInt8] = []
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                switch Int.random(in: 0...3, using: &rng) {
                case 0: stream += Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &rng)]
                case 1: stream += channelFrame(0x4000, (0..<Int.random(in: 0...50, using: &rng)).map { UInt8($0) })
                case 2: stream += (0..<Int.random(in: 1...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                default:
                    var header = stunMessage(UInt8(round & 0xff))
                    header[2] = UInt8.random(in: 0...255, using: &rng)
                    stream += header
                }
            }
            let framer = StunStreamFramer(channelDataAllowed: Bool.random(using: &rng), connectionStart: Bool.random(using: &rng),
                                          maximumUnsyncedScan: 512)
            var offset = 0
            while offset < stream.count {
                let n = min(stream.count - offset, Int.random(in: 1...90, using: &rng))
                let segment = Array(stream[offset..<(offset + n)])
                offset += n
                if Int.random(in: 0...15, using: &rng) == 0 { framer.gap() }
                if Int.random(in: 0...40, using: &rng) == 0 { framer.channelDataAllowed.toggle() }
                var total = 0
                segment.withUnsafeBytes { raw in
                    framer.feed(raw) { unit in
                        switch unit {
                        case let .stun(b): total += b.count; _ = b.withMemoryRebound(to: UInt8.self) { StunMessage.parse(UnsafeRawBufferPointer($0)) }
                        case let .channelData(f): total += f.payload.count
                        case let .framedOther(b), let .unframed(b): total += b.count
                        case .skipped: break
                        }
                    }
                }
                #expect(framer.bufferedCount <= StunStreamFramer.maximumFrame)
            }
            framer.finish { _ in }
            #expect(framer.bufferedCount == 0)
        }
    }

    @Test func credentialFilesOfGarbage() {
        var rng = SplitMix64(seed: 0x5EED_0004)
        let alphabet = Array("ab:\\\n#\r \t:é\u{0}".unicodeScalars)
        for _ in 0..<3_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                text.unicodeScalars.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)])
            }
            _ = try? CredentialStore(parsing: text)
        }
    }
}
