import Foundation

/// Encodes `Encodable` values to JSON bytes, byte for byte what Foundation's
/// `JSONEncoder` writes with `.sortedKeys` (and `.prettyPrinted`,
/// `.withoutEscapingSlashes`, `.convertToString` for non-finite numbers, as
/// configured), without JSONEncoder's intermediate tree of boxed values,
/// dictionaries and number strings.
///
/// Values are written straight into one byte buffer as they are encoded. The
/// members of an object arrive in the order its `encode(to:)` encodes them, so
/// each object's values are kept in place until the object is complete, then
/// written out again behind their keys in sorted order: the only copying that
/// sorted keys need.
///
/// Keys sort as JSONEncoder sorts them on Linux: by their UTF-8 bytes. A key
/// encoded twice keeps its last value, as in JSONEncoder. Unsorted output is not
/// offered: JSONEncoder's unsorted order is its dictionaries' hash order.
///
/// One encoder serves one thread at a time: its buffers are reused from call to call.
public final class ByteJSONEncoder {
    public enum NonFiniteNumbers: Sendable, Equatable {
        /// NaN and infinities throw `EncodingError.invalidValue` (JSONEncoder's default).
        case `throw`
        /// NaN and infinities become these strings (`.convertToString`).
        case strings(positiveInfinity: String, negativeInfinity: String, nan: String)
    }

    public struct Options: Sendable {
        /// Two-space indentation and `" : "` after keys (`.prettyPrinted`).
        public var pretty: Bool
        /// `/` written `\/` (JSONEncoder's default; off with `.withoutEscapingSlashes`).
        public var escapesSlashes: Bool
        public var nonFiniteNumbers: NonFiniteNumbers
        /// C1 controls and U+2028/U+2029 in strings as `\uXXXX` (JSONEncoder leaves them
        /// raw): one NDJSON record stays one line for readers that split on Unicode
        /// line boundaries. Off for JSONEncoder's bytes.
        public var escapesUnicodeLineBreaks: Bool

        public init(pretty: Bool, escapesSlashes: Bool = true, nonFiniteNumbers: NonFiniteNumbers = .throw,
                    escapesUnicodeLineBreaks: Bool = false) {
            self.pretty = pretty
            self.escapesSlashes = escapesSlashes
            self.nonFiniteNumbers = nonFiniteNumbers
            self.escapesUnicodeLineBreaks = escapesUnicodeLineBreaks
        }
    }

    public let options: Options
    let state: JSONEncodingState

    public init(options: Options) {
        self.options = options
        state = JSONEncodingState(options: options)
    }

    /// The value as a whole JSON text.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, depth: 0, into: &bytes)
        return bytes
    }

    /// Appends the value as it appears nested `depth` containers deep in a pretty
    /// document (its inner lines indented by `depth + 1` levels, its closing bracket
    /// by `depth`); the caller writes what precedes it on its first line.
    public func encode<T: Encodable>(_ value: T, depth: Int, into bytes: inout [UInt8]) throws {
        swap(&bytes, &state.bytes)
        defer { swap(&bytes, &state.bytes) }
        try state.encodeRoot(value, depth: depth)
    }
}
