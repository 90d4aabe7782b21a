import NetworkVocabulary

/// Writes JSON straight into a byte buffer: escaping by hand, numbers
/// without Foundation, commas tracked per nesting level. One line of
/// NDJSON costs a few appends instead of a JSONEncoder round trip.
public struct JSONByteWriter {
    public private(set) var bytes: [UInt8] = []
    /// Per open container: does the next member need a comma before it?
    private var needsComma: [Bool] = []
    /// A key was just written: its value takes no comma.
    private var afterKey = false

    public init(capacity: Int = 4_096) {
        bytes.reserveCapacity(capacity)
        needsComma.reserveCapacity(16)
    }

    /// Empties the buffer, keeping its storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma.removeAll(keepingCapacity: true)
        afterKey = false
    }

    public mutating func objectStart() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func objectEnd() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func arrayStart() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func arrayEnd() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }
    public mutating func newline() { bytes.append(UInt8(ascii: "\n")) }

    /// `"name":` (names are program constants: not escaped).
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var copy = value
        copy.withUTF8 { utf8 in
            var i = 0
            while i < utf8.count {
                let byte = utf8[i]
                // C1 controls (U+0080-U+009F: NEL among them) and U+2028/U+2029 are legal raw
                // in JSON but end lines for readers that split on Unicode line boundaries
                // (Python's splitlines, JavaScript): one NDJSON record must stay one line.
                if byte == 0xC2, i + 1 < utf8.count, utf8[i + 1] & 0xE0 == 0x80 {
                    escapeCodePoint(UInt16(utf8[i + 1]))
                    i &+= 2
                    continue
                }
                if byte == 0xE2, i + 2 < utf8.count, utf8[i + 1] == 0x80, utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9 {
                    escapeCodePoint(0x2000 | UInt16(utf8[i + 2] - 0xA8 + 0x28))
                    i &+= 3
                    continue
                }
                escapeByte(byte)
                i &+= 1
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `\uXXXX`.
    private mutating func escapeCodePoint(_ v: UInt16) {
        bytes.append(contentsOf: [0x5C, 0x75])
        for shift in [12, 8, 4, 0] as [UInt16] {
            bytes.append(JSONByteWriter.hexDigits[Int((v >> shift) & 0xF)])
        }
    }

    /// A string of ASCII the program made (no escaping needed).
    public mutating func plainString(_ value: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func int(_ value: Int) {
        separate()
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            digits(UInt64(bitPattern: Int64(0) &- Int64(value)))
        } else {
            digits(UInt64(value))
        }
    }

    public mutating func uint(_ value: UInt64) {
        separate()
        digits(value)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    /// Epoch seconds from nanoseconds, all nine decimals (tshark's frame.time_epoch).
    public mutating func epochSeconds(nanoseconds: Int64) {
        separate()
        if nanoseconds < 0 { bytes.append(UInt8(ascii: "-")) }
        // The magnitude as UInt64: negating Int64.min (a pcapng timestamp can be anything) would trap.
        let n = nanoseconds.magnitude
        digits(n / 1_000_000_000)
        bytes.append(UInt8(ascii: "."))
        var fraction = n % 1_000_000_000
        var scratch: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { out in
            for i in stride(from: 8, through: 0, by: -1) {
                out[i] = UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30
                fraction /= 10
            }
            bytes.append(contentsOf: out)
        }
    }

    /// Lowercase hex of bytes, as a JSON string.
    public mutating func hexString<C: Collection>(_ value: C) where C.Element == UInt8 {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in value {
            bytes.append(JSONByteWriter.hexDigits[Int(byte >> 4)])
            bytes.append(JSONByteWriter.hexDigits[Int(byte & 0xF)])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A 64-bit value as 16 lowercase hex digits in a string.
    public mutating func hex64(_ value: UInt64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(JSONByteWriter.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `"a.b.c.d:port"` / `"[v6]:port"`; IPv4 without building a String.
    public mutating func endpoint(_ endpoint: Endpoint) {
        guard case let .v4(address) = endpoint.address else {
            string(endpoint.description)
            return
        }
        separate()
        bytes.append(UInt8(ascii: "\""))
        digits(UInt64(address >> 24))
        bytes.append(UInt8(ascii: "."))
        digits(UInt64((address >> 16) & 0xFF))
        bytes.append(UInt8(ascii: "."))
        digits(UInt64((address >> 8) & 0xFF))
        bytes.append(UInt8(ascii: "."))
        digits(UInt64(address & 0xFF))
        bytes.append(UInt8(ascii: ":"))
        digits(UInt64(endpoint.port))
        bytes.append(UInt8(ascii: "\""))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = needsComma.indices.last else { return }
        if needsComma[last] {
            bytes.append(UInt8(ascii: ","))
        } else {
            needsComma[last] = true
        }
    }

    private mutating func digits(_ value: UInt64) {
        JSONScalarText.appendDigits(value, to: &bytes)
    }

    private mutating func escapeByte(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
        case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
        case 0x00..<0x20, 0x7F:
            bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])
            bytes.append(JSONByteWriter.hexDigits[Int(byte >> 4)])
            bytes.append(JSONByteWriter.hexDigits[Int(byte & 0xF)])
        default:
            bytes.append(byte)
        }
    }
}
