import Foundation
import Renderers
import Testing

/// `JSONObjectStream` writes an object member by member and element by element:
/// the same bytes as JSONEncoder for the whole object.
@Suite("JSONObjectStream")
struct JSONObjectStreamTests {
    struct Session: Encodable { var id: Int; var peers: [String]; var rtt: Double? }
    struct Document: Encodable {
        var alpha: [Session]
        var beta = "b/c"
        var empty: [Session] = []
        var zeta: [String: Int] = ["y": 1, "x": 2]
    }

    static func pretty(_ slashes: Bool) -> ByteJSONEncoder.Options { .init(pretty: true, escapesSlashes: slashes) }

    @Test("members and streamed arrays equal JSONEncoder's document", arguments: [true, false])
    func matchesFoundation(_ slashes: Bool) throws {
        let doc = Document(alpha: [Session(id: 1, peers: [], rtt: 0.25), Session(id: 2, peers: ["10.0.0.1:5/x"], rtt: nil)])
        let out = ByteCollector()
        let stream = JSONObjectStream(encoder: ByteJSONEncoder(options: Self.pretty(slashes)), to: out)
        try stream.beginArray("alpha")
        for s in doc.alpha { try stream.element(s) }
        try stream.endArray()
        try stream.member("beta", doc.beta)
        try stream.beginArray("empty")
        try stream.endArray()
        try stream.member("zeta", doc.zeta)
        try stream.finish()
        #expect(out.bytes == Array(try FoundationJSONOracle.encoder(Self.pretty(slashes)).encode(doc)))
    }

    @Test("an object with no members is JSONEncoder's empty object")
    func empty() throws {
        let out = ByteCollector()
        try JSONObjectStream(encoder: ByteJSONEncoder(options: Self.pretty(false)), to: out).finish()
        #expect(out.bytes == Array(try FoundationJSONOracle.encoder(Self.pretty(false)).encode([String: Int]())))
    }

    @Test("keys out of order and elements outside an array throw")
    func misuse() throws {
        let stream = JSONObjectStream(encoder: ByteJSONEncoder(options: Self.pretty(false)), to: ByteCollector())
        try stream.member("b", 1)
        #expect(throws: JSONObjectStreamError.keyOutOfOrder(previous: "b", key: "a")) { try stream.member("a", 1) }
        #expect(throws: JSONObjectStreamError.keyOutOfOrder(previous: "b", key: "b")) { try stream.member("b", 1) }
        #expect(throws: JSONObjectStreamError.noOpenArray) { try stream.element(1) }
        try stream.beginArray("c")
        #expect(throws: JSONObjectStreamError.arrayStillOpen) { try stream.member("d", 1) }
        #expect(throws: JSONObjectStreamError.arrayStillOpen) { try stream.finish() }
    }
}
