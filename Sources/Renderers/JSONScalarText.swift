import Foundation

/// Strings and numbers as Foundation's `JSONEncoder` (swift-foundation's
/// `JSONWriter`) writes them, appended to a byte buffer.
///
/// Strings: `"` and `\` escaped, `/` escaped unless told not to, `\b \f \n \r \t`
/// by name, the other C0 controls as `\u00xx` (lowercase hex), everything else
/// (DEL, non-ASCII) as raw UTF-8. Integers: their decimal description.
/// Floating point: Swift's shortest round-trip description without a trailing
/// `.0` (`1`, `-0`, `1e-07`, `1.2345678901234568e+20`).
enum JSONScalarText {
    /// How a string is escaped beyond what JSONEncoder always escapes.
    struct Escaping {
        /// `/` as `\/` (JSONEncoder's default; off with `.withoutEscapingSlashes`).
        let slashes: Bool
        /// C1 controls (U+0080-U+009F, NEL among them) and U+2028/U+2029 as `\uXXXX`:
        /// legal raw in JSON, but line breaks for readers that split on Unicode line
        /// boundaries (Python's splitlines, JavaScript). JSONEncoder leaves them raw.
        let unicodeLineBreaks: Bool
        /// By byte value: true where the scan for bytes to copy unchanged stops (a byte
        /// to escape, or a lead byte of a sequence that may need it).
        let stops: [Bool]

        init(slashes: Bool, unicodeLineBreaks: Bool) {
            self.slashes = slashes
            self.unicodeLineBreaks = unicodeLineBreaks
            stops = (0...255).map { (b: Int) -> Bool in
                b < 0x20 || b == 0x22 || b == 0x5C || (slashes && b == 0x2F) || (unicodeLineBreaks && (b == 0xC2 || b == 0xE2))
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `"` + the escaped contents + `"`.
    static func appendString(_ value: String, escaping: Escaping, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var copy = value
        copy.withUTF8 { appendContents($0, escaping: escaping, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func appendContents(_ utf8: UnsafeBufferPointer<UInt8>, escaping: Escaping, to bytes: inout [UInt8]) {
        escaping.stops.withUnsafeBufferPointer { stops in appendContents(utf8, stops: stops, to: &bytes) }
    }

    private static func appendContents(_ utf8: UnsafeBufferPointer<UInt8>, stops: UnsafeBufferPointer<Bool>, to bytes: inout [UInt8]) {
        let count = utf8.count
        var runStart = 0
        var i = 0
        while i < count {
            let byte = utf8[i]
            guard stops[Int(byte)] else {
                i &+= 1
                continue
            }
            // 0xC2 and 0xE2 lead bytes reach here only when unicode line breaks are escaped,
            // and most of them (U+00A0-U+00BF, U+2000-U+2027 ...) stay raw.
            var consumed = 1
            var escape: UInt16 = 0
            var named: UInt8 = 0
            switch byte {
            case 0xC2:
                guard i &+ 1 < count, utf8[i &+ 1] & 0xE0 == 0x80 else {
                    i &+= 1
                    continue
                }
                escape = UInt16(utf8[i &+ 1])
                consumed = 2
            case 0xE2:
                guard i &+ 2 < count, utf8[i &+ 1] == 0x80, utf8[i &+ 2] == 0xA8 || utf8[i &+ 2] == 0xA9 else {
                    i &+= 1
                    continue
                }
                escape = 0x2000 | UInt16(utf8[i &+ 2] &- 0xA8 &+ 0x28)
                consumed = 3
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): named = byte
            case 0x08: named = UInt8(ascii: "b")
            case 0x0C: named = UInt8(ascii: "f")
            case 0x0A: named = UInt8(ascii: "n")
            case 0x0D: named = UInt8(ascii: "r")
            case 0x09: named = UInt8(ascii: "t")
            default: escape = UInt16(byte)
            }
            if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
            bytes.append(UInt8(ascii: "\\"))
            if named != 0 {
                bytes.append(named)
            } else {
                bytes.append(UInt8(ascii: "u"))
                bytes.append(hexDigits[Int(escape >> 12)])
                bytes.append(hexDigits[Int((escape >> 8) & 0xF)])
                bytes.append(hexDigits[Int((escape >> 4) & 0xF)])
                bytes.append(hexDigits[Int(escape & 0xF)])
            }
            i &+= consumed
            runStart = i
        }
        if count > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count])) }
    }

    static func appendInteger(_ value: some FixedWidthInteger, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            // The magnitude as UInt64 (Int64.min has no positive counterpart in Int64).
            if value.bitWidth <= 64 {
                appendDigits(UInt64(truncatingIfNeeded: value.magnitude), to: &bytes)
            } else {
                bytes.append(contentsOf: value.magnitude.description.utf8)
            }
        } else if value.bitWidth <= 64 || value <= UInt64.max {
            appendDigits(UInt64(truncatingIfNeeded: value), to: &bytes)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    static func appendDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        if value < 10 {
            bytes.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        // Up to 20 digits, written backwards into a fixed scratch area.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { out in
            var v = value
            var i = out.count
            while v > 0 {
                i &-= 1
                out[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[i...]))
        }
    }

    /// A finite value's text; the caller handles NaN and infinities.
    static func appendFinite(_ value: Double, to bytes: inout [UInt8]) {
        // Integral values below 1e15 print as their digits followed by ".0" (Swift switches to
        // exponents only beyond 2^53), which JSONEncoder drops: written without a String.
        if value.rounded(.towardZero) == value, value.magnitude < 1e15 {
            if value == 0, value.sign == .minus {
                bytes.append(contentsOf: [UInt8(ascii: "-"), UInt8(ascii: "0")])
            } else {
                appendInteger(Int64(value), to: &bytes)
            }
            return
        }
        appendDescription(value, to: &bytes)
    }

    static func appendFinite(_ value: Float, to bytes: inout [UInt8]) {
        appendDescription(value, to: &bytes)
    }

    private static func appendDescription(_ value: some CustomStringConvertible, to bytes: inout [UInt8]) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }
}
