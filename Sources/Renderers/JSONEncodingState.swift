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
        let key: (any CodingKey)?
        /// The key it is written under when the frame below is an object.
        let name: String?
    }

    struct Member {
        var name: String
        /// The name's first 8 UTF-8 bytes, big-endian: most comparisons end here.
        var sortPrefix: UInt64
        var start: Int
        var end: Int
    }

    let options: ByteJSONEncoder.Options
    let escaping: JSONScalarText.Escaping
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
            let root = push(key: nil, name: nil)
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
        let child = push(key: key, name: key.stringValue)
        try encodeValue(value, in: child)
        close(through: child.index)
    }

    /// An array element encoded by its own `encode(to:)`.
    func encodeElement<T: Encodable>(_ value: T, in array: JSONSlot) throws {
        let index = try beginElement(array)
        let child = push(key: JSONIndexKey(index), name: nil)
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

    func writeDouble(_ value: Double, slot: JSONSlot, key: (any CodingKey)?) throws {
        if value.isFinite {
            JSONScalarText.appendFinite(value, to: &bytes)
        } else {
            try writeNonFinite(value, isPositive: value > 0, slot: slot, key: key)
        }
    }

    func writeFloat(_ value: Float, slot: JSONSlot, key: (any CodingKey)?) throws {
        if value.isFinite {
            JSONScalarText.appendFinite(value, to: &bytes)
        } else {
            try writeNonFinite(value, isPositive: value > 0, slot: slot, key: key)
        }
    }

    private func writeNonFinite(_ value: some BinaryFloatingPoint, isPositive: Bool, slot: JSONSlot, key: (any CodingKey)?) throws {
        guard case let .strings(positiveInfinity, negativeInfinity, nan) = options.nonFiniteNumbers else {
            var path = codingPath(slot)
            if let key { path.append(key) }
            throw EncodingError.invalidValue(value, EncodingError.Context(
                codingPath: path, debugDescription: "Unable to encode \(type(of: value)).\(value) directly in JSON."))
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
        members.append(Member(name: name, sortPrefix: Self.sortPrefix(name), start: start, end: bytes.count))
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
        return push(key: key, name: name)
    }

    /// A slot for a nested container or super encoder as the array's next element.
    func pushElement(in array: JSONSlot) -> JSONSlot {
        guard let index = try? beginElement(array) else {
            fail("A container was used after the value it belongs to was complete.", nil)
            return .invalid
        }
        return push(key: JSONIndexKey(index), name: nil)
    }

    func codingPath(_ slot: JSONSlot) -> [any CodingKey] {
        guard slot.index < frames.count else { return [] }
        return frames[...slot.index].compactMap(\.key)
    }

    func fail(_ message: String, _ slot: JSONSlot?) {
        guard failure == nil else { return }
        failure = EncodingError.invalidValue(message, EncodingError.Context(
            codingPath: slot.map(codingPath) ?? [], debugDescription: message))
    }

    // MARK: - Frames

    private func push(key: (any CodingKey)?, name: String?) -> JSONSlot {
        let serial = nextSerial
        nextSerial &+= 1
        frames.append(Frame(start: bytes.count, firstMember: members.count, serial: serial, key: key, name: name))
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
            members.append(Member(name: name, sortPrefix: Self.sortPrefix(name), start: frame.start, end: bytes.count))
        }
    }

    /// Replaces the object's member values, written in encoding order from
    /// `frame.start`, with the object: members in key order, the last value of a
    /// key encoded twice.
    private func writeObject(_ frame: Frame, depth: Int) {
        let base = frame.start
        order.removeAll(keepingCapacity: true)
        for m in frame.firstMember..<members.count {
            // Insertion sort: a few to a few dozen members, often nearly in order; stable,
            // so a key encoded twice keeps its encoding order.
            var at = order.count
            order.append(m)
            while at > 0, precedes(members[m], members[order[at - 1]]) {
                order[at] = order[at - 1]
                at -= 1
            }
            order[at] = m
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[base...])
        bytes.removeLast(bytes.count - base)

        bytes.append(UInt8(ascii: "{"))
        if options.pretty { bytes.append(UInt8(ascii: "\n")) }
        var first = true
        for (k, m) in order.enumerated() {
            let member = members[m]
            if k + 1 < order.count {
                let next = members[order[k + 1]]
                if next.sortPrefix == member.sortPrefix, next.name == member.name { continue }
            }
            if !first { bytes.append(UInt8(ascii: ",")) }
            if options.pretty {
                if !first { bytes.append(UInt8(ascii: "\n")) }
                indent(depth + 1)
            }
            first = false
            writeString(member.name)
            if options.pretty {
                bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
            } else {
                bytes.append(UInt8(ascii: ":"))
            }
            bytes.append(contentsOf: scratch[(member.start - base)..<(member.end - base)])
        }
        if options.pretty {
            bytes.append(UInt8(ascii: "\n"))
            indent(depth)
        }
        bytes.append(UInt8(ascii: "}"))
        members.removeLast(members.count - frame.firstMember)
    }

    private func precedes(_ a: Member, _ b: Member) -> Bool {
        if a.sortPrefix != b.sortPrefix { return a.sortPrefix < b.sortPrefix }
        return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }

    static func sortPrefix(_ name: String) -> UInt64 {
        var prefix: UInt64 = 0
        var shift: UInt64 = 56
        for byte in name.utf8.prefix(8) {
            prefix |= UInt64(byte) << shift
            shift &-= 8
        }
        return prefix
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

/// The key JSONEncoder writes a keyed container's `superEncoder()` value under.
struct JSONSuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }

    init() {}
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { return nil }
}
