import Foundation

// The Encoder and its three containers for `ByteJSONEncoder`. Each is a state
// reference and a slot (three words: an existential holds it without an allocation);
// every call goes to the state, which writes the bytes.

struct JSONSlotEncoder: Encoder {
    let state: JSONEncodingState
    let slot: JSONSlot

    var codingPath: [any CodingKey] { state.codingPath(slot) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let opened = state.openObject(slot)
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(state: state, slot: opened ? slot : .invalid))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let opened = state.openArray(slot)
        return JSONUnkeyedContainer(state: state, slot: opened ? slot : .invalid)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(state: state, slot: slot)
    }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: JSONEncodingState
    let slot: JSONSlot

    var codingPath: [any CodingKey] { state.codingPath(slot) }

    private func member(_ key: Key, _ write: () throws -> Void) throws {
        let start = try state.beginMember(slot)
        try write()
        state.endMember(key, start: start)
    }

    mutating func encodeNil(forKey key: Key) throws { try member(key) { state.writeNull() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key) { state.writeBool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { try member(key) { state.writeString(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try member(key) { try state.writeDouble(value) { codingPath + [key] } }
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try member(key) { try state.writeFloat(value) { codingPath + [key] } }
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: Int128, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try member(key) { state.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try state.encodeMember(value, key: key, in: slot)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey> {
        let child = state.pushMember(key: key, in: slot)
        let opened = state.openObject(child)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(state: state, slot: opened ? child : .invalid))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = state.pushMember(key: key, in: slot)
        let opened = state.openArray(child)
        return JSONUnkeyedContainer(state: state, slot: opened ? child : .invalid)
    }

    mutating func superEncoder() -> any Encoder {
        JSONSlotEncoder(state: state, slot: state.pushMember(key: JSONSuperKey(), in: slot))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        JSONSlotEncoder(state: state, slot: state.pushMember(key: key, in: slot))
    }
}

struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let state: JSONEncodingState
    let slot: JSONSlot

    var codingPath: [any CodingKey] { state.codingPath(slot) }
    var count: Int { state.elementCount(slot) }

    private func element(_ write: () throws -> Void) throws {
        _ = try state.beginElement(slot)
        try write()
    }

    mutating func encodeNil() throws { try element { state.writeNull() } }
    mutating func encode(_ value: Bool) throws { try element { state.writeBool(value) } }
    mutating func encode(_ value: String) throws { try element { state.writeString(value) } }
    mutating func encode(_ value: Double) throws {
        try element { try state.writeDouble(value) { codingPath + [JSONIndexKey(count - 1)] } }
    }
    mutating func encode(_ value: Float) throws {
        try element { try state.writeFloat(value) { codingPath + [JSONIndexKey(count - 1)] } }
    }
    mutating func encode(_ value: Int) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: Int128) throws { try element { state.writeInteger(value) } }
    mutating func encode(_ value: UInt128) throws { try element { state.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws { try state.encodeElement(value, in: slot) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = state.pushElement(in: slot)
        let opened = state.openObject(child)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(state: state, slot: opened ? child : .invalid))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = state.pushElement(in: slot)
        let opened = state.openArray(child)
        return JSONUnkeyedContainer(state: state, slot: opened ? child : .invalid)
    }

    mutating func superEncoder() -> any Encoder {
        JSONSlotEncoder(state: state, slot: state.pushElement(in: slot))
    }
}

struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let state: JSONEncodingState
    let slot: JSONSlot

    var codingPath: [any CodingKey] { state.codingPath(slot) }

    mutating func encodeNil() throws { try state.beginSingle(slot); state.writeNull() }
    mutating func encode(_ value: Bool) throws { try state.beginSingle(slot); state.writeBool(value) }
    mutating func encode(_ value: String) throws { try state.beginSingle(slot); state.writeString(value) }
    mutating func encode(_ value: Double) throws { try state.beginSingle(slot); try state.writeDouble(value) { codingPath } }
    mutating func encode(_ value: Float) throws { try state.beginSingle(slot); try state.writeFloat(value) { codingPath } }
    mutating func encode(_ value: Int) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: Int128) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode(_ value: UInt128) throws { try state.beginSingle(slot); state.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try state.requireEmpty(slot)
        try state.encodeValue(value, in: slot)
    }
}
