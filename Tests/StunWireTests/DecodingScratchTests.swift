import NetworkVocabulary
import Testing
@testable import StunWire

/// `StunMessage(_:scratch:depth:)` and `StunBytes`: what the dissector's allocation-free
/// decoding lends and keeps must never change what a message decodes to.
@Suite("Decoding with reused storage")
struct DecodingScratchTests {
    /// The RFC 5769 messages, then each again, decoded through one scratch (recycled after
    /// each, as the dissector does) and without one: the same messages.
    @Test func scratchDecodesWhatAPlainDecodeDoes() throws {
        var scratch = StunDecodingScratch()
        let vectors = [RFC5769.sampleRequest, RFC5769.ipv4Response, RFC5769.ipv6Response, RFC5769.longTermRequest]
        for bytes in vectors + vectors.reversed() + vectors {
            try bytes.withUnsafeBytes { raw in
                let view = try #require(StunMessageView.recognize(raw))
                var reused = StunMessage(view, scratch: &scratch)
                #expect(reused == StunMessage(view))
                scratch.recycle(&reused)
                #expect(reused.attributes.isEmpty)
            }
        }
    }

    /// A message kept by its consumer (the list not given back) keeps its attributes when the
    /// scratch decodes the next one.
    @Test func aKeptMessageIsNotOverwritten() throws {
        var scratch = StunDecodingScratch()
        let first = try RFC5769.sampleRequest.withUnsafeBytes { raw in
            StunMessage(try #require(StunMessageView.recognize(raw)), scratch: &scratch)
        }
        var copy = first
        scratch.recycle(&copy)
        let second = try RFC5769.ipv4Response.withUnsafeBytes { raw in
            StunMessage(try #require(StunMessageView.recognize(raw)), scratch: &scratch)
        }
        #expect(first.attributes.map(\.type.rawValue) == [0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028])
        #expect(first.software == "STUN test client")
        #expect(second.software == "test vector")
    }

    /// A long string is remembered per attribute type and given back only for the same bytes.
    @Test func rememberedStringsMatchBytesAndType() {
        var scratch = StunDecodingScratch()
        let long = "Coturn-4.6.1 'Gorst' dan Eider"
        scratch.remember(long, type: 0x8022)
        Array(long.utf8).withUnsafeBytes { raw in
            #expect(scratch.recentString(type: 0x8022, bytes: raw) == long)
            #expect(scratch.recentString(type: 0x0006, bytes: raw) == nil)
        }
        Array((long + "!").utf8).withUnsafeBytes { raw in #expect(scratch.recentString(type: 0x8022, bytes: raw) == nil) }
        Array("Coturn-4.6.1 'Gorst' dan Eidex".utf8).withUnsafeBytes { raw in
            #expect(scratch.recentString(type: 0x8022, bytes: raw) == nil)
        }
        // Short strings are inline in Swift: never remembered.
        scratch.remember("short", type: 0x0006)
        Array("short".utf8).withUnsafeBytes { raw in #expect(scratch.recentString(type: 0x0006, bytes: raw) == nil) }
        // Only the last eight are kept.
        for i in 0..<8 { scratch.remember("a fairly long string \(i)", type: 0x8022) }
        Array(long.utf8).withUnsafeBytes { raw in #expect(scratch.recentString(type: 0x8022, bytes: raw) == nil) }
        Array("a fairly long string 7".utf8).withUnsafeBytes { raw in
            #expect(scratch.recentString(type: 0x8022, bytes: raw) == "a fairly long string 7")
        }
    }

    /// Inline up to 24 bytes, an array beyond; both compare, hash and read back byte for byte.
    @Test(arguments: [0, 1, 20, 23, 24, 25, 32, 300])
    func stunBytesHoldAnyLength(count: Int) {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 5) }
        let value = StunBytes(bytes)
        #expect(value.count == count)
        #expect(Array(value) == bytes)
        #expect(value.array == bytes)
        #expect(value == bytes.withUnsafeBytes { StunBytes($0) })
        #expect(value.hashValue == StunBytes(bytes).hashValue)
        if count > 0 {
            var other = bytes
            other[count - 1] ^= 0xFF
            #expect(value != StunBytes(other))
            #expect(value != StunBytes(bytes.dropLast()))
        }
    }

    /// The id's bytes read from its words equal the array, for both header kinds.
    @Test func transactionIdBytesWithoutAnArray() {
        for id in [StunTransactionID(high: 0x2112_A442_0102_0304, low: 0x0506_0708_090A_0B0C, isClassic: false),
                   StunTransactionID(high: 0xF1E2_D3C4_B5A6_9788, low: 0x7968_5A4B_3C2D_1E0F, isClassic: true)] {
            #expect(Array(id.idBytes) == id.bytes)
        }
    }
}
