import Foundation
import Reconstruction

/// `export --format json`: the `analyze` document (docs/schema/analysis-1.0.schema.json),
/// pretty-printed with sorted keys. Several captures analysed separately give
/// a JSON array with one document per capture.
public struct JSONExportRenderer {
    public init() {}

    public static func encoder(pretty: Bool) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    public func render(_ captures: [ExportCapture]) throws -> Data {
        let encoder = Self.encoder(pretty: true)
        var data: Data
        if captures.count == 1 {
            data = try encoder.encode(captures[0].document)
        } else {
            data = try encoder.encode(captures.map(\.document))
        }
        data.append(0x0a)
        return data
    }
}
