import NetworkVocabulary

/// A short list kept in the value: the first two elements inline, only a third
/// and later one in an array. What the hot path collects per message or per
/// transaction is usually one or two things (a Send indication's one
/// XOR-PEER-ADDRESS, a dual allocation's two relayed addresses, a check's
/// first retransmission), and an array would be one heap allocation each.
public struct InlineList<Element>: RandomAccessCollection, ExpressibleByArrayLiteral {
    private var first0: Element?
    private var first1: Element?
    private var rest: [Element] = []
    public private(set) var count = 0

    public init() {}

    public init(arrayLiteral elements: Element...) {
        for e in elements { append(e) }
    }

    public mutating func append(_ e: Element) {
        switch count {
        case 0: first0 = e
        case 1: first1 = e
        default: rest.append(e)
        }
        count &+= 1
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "InlineList index out of range")
        switch position {
        case 0: return first0!
        case 1: return first1!
        default: return rest[position &- 2]
        }
    }
}

extension InlineList: Equatable where Element: Equatable {
    public static func == (a: InlineList, b: InlineList) -> Bool { a.elementsEqual(b) }
}

extension InlineList: Sendable where Element: Sendable {}

/// The addresses of one repeated attribute of a message (XOR-PEER-ADDRESS,
/// XOR-RELAYED-ADDRESS), in wire order.
public typealias EndpointList = InlineList<Endpoint>
