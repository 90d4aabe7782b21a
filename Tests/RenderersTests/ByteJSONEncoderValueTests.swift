import Foundation
@testable import Renderers
import Testing
import TestSupport

/// Values chosen to break a JSON writer (escapes, number formats, empty and
/// nested containers, every container operation), each compared with
/// Foundation's JSONEncoder byte for byte under every option set.
@Suite("ByteJSONEncoder against JSONEncoder on adversarial values")
struct ByteJSONEncoderValueTests {
    /// Ours and Foundation's agree (same bytes, or both throw at the same coding path).
    static func expectSame<T: Encodable>(_ value: T, _ label: String = "",
                                         options: [ByteJSONEncoder.Options] = FoundationJSONOracle.optionSets,
                                         sourceLocation: SourceLocation = #_sourceLocation) {
        for o in options {
            let ours = FoundationJSONOracle.ours(value, o)
            let foundation = FoundationJSONOracle.foundation(value, o)
            #expect(ours == foundation, "\(label) pretty=\(o.pretty) slashes=\(o.escapesSlashes): \(FoundationJSONOracle.firstDifference(ours, foundation))",
                    sourceLocation: sourceLocation)
        }
    }

    static let throwingOptions = [true, false].map { ByteJSONEncoder.Options(pretty: $0, escapesSlashes: true, nonFiniteNumbers: .throw) }

    static let strings: [String] = {
        var s = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        s.append(String((0..<0x20).map { Character(UnicodeScalar(UInt8($0))) }))
        s += ["", "plain", "\"quoted\"", "back\\slash", "a/b//c", "</script>", "\u{7F}del", "tab\there",
              "👍🏽", "👨‍👩‍👧‍👦", "é", "e\u{301}", "\u{FFFD}", "\u{FEFF}bom", "\u{10FFFF}", "\u{D7FF}\u{E000}",
              "\u{0085}nel", "\u{0080}\u{009F}\u{00A0}", "line\u{2028}sep\u{2029}para", "\u{2027}\u{202A}",
              String(decoding: [0xFF, 0xFE, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0x41], as: UTF8.self),
              String(repeating: "x", count: 100) + "\u{1}" + String(repeating: "y", count: 100) + "\\",
              "\\u0000", "\u{1B}[31mred\u{1B}[0m", "mixed \" \\ / \n \u{1} é 👍"]
        return s
    }()

    static let doubles: [Double] = [
        0, -0.0, 1, -1, 0.1, 0.5, 1.5, -2.25, 1e-7, 1e-5, 1e-4, 0.001, 100, 1e15 - 1, 1e15, -1e15, 1e15 + 0.5,
        1e16, 1e21, 1e22, Double("123456789012345680000")!, 9007199254740992, 9007199254740994, 4503599627370496.5,
        1700000000.123456, 1765432100.999999, .pi, 1.0 / 3, 2.0 / 3, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne, 2.5e-308,
        Double(Int64.max), Double(Int64.min), 0.30000000000000004,
    ]

    @Test("strings: every control character, quotes, backslashes, slashes, non-ASCII, repaired UTF-8")
    func strings() {
        for s in Self.strings { Self.expectSame(s, s.debugDescription) }
        Self.expectSame(Self.strings, "as an array")
        Self.expectSame(["key": Self.strings], "in an object")
    }

    @Test("strings as object keys: escaped like values, sorted by UTF-8 bytes")
    func keys() {
        var dict: [String: Int] = [:]
        for (i, s) in Self.strings.enumerated() { dict[s] = i }
        for k in ["B", "a", "_", "Z", "z", "10", "9", "1", "abcdefgh", "abcdefghX", "abcdefgH", "abcdefg", "abc",
                  "é", "f", "\u{1}", "ÿ", "relayed", "relayTraffic", "rtt", "retransmissions", "retransmissionSpacing"] {
            dict[k, default: 0] += 1000
        }
        Self.expectSame(dict)
        Self.expectSame([dict, [:], ["only": 1]])
    }

    @Test("doubles: shortest round trip, no trailing .0, exponents as Swift writes them")
    func doubles() {
        for d in Self.doubles {
            Self.expectSame(d, "\(d)")
            Self.expectSame(-d, "\(-d)")
        }
        Self.expectSame(Self.doubles, "as an array")
        Self.expectSame(["v": Self.doubles], "in an object")
    }

    @Test("doubles: 100,000 random bit patterns and integral values")
    func randomDoubles() {
        var rng = SplitMix64(seed: 15)
        var values: [Double] = []
        for _ in 0..<50_000 {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { values.append(d) }
            // Integral values of every magnitude, around the integer fast path's 1e15 bound.
            let magnitude = Double(rng.next() % 20)
            values.append((rng.nextUnit() * pow(10, magnitude)).rounded() * (rng.next() & 1 == 0 ? 1 : -1))
        }
        let o = ByteJSONEncoder.Options(pretty: false)
        #expect(FoundationJSONOracle.ours(values, o) == FoundationJSONOracle.foundation(values, o))
        struct Holder: Encodable { var v: [Double] }
        // Through keyed members and single values too (JSONEncoder's direct array path skips those).
        let holders = values.prefix(5_000).map { Holder(v: [$0]) }
        #expect(FoundationJSONOracle.ours(holders, o) == FoundationJSONOracle.foundation(holders, o))
    }

    @Test("floats and every integer width at their limits")
    func otherNumbers() {
        struct Numbers: Encodable {
            var floats: [Float] = [0, -0.0, 0.1, 1e7, 1e8, 16777216, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3.4e-38]
            var float: Float = 0.1
            var int8 = Int8.min, int16 = Int16.min, int32 = Int32.min, int64 = Int64.min, int = Int.max
            var uint8 = UInt8.max, uint16 = UInt16.max, uint32 = UInt32.max, uint64 = UInt64.max, uint = UInt.max
            var int128 = Int128.min, uint128 = UInt128.max, smallInt128: Int128 = -5
            var zero = 0, bools = [true, false]
        }
        Self.expectSame(Numbers())
        Self.expectSame(Int128.min)
        Self.expectSame(UInt64.max)
    }

    @Test("NaN and infinities: strings when asked, else both throw at the same coding path")
    func nonFinite() {
        struct Point: Encodable { var x: Double; var y: Float; var list: [Double]; var nested: [String: Double] }
        for bad in [Double.nan, .infinity, -.infinity] {
            let values = [Point(x: bad, y: 0, list: [], nested: [:]), Point(x: 0, y: Float(bad), list: [], nested: [:]),
                          Point(x: 0, y: 0, list: [1, bad], nested: [:]), Point(x: 0, y: 0, list: [], nested: ["k": bad])]
            for v in values {
                Self.expectSame(v, "\(bad)")
                Self.expectSame(v, "\(bad) throwing", options: Self.throwingOptions)
                #expect(FoundationJSONOracle.ours(v, Self.throwingOptions[0]) != FoundationJSONOracle.ours(v, FoundationJSONOracle.optionSets[0]))
            }
            Self.expectSame(bad, "top-level \(bad)", options: Self.throwingOptions)
        }
    }

    @Test("empty and nested arrays and objects")
    func containers() {
        struct Empty: Encodable {}
        Self.expectSame([Int]())
        Self.expectSame([String: Int]())
        Self.expectSame(Empty())
        Self.expectSame([[Int]]())
        Self.expectSame([[Int](), [], [1], [2, 3]])
        Self.expectSame([[[String]]]([[[]], [["a"]], []]))
        Self.expectSame(["a": [String: [Int]](), "b": ["c": []], "d": ["e": [1, 2]]])
        Self.expectSame([Empty(), Empty()])
        Self.expectSame(["e": Empty()])
        Self.expectSame([1: "one", 10: "ten", 2: "two", -1: "minus"] as [Int: String])
        Self.expectSame([true: 1, false: 0] as [Bool: Int])
    }

    @Test("optionals: encodeIfPresent omits nil, a generic Optional encodes null")
    func optionals() {
        struct Synthesized: Encodable {
            var present: Int? = 3
            var absent: String?
            var absentDouble: Double?
            var nestedPresent: [Int?]? = [1, nil, 3]
            var structPresent: Synthesized2? = Synthesized2()
        }
        struct Synthesized2: Encodable { var x: Bool? = false; var y: Int? }
        struct Explicit: Encodable {
            enum K: CodingKey { case a, b }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                try c.encode(Int?.none, forKey: .a)
                try c.encode(String?.some("x"), forKey: .b)
            }
        }
        Self.expectSame(Synthesized())
        Self.expectSame(Explicit())
        Self.expectSame(Int?.none)
        Self.expectSame([Int?.none, 1])
    }

    @Test("types JSONEncoder writes its own way: Date, Data, URL, Decimal")
    func foundationTypes() {
        struct Mixed: Encodable {
            var date = Date(timeIntervalSinceReferenceDate: 123.456)
            var data = Data([0, 1, 2, 0xFE, 0xFF])
            var emptyData = Data()
            var url = URL(string: "https://example.org/a/b?q=1&r=%20#frag")!
            var decimal = Decimal(string: "3.14159265358979323846")!
            var negativeDecimal = Decimal(string: "-0.000001")!
            var dates = [Date(timeIntervalSince1970: 0)]
            var optionalData: Data? = Data([9])
        }
        Self.expectSame(Mixed())
        Self.expectSame(Data([1, 2, 3]))
        Self.expectSame(Decimal(12345))
    }

    @Test("enums: raw values, associated values (nested keyed containers)")
    func enums() {
        enum Raw: String, Encodable { case one, two = "deux/2" }
        enum Shape: Encodable { case circle(radius: Double), square(Int), none, labelled(_ a: String, b: [Int]) }
        Self.expectSame([Raw.one, .two])
        Self.expectSame([Shape.circle(radius: 1.5), .square(2), .none, .labelled("x", b: [])])
    }

    /// Every container operation, including the ones no synthesized conformance uses.
    struct ContainerTour: Encodable {
        enum Keys: String, CodingKey { case zebra, alpha, nested, list, again, upper = "Upper", parent, nothing, merged }
        enum OtherKeys: CodingKey { case fromSecondContainer }
        struct Nothing: Encodable { func encode(to encoder: Encoder) throws {} }
        class Base: Encodable {
            enum K: CodingKey { case base }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                try c.encode("base/value", forKey: .base)
            }
        }
        final class Derived: Base {
            enum D: CodingKey { case derived }
            override func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: D.self)
                try c.encode(2, forKey: .derived)
                try super.encode(to: c.superEncoder())
            }
        }
        struct Wrapper: Encodable {
            func encode(to encoder: Encoder) throws {
                var s = encoder.singleValueContainer()
                try s.encode(["wrapped": [1.5]])
            }
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(1, forKey: .zebra)
            try c.encode("first", forKey: .again)
            var n = c.nestedContainer(keyedBy: Keys.self, forKey: .nested)
            try n.encode(true, forKey: .alpha)
            try n.encodeNil(forKey: .zebra)
            var list = n.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1.5)
            try list.encodeNil()
            var element = list.nestedContainer(keyedBy: Keys.self)
            try element.encode(Int8.min, forKey: .alpha)
            _ = list.nestedUnkeyedContainer()
            try list.encode(["x": 1])
            try Base().encode(to: list.superEncoder())
            try list.encode(Wrapper())
            try list.encode(Nothing())
            try c.encode("second", forKey: .again)
            try Derived().encode(to: c.superEncoder(forKey: .parent))
            try c.encode(Nothing(), forKey: .nothing)
            try c.encode(Wrapper(), forKey: .merged)
            var second = encoder.container(keyedBy: OtherKeys.self)
            try second.encode(UInt64.max, forKey: .fromSecondContainer)
            try c.encode("after", forKey: .upper)
        }
    }

    @Test("every container operation: nested, super encoders, merged containers, a key encoded twice")
    func containerTour() {
        Self.expectSame(ContainerTour())
        Self.expectSame([ContainerTour(), ContainerTour()])
        Self.expectSame(["tour": ContainerTour()])
        Self.expectSame(ContainerTour.Derived())
        Self.expectSame(ContainerTour.Wrapper())
    }

    @Test("a value that encodes nothing: {} when nested, an error at the top")
    func encodesNothing() {
        Self.expectSame(ContainerTour.Nothing())
        Self.expectSame([ContainerTour.Nothing()])
    }

    /// Arrays nested `depth` deep.
    struct Nest: Encodable {
        var depth: Int
        func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            if depth > 1 { try c.encode(Nest(depth: depth - 1)) }
        }
    }

    @Test("containers nested to JSONEncoder's depth limit and past it")
    func depthLimit() {
        for depth in [509, 510, 511, 512, 513] {
            Self.expectSame(Nest(depth: depth), "depth \(depth)", options: [ByteJSONEncoder.Options(pretty: false)])
        }
        // The limit is reached within the depths compared.
        #expect(FoundationJSONOracle.foundation(Nest(depth: 513), ByteJSONEncoder.Options(pretty: false)) == .failure(path: []))
        #expect(FoundationJSONOracle.foundation(Nest(depth: 509), ByteJSONEncoder.Options(pretty: false)) != .failure(path: []))
    }

    @Test("escapesUnicodeLineBreaks: JSONEncoder's bytes with C1 controls and U+2028/U+2029 as \\uXXXX")
    func unicodeLineBreaks() throws {
        let o = ByteJSONEncoder.Options(pretty: false, escapesSlashes: false, escapesUnicodeLineBreaks: true)
        var keyed: [String: String] = [:]
        for s in Self.strings { keyed[s] = s }
        for value in Self.strings.map({ [$0] }) + [Array(keyed.keys)] {
            let expected = FoundationJSONOracle.escapingUnicodeLineBreaks(Array(try FoundationJSONOracle.encoder(o).encode(value)))
            #expect(try ByteJSONEncoder(options: o).encode(value) == expected, "\(value)")
        }
        let expected = FoundationJSONOracle.escapingUnicodeLineBreaks(Array(try FoundationJSONOracle.encoder(o).encode(keyed)))
        #expect(try ByteJSONEncoder(options: o).encode(keyed) == expected)
        #expect(try ByteJSONEncoder(options: o).encode("\u{85}\u{2028}") == Array(#""\u0085\u2028""#.utf8))
    }

    @Test("one encoder reused: each value's bytes independent of the one before, also after an error")
    func reuse() throws {
        let encoder = ByteJSONEncoder(options: .init(pretty: true))
        let first = try encoder.encode(ContainerTour())
        #expect(throws: EncodingError.self) { try encoder.encode(Double.nan) }
        #expect(throws: EncodingError.self) { try encoder.encode(ContainerTour.Nothing()) }
        #expect(try encoder.encode(ContainerTour()) == first)
        var buffer = Array("prefix ".utf8)
        try encoder.encode([1, 2], depth: 0, into: &buffer)
        #expect(buffer == Array("prefix [\n  1,\n  2\n]".utf8))
        #expect(throws: EncodingError.self) { try encoder.encode(["bad": Double.infinity], depth: 0, into: &buffer) }
        #expect(buffer == Array("prefix [\n  1,\n  2\n]".utf8))
    }

    @Test("encode(depth:) indents as the value sits that deep in a larger document")
    func depth() throws {
        struct Inner: Encodable { var b = [1]; var a: [String: Int] = [:] }
        struct Outer: Encodable { var items = [[Inner()]] }
        let whole = String(decoding: try ByteJSONEncoder(options: .init(pretty: true)).encode(Outer()), as: UTF8.self)
        var part: [UInt8] = []
        try ByteJSONEncoder(options: .init(pretty: true)).encode(Inner(), depth: 3, into: &part)
        #expect(whole.contains("      " + String(decoding: part, as: UTF8.self) + "\n    ]"))
    }

    /// Uses a nested container again after its parent went on to another key: a
    /// streaming writer cannot go back, so it must refuse instead of writing wrong bytes.
    struct StaleContainer: Encodable {
        enum K: CodingKey { case a, b }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            var nested = c.nestedContainer(keyedBy: K.self, forKey: .a)
            try nested.encode(1, forKey: .a)
            try c.encode(2, forKey: .b)
            try nested.encode(3, forKey: .b)
        }
    }

    /// A nested container under a key that already has a value (JSONEncoder merges them).
    struct ReopenedKey: Encodable {
        enum K: CodingKey { case a }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            try c.encode(["x": 1], forKey: .a)
            var nested = c.nestedContainer(keyedBy: K.self, forKey: .a)
            try nested.encode(2, forKey: .a)
        }
    }

    @Test("what a streaming writer cannot do throws instead of writing something else")
    func unsupportedUsesThrow() {
        let encoder = ByteJSONEncoder(options: .init(pretty: false))
        #expect(throws: EncodingError.self) { try encoder.encode(StaleContainer()) }
        #expect(throws: EncodingError.self) { try encoder.encode(ReopenedKey()) }
    }
}
