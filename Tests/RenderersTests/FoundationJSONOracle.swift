import Foundation
import Renderers

/// Foundation's JSONEncoder configured as a `ByteJSONEncoder` is: the truth the
/// encoder is compared with, byte for byte.
enum FoundationJSONOracle {
    /// Every combination the options can express, with NaN and infinities as strings.
    static let optionSets: [ByteJSONEncoder.Options] = [true, false].flatMap { pretty in
        [true, false].map { slashes in
            ByteJSONEncoder.Options(pretty: pretty, escapesSlashes: slashes,
                                    nonFiniteNumbers: .strings(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN"))
        }
    }

    static func encoder(_ options: ByteJSONEncoder.Options) -> JSONEncoder {
        let e = JSONEncoder()
        var formatting: JSONEncoder.OutputFormatting = [.sortedKeys]
        if options.pretty { formatting.insert(.prettyPrinted) }
        if !options.escapesSlashes { formatting.insert(.withoutEscapingSlashes) }
        e.outputFormatting = formatting
        if case let .strings(positive, negative, nan) = options.nonFiniteNumbers {
            e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: positive, negativeInfinity: negative, nan: nan)
        }
        return e
    }

    enum Outcome: Equatable, CustomStringConvertible {
        case bytes([UInt8])
        /// The error's coding path (its keys' string values).
        case failure(path: [String])

        var description: String {
            switch self {
            case let .bytes(b): return String(decoding: b, as: UTF8.self)
            case let .failure(path): return "error at \(path)"
            }
        }
    }

    static func foundation<T: Encodable>(_ value: T, _ options: ByteJSONEncoder.Options) -> Outcome {
        do { return .bytes(Array(try encoder(options).encode(value))) } catch { return failure(error) }
    }

    static func ours<T: Encodable>(_ value: T, _ options: ByteJSONEncoder.Options) -> Outcome {
        do { return .bytes(try ByteJSONEncoder(options: options).encode(value)) } catch { return failure(error) }
    }

    private static func failure(_ error: Error) -> Outcome {
        if case let EncodingError.invalidValue(_, context) = error { return .failure(path: context.codingPath.map(\.stringValue)) }
        return .failure(path: ["not an EncodingError: \(error)"])
    }

    /// The first line where two texts differ, for a readable failure.
    static func firstDifference(_ a: Outcome, _ b: Outcome) -> String {
        let x = a.description.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.description.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(x.count, y.count)
        return "line \(line + 1): ours \(line < x.count ? String(x[line]) : "<end>") | Foundation \(line < y.count ? String(y[line]) : "<end>")"
    }

    /// JSONEncoder's compact bytes with C1 controls and U+2028/U+2029 rewritten to
    /// `\uXXXX` (outside strings JSON is ASCII, so only string contents change): what
    /// `escapesUnicodeLineBreaks` must produce.
    static func escapingUnicodeLineBreaks(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        func escape(_ v: Int) { out.append(contentsOf: Array(String(format: "\\u%04x", v).utf8)) }
        while i < json.count {
            let b = json[i]
            if b == 0xC2, i + 1 < json.count, json[i + 1] & 0xE0 == 0x80 {
                escape(Int(json[i + 1]))
                i += 2
            } else if b == 0xE2, i + 2 < json.count, json[i + 1] == 0x80, json[i + 2] == 0xA8 || json[i + 2] == 0xA9 {
                escape(0x2000 + Int(json[i + 2]) - 0xA8 + 0x28)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }
}
