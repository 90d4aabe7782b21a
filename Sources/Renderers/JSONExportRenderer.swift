import Foundation
import Reconstruction

/// `export --format json`: the `analyze` document (docs/schema/analysis-1.0.schema.json),
/// pretty-printed with sorted keys. Several captures analysed separately give
/// a JSON array with one document per capture.
public struct JSONExportRenderer {
    public init() {}

    /// JSONEncoder's bytes with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`
    /// (or without `.prettyPrinted`) and non-finite numbers as the strings `Infinity`,
    /// `-Infinity` and `NaN`.
    public static func encoder(pretty: Bool) -> ByteJSONEncoder {
        ByteJSONEncoder(options: .init(pretty: pretty, escapesSlashes: false,
                                       nonFiniteNumbers: .strings(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")))
    }

    public func render(_ captures: [ExportCapture]) throws -> Data {
        let encoder = Self.encoder(pretty: true)
        var bytes: [UInt8]
        if captures.count == 1 {
            bytes = try encoder.encode(captures[0].document)
        } else {
            bytes = try encoder.encode(captures.map(\.document))
        }
        bytes.append(0x0a)
        return Data(bytes)
    }
}
