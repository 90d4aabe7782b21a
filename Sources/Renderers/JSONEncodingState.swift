import Foundation

/// Where a container or encoder writes: a frame on the stack, and the serial
/// number it was pushed with (a frame popped and replaced by another at the same
/// depth has a new serial, so a container kept past its value's end is caught).
struct JSONSlot {
    var index: Int
    var serial: UInt64

    /// Never valid: what a container gets when it could not be opened.
    static let invalid = JSONSlot(index: 0, serial: 0)
}

/// The stack of values being encoded by a `ByteJSONEncoder`, and the bytes
/// written so far.
///
/// Each frame is one value in progress, from its first byte in `bytes` to the
/// end of the buffer. An array writes its elements in place. An object's
/// member values are written in place in the order they are encoded, and
/// recorded in `members`; when the object ends, they are written out again in
/// sorted key order behind their keys. A frame ends when its value's
/// `encode(to:)` returns, or when a container further down the stack is used
/// again (a nested container or super encoder has no end of its own).
final class JSONEncodingState {
    struct Frame {
        enum Kind { case empty, single, object, array }
        var kind = Kind.empty
        var start: Int
        var firstMember: Int
        var elements = 0
        let serial: UInt64
        /// The key it is written under when the frame below is an object.
        let name: String?
        /// Its position when the frame below is an array (else -1).
        let index: Int
    }

    struct Member {
        var name: String
        var sortKey: SortKey
        var start: Int
        var end: Int

        init(name: String, start: Int, end: Int) {
            self.name = name
            sortKey = SortKey(name)
            self.start = start
            self.end = end
        }
    }

    /// A name's first 16 UTF-8 bytes (big-endian, zero-padded) and its length: nearly
    /// every comparison of two keys ends with these integers.
    struct SortKey {
        var high: UInt64
        var low: UInt64
        var length: Int

        init(_ name: String) {
            var copy = name
            (high, low, length) = copy.withUTF8 { utf8 in
                var high: UInt64 = 0
                var low: UInt64 = 0
                for i in 0..<min(utf8.count, 8) { high |= UInt64(utf8[i]) << (56 &- 8 &* UInt64(i)) }
                if utf8.count > 8 {
                    for i in 8..<min(utf8.count, 16) { low |= UInt64(utf8[i]) << (120 &- 8 &* UInt64(i)) }
                }
                return (high, low, utf8.count)
            }
        }
    }

    let options: ByteJSONEncoder.Options
    let escaping: JSONScalarText.Escaping
    // The runtime's exclusivity checks on these (a thread-local access set updated around
    // every append) were about half of the encoder's instructions: release builds skip
    // them (Package.swift), debug builds and tests keep them.
    var bytes: [UInt8] = []
    private var frames: [Frame] = []
    private var members: [Member] = []
    /// An object's member values while they are written back in key order.
    private var scratch: [UInt8] = []
    private var order: [Int] = []
    private var nextSerial: UInt64 = 1
    /// The depth the root value is written at (an element of a streamed array is at 2).
    private var baseDepth = 0
    /// Misuse found where the Encoder API cannot throw (opening a container),
    /// thrown at the next chance.
    private var failure: EncodingError?

    /// JSONEncoder refuses containers nested this deep (its JSONWriter's limit).
    static let maximumDepth = 512
    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

    init(options: ByteJSONEncoder.Options) {
        self.options = options
        escaping = JSONScalarText.Escaping(slashes: options.escapesSlashes, unicodeLineBreaks: options.escapesUnicodeLineBreaks)
    }

    // MARK: - Whole values

