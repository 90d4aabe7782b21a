import FuzzHarness
import Foundation
import XCTest

/// Runs every minimised corpus file and every crash reproducer under
/// Tests/Fuzz/ through the fuzz targets' bodies (no sanitizer needed: a
/// reproducer that traps again crashes this test). Always part of `swift test`.
final class FuzzRegressionTests: XCTestCase {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    func inputs(_ kind: String, _ target: String) -> [URL] {
        let dir = Self.fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { dir.appendingPathComponent($0) }
    }

    func runAll(_ target: String, minimumCorpus: Int) throws {
        let corpus = inputs("corpus", target)
        XCTAssertGreaterThanOrEqual(corpus.count, minimumCorpus, "Tests/Fuzz/corpus/\(target) is missing or too small")
        for url in corpus + inputs("regressions", target) {
            let data = try Data(contentsOf: url)
            data.withUnsafeBytes { XCTAssertTrue(FuzzHarness.run(target, $0)) }
        }
    }

    func testTargetsHaveCorpora() {
        for target in FuzzHarness.targets {
            XCTAssertFalse(inputs("corpus", target).isEmpty, "no corpus for \(target)")
        }
    }

    func testStunCorpusAndRegressions() throws { try runAll("stun", minimumCorpus: 10) }
    func testFramingCorpusAndRegressions() throws { try runAll("framing", minimumCorpus: 5) }
    func testSipCorpusAndRegressions() throws { try runAll("sip", minimumCorpus: 5) }
    func testPacketsCorpusAndRegressions() throws { try runAll("packets", minimumCorpus: 5) }
    func testCaptureCorpusAndRegressions() throws { try runAll("capture", minimumCorpus: 5) }
}
