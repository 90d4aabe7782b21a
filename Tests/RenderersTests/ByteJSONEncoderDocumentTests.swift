import Foundation
import Pipeline
import Reconstruction
@testable import Renderers
import Testing

/// The session model of every capture in captures/ (the documents the golden
/// files hold), written by `ByteJSONEncoder` and by the writers built on it,
/// against Foundation's JSONEncoder byte for byte.
@Suite("ByteJSONEncoder on every capture's analysis document")
struct ByteJSONEncoderDocumentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var captureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("captures").path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }

    /// The document as `stunscope analyze captures/NAME` builds it (GoldenDocumentTests' run).
    static func document(_ name: String) -> AnalysisDocument {
        let path = repository.appendingPathComponent("captures").appendingPathComponent(name).path
        var (doc, _) = AnalysisPipeline(input: CaptureInput(captures: [path])).run()
        for i in doc.captures.indices { doc.captures[i].file = "captures/" + name }
        return doc
    }

    /// What `export --format json` / `analyze --format json` configured JSONEncoder with.
    static func exportJSONEncoder(pretty: Bool) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    @Test("the corpus is there")
    func corpusPresent() {
        #expect(Self.captureNames.count >= 70)
    }

    @Test("the document equals JSONEncoder's under every option set", arguments: captureNames)
    func documentMatchesFoundation(_ name: String) {
        let doc = Self.document(name)
        let throwing = ByteJSONEncoder.Options(pretty: true, escapesSlashes: true, nonFiniteNumbers: .throw)
        for options in FoundationJSONOracle.optionSets + [throwing] {
            let ours = FoundationJSONOracle.ours(doc, options)
            let foundation = FoundationJSONOracle.foundation(doc, options)
            #expect(ours == foundation, "\(name) \(options): \(FoundationJSONOracle.firstDifference(ours, foundation))")
        }
    }

    @Test("analyze --format json: AnalysisJSONWriter equals JSONEncoder and a newline", arguments: captureNames)
    func analysisWriterMatchesFoundation(_ name: String) throws {
        let doc = Self.document(name)
        let out = ByteCollector()
        try AnalysisJSONWriter.write(doc, to: out)
        let expected = Array(try Self.exportJSONEncoder(pretty: true).encode(doc)) + [0x0a]
        #expect(out.bytes == expected, "\(name): \(FoundationJSONOracle.firstDifference(.bytes(out.bytes), .bytes(expected)))")
    }

    @Test("export --format json of two captures: an array of documents as JSONEncoder writes it")
    func exportArrayMatchesFoundation() throws {
        let names = ["turn-xss-strings.server.pcap", "ice-relay-symmetric.public.pcap"]
        let captures = names.map { ExportCapture(file: "captures/" + $0, document: Self.document($0)) }
        let ours = [UInt8](try JSONExportRenderer().render(captures))
        let expected = Array(try Self.exportJSONEncoder(pretty: true).encode(captures.map(\.document))) + [0x0a]
        #expect(ours == expected, "\(FoundationJSONOracle.firstDifference(.bytes(ours), .bytes(expected)))")
    }

    @Test("export --format ndjson equals JSONEncoder's lines with Unicode line breaks escaped", arguments: captureNames)
    func ndjsonMatchesFoundation(_ name: String) throws {
        let captures = [ExportCapture(file: "captures/" + name, document: Self.document(name))]
        let ours = [UInt8](try NDJSONExportRenderer().render(captures))
        let expected = try Self.referenceNDJSON(captures)
        #expect(ours == expected, "\(name): \(FoundationJSONOracle.firstDifference(.bytes(ours), .bytes(expected)))")
    }

    /// The NDJSON lines from JSONEncoder's compact objects: `capture` and `type` spliced
    /// in front of each object's own keys.
    static func referenceNDJSON(_ captures: [ExportCapture]) throws -> [UInt8] {
        let encoder = exportJSONEncoder(pretty: false)
        func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
            FoundationJSONOracle.escapingUnicodeLineBreaks(Array(try encoder.encode(value)))
        }
        var out: [UInt8] = []
        for c in captures {
            let file = try encode(c.file)
            // Which lines, in which order, is the renderer's (NDJSONExportRenderer.lines); their
            // bytes here are Foundation's.
            try NDJSONExportRenderer.lines(of: c) { type, value in
                let object = try encode(value)
                out += Array(#"{"capture":"#.utf8) + file + Array(#","type":"\#(type)""#.utf8)
                if object != Array("{}".utf8) { out.append(UInt8(ascii: ",")) }
                out += object.dropFirst()
                out.append(0x0a)
            }
        }
        return out
    }
}
