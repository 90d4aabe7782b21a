/// Writes one pretty-printed JSON object to a `ByteOutput` member by member,
/// and an array member element by element, each as soon as it is given: the
/// same bytes as `ByteJSONEncoder` (and so JSONEncoder with sorted keys) writes
/// for the whole object, without holding it.
///
/// Members must come in sorted key order (UTF-8 byte order, as JSONEncoder sorts
/// them); one out of order throws.
public final class JSONObjectStream {
    private let encoder: ByteJSONEncoder
    private let out: ByteOutput
    private var buffer: [UInt8] = []
    private var lastKey: String?
    /// Elements written to the array member now open, if one is.
    private var openArrayCount: Int?
    private var finished = false

    /// Writes `{`. The encoder must be pretty-printing.
    public init(encoder: ByteJSONEncoder, to out: ByteOutput) {
        precondition(encoder.options.pretty, "JSONObjectStream writes pretty-printed JSON")
        self.encoder = encoder
        self.out = out
        out.write(bytes: [UInt8(ascii: "{")])
    }

    /// A member with its whole value.
    public func member<T: Encodable>(_ key: String, _ value: T) throws {
        try beginMember(key)
        try encoder.encode(value, depth: 1, into: &buffer)
        flush()
    }

    /// Opens an array member: `element` adds to it, `endArray` closes it.
    public func beginArray(_ key: String) throws {
        try beginMember(key)
        buffer.append(UInt8(ascii: "["))
        flush()
        openArrayCount = 0
    }

    public func element<T: Encodable>(_ value: T) throws {
        guard let count = openArrayCount else { throw JSONObjectStreamError.noOpenArray }
        buffer.append(contentsOf: count == 0 ? Self.firstElement : Self.nextElement)
        try encoder.encode(value, depth: 2, into: &buffer)
        openArrayCount = count + 1
        flush()
    }

    public func endArray() throws {
        guard let count = openArrayCount else { throw JSONObjectStreamError.noOpenArray }
        // JSONEncoder's empty array keeps its blank line: `[\n\n  ]`.
        buffer.append(contentsOf: Array((count == 0 ? "\n\n  ]" : "\n  ]").utf8))
        openArrayCount = nil
        flush()
    }

    /// Writes `}` (the caller adds any final newline).
    public func finish() throws {
        guard openArrayCount == nil else { throw JSONObjectStreamError.arrayStillOpen }
        guard !finished else { return }
        finished = true
        buffer.append(contentsOf: Array((lastKey == nil ? "\n\n}" : "\n}").utf8))
        flush()
    }

    private func beginMember(_ key: String) throws {
        guard !finished else { throw JSONObjectStreamError.finished }
        guard openArrayCount == nil else { throw JSONObjectStreamError.arrayStillOpen }
        if let last = lastKey, !last.utf8.lexicographicallyPrecedes(key.utf8) {
            throw JSONObjectStreamError.keyOutOfOrder(previous: last, key: key)
        }
        buffer.append(contentsOf: Array((lastKey == nil ? "\n  " : ",\n  ").utf8))
        lastKey = key
        JSONScalarText.appendString(key, escaping: encoder.state.escaping, to: &buffer)
        buffer.append(contentsOf: Array(" : ".utf8))
    }

    private static let firstElement = Array("\n    ".utf8)
    private static let nextElement = Array(",\n    ".utf8)

    private func flush() {
        out.write(bytes: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

public enum JSONObjectStreamError: Error, Equatable {
    /// Sorted keys: each member's key must follow the previous one.
    case keyOutOfOrder(previous: String, key: String)
    case noOpenArray
    case arrayStillOpen
    case finished
}