    func encodeRoot<T: Encodable>(_ value: T, depth: Int) throws {
        let start = bytes.count
        frames.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        failure = nil
        baseDepth = depth
        do {
            let root = push(name: nil, index: -1)
            try encodeValue(value, in: root)
            if let failure { throw failure }
            if frames[0].kind == .empty {
                throw EncodingError.invalidValue(value, EncodingError.Context(
                    codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
            }
            close(through: 0)
            if let failure { throw failure }
        } catch {
            bytes.removeSubrange(start...)
            frames.removeAll(keepingCapacity: true)
            members.removeAll(keepingCapacity: true)
            throw error
        }
    }

    /// The value into an empty slot: the types JSONEncoder writes its own way, else
    /// the value's `encode(to:)`. The slot stays open.
    func encodeValue<T: Encodable>(_ value: T, in slot: JSONSlot) throws {
        if T.self == Data.self {
            try beginSingle(slot)
            JSONScalarText.appendString((value as! Data).base64EncodedString(), escaping: escaping, to: &bytes)
        } else if T.self == URL.self {
            try beginSingle(slot)
            JSONScalarText.appendString((value as! URL).absoluteString, escaping: escaping, to: &bytes)
        } else if T.self == Decimal.self {
            try beginSingle(slot)
            var text = (value as! Decimal).description
            text.withUTF8 { bytes.append(contentsOf: $0) }
        } else {
            try value.encode(to: JSONSlotEncoder(state: self, slot: slot))
        }
    }

    /// An object member encoded by its own `encode(to:)`.
    func encodeMember<T: Encodable>(_ value: T, key: some CodingKey, in object: JSONSlot) throws {
        try settle(object)
        let child = push(name: key.stringValue, index: -1)
        try encodeValue(value, in: child)
        close(through: child.index)
    }

    /// An array element encoded by its own `encode(to:)`.
    func encodeElement<T: Encodable>(_ value: T, in array: JSONSlot) throws {
        let index = try beginElement(array)
        let child = push(name: nil, index: index)
        try encodeValue(value, in: child)
        close(through: child.index)
    }

    // MARK: - Scalars (the caller has begun a member, an element or a single value)

    func writeInteger(_ value: some FixedWidthInteger) { JSONScalarText.appendInteger(value, to: &bytes) }

    func writeString(_ value: String) { JSONScalarText.appendString(value, escaping: escaping, to: &bytes) }

    func writeBool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e")])
        }
    }

