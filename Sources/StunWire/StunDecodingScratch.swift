/// What a dissector lends `StunMessage(_:scratch:depth:)` from one message to
/// the next, so that decoding a message allocates nothing in the steady state:
///
/// - the attribute list's storage, one per nesting depth, given back with
///   `recycle` once the message's event has been delivered (when a consumer
///   kept the message, the storage is shared and the next message simply
///   gets a new one);
/// - the last few long strings (over 15 UTF-8 bytes, which Swift cannot keep
///   inline), by attribute type: a server puts the same SOFTWARE on every Data
///   indication, a client the same USERNAME on every check of a pair.
public struct StunDecodingScratch {
    private var buffers: [[StunAttribute]] = []
    private var strings: [(type: UInt16, text: String)] = []
    private var nextSlot = 0
    static let rememberedStrings = 8

    public init() {}

    /// An empty list with the capacity of the last one used at `depth`.
    mutating func takeBuffer(depth: Int) -> [StunAttribute] {
        guard depth >= 0, depth < buffers.count else { return [] }
        var buffer: [StunAttribute] = []
        swap(&buffer, &buffers[depth])
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Takes `message`'s attribute storage back for the next message at `depth`;
    /// `message` is left without attributes.
    public mutating func recycle(_ message: inout StunMessage, depth: Int = 0) {
        guard depth >= 0, depth < 8 else { return }
        while buffers.count <= depth { buffers.append([]) }
        swap(&buffers[depth], &message.attributes)
        message.attributes = []
    }

    /// A remembered string of this attribute type with exactly these bytes.
    func recentString(type: UInt16, bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count > 15 else { return nil }
        for entry in strings where entry.type == type && entry.text.utf8.count == bytes.count {
            if entry.text.utf8.elementsEqual(bytes) { return entry.text }
        }
        return nil
    }

    /// Remembers a long string (short ones are inline and cost nothing to make again).
    mutating func remember(_ text: String, type: UInt16) {
        guard text.utf8.count > 15 else { return }
        if strings.count < StunDecodingScratch.rememberedStrings {
            strings.append((type, text))
        } else {
            strings[nextSlot] = (type, text)
            nextSlot = (nextSlot &+ 1) % StunDecodingScratch.rememberedStrings
        }
    }
}
