import NetworkVocabulary
import Testing
@testable import Reconstruction

@Suite("InlineList")
struct InlineListTests {
    /// Two addresses inline, more in the array: every count reads back in wire order.
    @Test(arguments: [0, 1, 2, 3, 7])
    func appendsReadBackInOrder(count: Int) {
        let endpoints = (0..<count).map { Endpoint(.v4(0xC633_6400 &+ UInt32($0)), UInt16(40000 &+ $0)) }
        var list = EndpointList()
        for e in endpoints { list.append(e) }
        #expect(list.count == count)
        #expect(Array(list) == endpoints)
        #expect(list.first == endpoints.first)
        #expect(list.isEmpty == endpoints.isEmpty)
        var literal: EndpointList = []
        for e in endpoints { literal.append(e) }
        #expect(list == literal)
        if count > 0 {
            var shorter = EndpointList()
            for e in endpoints.dropLast() { shorter.append(e) }
            #expect(list != shorter)
        }
    }
}