    func writeNull() {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    /// `path`: the value's coding path, for the error a NaN or infinity may throw.
    func writeDouble(_ value: Double, path: () -> [any CodingKey]) throws {
        if value.isFinite {
            JSONScalarText.appendFinite(value, to: &bytes)
        } else {
            try writeNonFinite(value, isPositive: value > 0, path: path)
        }
    }

    func writeFloat(_ value: Float, path: () -> [any CodingKey]) throws {
        if value.isFinite {
            JSONScalarText.appendFinite(value, to: &bytes)
        } else {
            try writeNonFinite(value, isPositive: value > 0, path: path)
        }
    }

    private func writeNonFinite(_ value: some BinaryFloatingPoint, isPositive: Bool, path: () -> [any CodingKey]) throws {
        guard case let .strings(positiveInfinity, negativeInfinity, nan) = options.nonFiniteNumbers else {
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: path(), debugDescription: "Unable to encode \(type(of: value)).\(value) directly in JSON."))
        }
        writeString(value.isNaN ? nan : isPositive ? positiveInfinity : negativeInfinity)
    }

    // MARK: - Where the next value goes

    /// Ends the frames above the slot's; throws if the slot's value has already ended.
    func settle(_ slot: JSONSlot) throws {
        guard slot.index < frames.count, frames[slot.index].serial == slot.serial else {
            throw failure ?? EncodingError.invalidValue(slot.index, EncodingError.Context(
                codingPath: [], debugDescription: "A container was used after the value it belongs to was complete."))
        }
        close(through: slot.index + 1)
    }

    /// The start of a member value in the slot's object.
    func beginMember(_ object: JSONSlot) throws -> Int {
        try settle(object)
        return bytes.count
    }

    func endMember(_ key: some CodingKey, start: Int) {
        let name = key.stringValue
        members.append(Member(name: name, start: start, end: bytes.count))
    }

    /// The separator and indentation before the next element of the slot's array; its index.
    func beginElement(_ array: JSONSlot) throws -> Int {
        try settle(array)
        let index = frames[array.index].elements
        frames[array.index].elements = index + 1
        if options.pretty {
            if index == 0 { bytes.append(UInt8(ascii: "\n")) } else { bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\n")]) }
            indent(baseDepth + array.index + 1)
        } else if index > 0 {
            bytes.append(UInt8(ascii: ","))
        }
        return index
    }

    func elementCount(_ array: JSONSlot) -> Int {
        guard array.index < frames.count, frames[array.index].serial == array.serial else { return 0 }
        return frames[array.index].elements
    }

    /// The slot's value is one scalar, written next.
    func beginSingle(_ slot: JSONSlot) throws {
        try settle(slot)
        guard frames[slot.index].kind == .empty else {
            throw EncodingError.invalidValue(slot.index, EncodingError.Context(
                codingPath: codingPath(slot), debugDescription: "A single value was encoded where a value was already encoded."))
        }
        frames[slot.index].kind = .single
    }

    /// A single-value container's `encode<T>`: the slot must still be empty.
    func requireEmpty(_ slot: JSONSlot) throws {
        try settle(slot)
        guard frames[slot.index].kind == .empty else {
            throw EncodingError.invalidValue(slot.index, EncodingError.Context(
                codingPath: codingPath(slot), debugDescription: "A single value was encoded where a value was already encoded."))
        }
    }

    // MARK: - Containers

    /// The slot's value becomes an object (or stays one: a second keyed container on
    /// the same encoder adds to it, as in JSONEncoder). False when that is misuse.
    @discardableResult
    func openObject(_ slot: JSONSlot) -> Bool {
        guard open(slot) else { return false }
        switch frames[slot.index].kind {
        case .empty:
            frames[slot.index].kind = .object
            frames[slot.index].start = bytes.count
            frames[slot.index].firstMember = members.count
            return true
        case .object:
            return true
        case .single, .array:
            fail("A keyed container was requested where another value was already encoded.", slot)
            return false
        }
    }

    /// The slot's value becomes an array (or stays one).
    @discardableResult
    func openArray(_ slot: JSONSlot) -> Bool {
        guard open(slot) else { return false }
        switch frames[slot.index].kind {
        case .empty:
            frames[slot.index].kind = .array
            frames[slot.index].start = bytes.count
            bytes.append(UInt8(ascii: "["))
            return true
        case .array:
            return true
        case .single, .object:
            fail("An unkeyed container was requested where another value was already encoded.", slot)
            return false
        }
    }

    private func open(_ slot: JSONSlot) -> Bool {
        guard slot.index < frames.count, frames[slot.index].serial == slot.serial else {
            fail("A container was requested from an encoder whose value was complete.", nil)
            return false
        }
        close(through: slot.index + 1)
        guard baseDepth + slot.index + 1 < Self.maximumDepth else {
            // JSONEncoder reports this for the whole value (an empty coding path).
            fail("Too many nested arrays or dictionaries.", nil)
            return false
        }
        return true
    }

    /// A slot for a nested container or super encoder under an object's key: the
    /// key must be new (JSONEncoder would merge into the earlier value; not supported).
    func pushMember(key: some CodingKey, in object: JSONSlot) -> JSONSlot {
        guard (try? settle(object)) != nil else {
            fail("A container was used after the value it belongs to was complete.", nil)
            return .invalid
        }
        let name = key.stringValue
        if members[frames[object.index].firstMember...].contains(where: { $0.name == name }) {
            fail("A nested container or super encoder for key \"\(name)\", which already has a value, is not supported.", object)
            return .invalid
        }
        return push(name: name, index: -1)
    }

    /// A slot for a nested container or super encoder as the array's next element.
    func pushElement(in array: JSONSlot) -> JSONSlot {
        guard let index = try? beginElement(array) else {
            fail("A container was used after the value it belongs to was complete.", nil)
            return .invalid
        }
        return push(name: nil, index: index)
    }

    /// The keys' string and integer values (the keys themselves are not kept).
    func codingPath(_ slot: JSONSlot) -> [any CodingKey] {
        guard slot.index < frames.count, slot.index > 0 else { return [] }
        return frames[1...slot.index].map { frame -> any CodingKey in
            if let name = frame.name { return JSONNameKey(name) }
            return JSONIndexKey(frame.index)
        }
    }

    func fail(_ message: String, _ slot: JSONSlot?) {
        guard failure == nil else { return }
        failure = EncodingError.invalidValue(message, EncodingError.Context(
            codingPath: slot.map(codingPath) ?? [], debugDescription: message))
    }

    // MARK: - Frames

    private func push(name: String?, index: Int) -> JSONSlot {
        let serial = nextSerial
        nextSerial &+= 1
        frames.append(Frame(start: bytes.count, firstMember: members.count, serial: serial, name: name, index: index))
        return JSONSlot(index: frames.count - 1, serial: serial)
    }

    /// Ends every frame from the top of the stack down to `index` (inclusive).
    private func close(through index: Int) {
        while frames.count > index { closeTop() }
    }

    private func closeTop() {
        let frame = frames.removeLast()
        let depth = baseDepth + frames.count
        switch frame.kind {
        case .empty:
            // A value that encoded nothing: JSONEncoder writes an empty object.
            bytes.append(UInt8(ascii: "{"))
            if options.pretty {
                bytes.append(contentsOf: [UInt8(ascii: "\n"), UInt8(ascii: "\n")])
                indent(depth)
            }
            bytes.append(UInt8(ascii: "}"))
        case .single:
            break
        case .array:
            if options.pretty {
                bytes.append(UInt8(ascii: "\n"))
                if frame.elements == 0 { bytes.append(UInt8(ascii: "\n")) }
                indent(depth)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object:
            writeObject(frame, depth: depth)
        }
        if let name = frame.name, let parent = frames.last, parent.kind == .object {
            members.append(Member(name: name, start: frame.start, end: bytes.count))
        }
    }

    /// Replaces the object's member values, written in encoding order from
    /// `frame.start`, with the object: members in key order, the last value of a
    /// key encoded twice.
    private func writeObject(_ frame: Frame, depth: Int) {
        let base = frame.start
        order.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[base...])
        bytes.removeLast(bytes.count - base)
        bytes.append(UInt8(ascii: "{"))
        if options.pretty { bytes.append(UInt8(ascii: "\n")) }
        members.withUnsafeBufferPointer { members in
            for m in frame.firstMember..<members.count {
                // Insertion sort: a few to a few dozen members; stable, so a key encoded
                // twice keeps its encoding order.
                var at = order.count
                order.append(m)
                while at > 0, Self.precedes(members[m], members[order[at - 1]]) {
                    order[at] = order[at - 1]
                    at -= 1
                }
                order[at] = m
            }
            var first = true
            for k in order.indices {
                let member = members[order[k]]
                // A key encoded twice: the last value (sorted after the earlier ones).
                if k + 1 < order.count, !Self.precedes(member, members[order[k + 1]]) { continue }
                if !first { bytes.append(UInt8(ascii: ",")) }
                if options.pretty {
                    if !first { bytes.append(UInt8(ascii: "\n")) }
                    indent(depth + 1)
                }
                first = false
                writeString(member.name)
                if options.pretty {
                    bytes.append(contentsOf: Self.prettyColon)
                } else {
                    bytes.append(UInt8(ascii: ":"))
                }
                scratch.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[(member.start - base)..<(member.end - base)])) }
            }
        }
        if options.pretty {
            bytes.append(UInt8(ascii: "\n"))
            indent(depth)
        }
        bytes.append(UInt8(ascii: "}"))
        members.removeLast(members.count - frame.firstMember)
    }

    private static let prettyColon: [UInt8] = [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")]

    /// Whether `a`'s name sorts before `b`'s in UTF-8 byte order.
    private static func precedes(_ a: Member, _ b: Member) -> Bool {
        let x = a.sortKey
        let y = b.sortKey
        if x.high != y.high { return x.high < y.high }
        if x.low != y.low { return x.low < y.low }
        // Same first 16 bytes (zero-padded): when one name is that short, it is a prefix of
        // the other, or equal.
        if x.length <= 16 || y.length <= 16 { return x.length < y.length }
        return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }

    private func indent(_ depth: Int) {
        var remaining = 2 * depth
        while remaining > 0 {
            let n = min(remaining, Self.spaces.count)
            bytes.append(contentsOf: Self.spaces[..<n])
            remaining -= n
        }
    }
}

/// An array element's position in a coding path.
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// An object key in a coding path.
struct JSONNameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// The key JSONEncoder writes a keyed container's `superEncoder()` value under.
struct JSONSuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }

    init() {}
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { return nil }
}
