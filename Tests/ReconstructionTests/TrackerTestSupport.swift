import Foundation
import NetworkVocabulary
import Pipeline
import Reconstruction
import StunWire
import TestSupport
import Testing

// What the per-tracker suites share: the truth files next to the captures
// (read with JSONSerialization, never through our own model), the analysis
// of a capture, and hand-made traffic run through the same decoder ->
// dissector -> reconstructor as a capture.

// MARK: Truth files

/// A value of a truth file, read with JSONSerialization. Missing keys and
/// wrong types read as nil, so a test states what it expects and fails on it.
struct Truth {
    let raw: Any?

    init(_ raw: Any?) { self.raw = raw }

    subscript(key: String) -> Truth { Truth((raw as? [String: Any])?[key]) }
    subscript(index: Int) -> Truth {
        guard let a = raw as? [Any], a.indices.contains(index) else { return Truth(nil) }
        return Truth(a[index])
    }

    var string: String? { raw as? String }
    var int: Int? { (raw as? NSNumber)?.intValue }
    var bool: Bool? { (raw as? NSNumber)?.boolValue }
    var array: [Truth] { (raw as? [Any])?.map(Truth.init) ?? [] }
    var strings: [String] { array.compactMap(\.string) }
    var ints: [Int] { array.compactMap(\.int) }
    /// An unsigned 64-bit integer as decimal text (ICE tie-breakers reach above Int64.max).
    var uint64String: String? { (raw as? NSNumber).map { String($0.uint64Value) } }
    var isNull: Bool { raw == nil || raw is NSNull }

    /// The element of an array whose `key` is `value`.
    func first(where key: String, is value: String) -> Truth {
        array.first { $0[key].string == value } ?? Truth(nil)
    }
}

enum Corpus {
    static let directory = GoldenDocumentTests.repository.appendingPathComponent("captures")

    /// `turn-udp-channels.server.pcap` -> its `turn-udp-channels.server.truth.json`.
    static func truth(_ capture: String) throws -> Truth {
        let base = capture.replacingOccurrences(of: ".pcapng", with: "").replacingOccurrences(of: ".pcap", with: "")
        let url = directory.appendingPathComponent(base + ".truth.json")
        return Truth(try JSONSerialization.jsonObject(with: Data(contentsOf: url)))
    }

    /// The captures whose truth file has `key` (`turn`: coturn's view; `ice`: aioice's), by name.
    static func captures(describedBy key: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".truth.json") }.sorted().compactMap { name in
            let url = directory.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url), let object = try? JSONSerialization.jsonObject(with: data) else { return nil }
            let truth = Truth(object)
            return truth[key].isNull ? nil : truth["capture"].string
        }
    }

    /// Every capture coturn's log describes.
    static let turnCaptures = captures(describedBy: "turn")

    private static let cache = DocumentCache()

    /// The analysis of one capture, as `analyze --credentials` with the truth file's
    /// credentials (long-term user:realm:password, ICE ufrag:password) gives it.
    static func analyze(_ capture: String) throws -> AnalysisDocument {
        if let doc = cache[capture] { return doc }
        let truth = try truth(capture)
        var lines: [String] = []
        func field(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        }
        for c in truth["credentials"].array {
            if let u = c["username"].string, let r = c["realm"].string, let p = c["password"].string {
                lines.append("\(field(u)):\(field(r)):\(field(p))")
            } else if let u = c["ufrag"].string, let p = c["password"].string {
                lines.append("\(field(u)):\(field(p))")
            }
        }
        var credentialsFile: String?
        if !lines.isEmpty {
            let url = FileManager.default.temporaryDirectory
                .appendingPathComponent("stunscope-trackertests-\(ProcessInfo.processInfo.processIdentifier)-\(capture).creds")
            try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
            credentialsFile = url.path
        }
        var problems: [String] = []
        let (doc, exitCode) = AnalysisPipeline(input: CaptureInput(captures: [directory.appendingPathComponent(capture).path]),
                                               credentialsFile: credentialsFile, report: { problems.append($0) }).run()
        if let credentialsFile { try? FileManager.default.removeItem(atPath: credentialsFile) }
        guard exitCode == 0 else { throw CorpusError.unreadable(capture, problems) }
        cache[capture] = doc
        return doc
    }

    enum CorpusError: Error { case unreadable(String, [String]) }
}

/// Documents analysed once per test process (several suites read the same captures;
/// Swift Testing runs them in parallel).
private final class DocumentCache: @unchecked Sendable {
    private let lock = NSLock()
    private var documents: [String: AnalysisDocument] = [:]

    subscript(name: String) -> AnalysisDocument? {
        get { lock.lock(); defer { lock.unlock() }; return documents[name] }
        set { lock.lock(); defer { lock.unlock() }; documents[name] = newValue }
    }
}

extension AnalysisDocument {
    /// The codes of the findings (several findings can share a code across sessions).
    var findingCodes: Set<FindingCode> { Set(findings.map(\.code)) }

    func findings(_ code: FindingCode) -> [Finding] { findings.filter { $0.code == code } }

    func allocation(client: String) -> TurnAllocationSummary? { allocations.first { $0.client == client } }
}

// MARK: Hand-made traffic

/// IPv4/UDP datagrams with chosen timestamps (seconds after a fixed epoch),
/// framed by TestSupport's `Build` as raw IPv4 (LINKTYPE_IPV4) and run through
/// `Dissection` into a `SessionReconstructor`: the path a capture takes, with
/// packets a test states one by one.
struct HandMadeTraffic {
    /// 2023-11-14T22:13:20Z.
    static let epoch: Int64 = 1_700_000_000_000_000_000

    private var packets: [(time: Int64, bytes: [UInt8], file: Int)] = []
    var credentials = CredentialStore()

    /// Epoch seconds of an offset, as the document writes times.
    static func time(_ seconds: Double) -> Double { CaptureTime(nanoseconds: epoch).adding(seconds: seconds).epochSeconds }

    /// `file`: the capture file the packet was read from, in a run over several files.
    mutating func udp(_ from: String, _ to: String, at seconds: Double, file: Int = 0, _ payload: [UInt8]) {
        guard let src = Endpoint(from), let dst = Endpoint(to), case let .v4(s) = src.address, case let .v4(d) = dst.address else {
            preconditionFailure("IPv4 endpoints only: \(from) -> \(to)")
        }
        let ip = Build.ipv4(src: s, dst: d, id: packets.count + 1, Build.udp(Int(src.port), Int(dst.port), payload))
        packets.append((CaptureTime(nanoseconds: HandMadeTraffic.epoch).adding(seconds: seconds).nanoseconds, ip, file))
    }

    /// The analysis document of these packets (frame numbers count from 1 in the order added).
    func document() -> AnalysisDocument {
        let reconstructor = SessionReconstructor()
        // As AnalysisPipeline sets it for a run over several files.
        reconstructor.dropsCopiesAcrossFiles = Set(packets.map(\.file)).count > 1
        let dissection = Dissection(consumer: reconstructor, credentials: credentials)
        for (i, p) in packets.enumerated() {
            p.bytes.withUnsafeBytes { raw in
                dissection.decoder.decode(CapturedPacket(frameNumber: i + 1, fileIndex: p.file, time: CaptureTime(nanoseconds: p.time),
                                                         linkType: .ipv4, originalLength: raw.count, bytes: raw))
            }
        }
        dissection.decoder.finish()
        dissection.finish()
        reconstructor.lowerStageEvictions = dissection.evictions.lowerStages
        return reconstructor.finish(packets: packets.count)
    }
}

/// A STUN message in wire form; `id` fills the 12-byte transaction id.
func stun(_ method: StunMethod, _ cls: StunMessageClass, id: UInt8,
          _ attributes: (inout StunMessageBuilder) -> Void = { _ in }) -> [UInt8] {
    var b = StunMessageBuilder(type: StunMessageType(method: method, messageClass: cls),
                               transactionID: [UInt8](repeating: id, count: 12))
    attributes(&b)
    b.addFingerprint()
    return b.bytes
}

/// A TURN ChannelData frame (RFC 8656 section 12.4), padded to 4 bytes as over UDP is allowed.
func channelData(_ channel: UInt16, _ data: [UInt8]) -> [UInt8] {
    [UInt8(channel >> 8), UInt8(channel & 0xff), UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
}

extension StunMessageBuilder {
    /// An address attribute; XOR-ed for the XOR-* types (RFC 8489 section 14.2).
    mutating func address(_ type: StunAttributeType, _ endpoint: String, xor: Bool = true) {
        add(type, address: Endpoint(endpoint)!, xor: xor)
    }
}

// MARK: ICE truth (aioice's own state)

enum IceCorpus {
    /// Every capture whose truth file holds aioice's view (`ice`).
    static let captures = Corpus.captures(describedBy: "ice")

    /// The one ICE session whose ufrags are the two agents'.
    static func session(_ doc: AnalysisDocument, _ truth: Truth) throws -> IceSessionSummary {
        let ufrags = Set(truth["ice"]["agents"].array.compactMap { $0["ufrag"].string })
        let found = doc.iceSessions.filter { Set($0.ufrags) == ufrags }
        try #require(found.count == 1, "sessions: \(doc.iceSessions.map(\.ufrags)), want \(ufrags.sorted())")
        return found[0]
    }

    static func agent(_ truth: Truth, _ name: String) -> Truth { truth["ice"]["agents"].first(where: "name", is: name) }

    static func controllingAgent(_ truth: Truth) -> Truth { agent(truth, truth["ice"]["controlling"].string ?? "") }

    /// The selected pair as this vantage point's wire shows it, controlling agent's side first:
    /// from a check of it that travels unencapsulated here, else, for checks seen only inside
    /// ChannelData / Data, the TURN-owner agent's relayed address and its peer; nil when no
    /// check of the selected pair passes here (`selectedPairChecks` empty).
    static func wireSelectedPair(_ truth: Truth) -> (local: String, remote: String)? {
        let ice = truth["ice"]
        let checks = ice["selectedPairChecks"].array
        let controlling = ice["controlling"].string
        if let c = checks.first(where: { $0["encapsulation"].string == "none" && $0["from"].string == controlling }),
           let src = c["src"].string, let dst = c["dst"].string {
            return (src, dst)
        }
        if let c = checks.first(where: { $0["encapsulation"].string == "none" }), let src = c["src"].string, let dst = c["dst"].string {
            return (dst, src)
        }
        guard !checks.isEmpty else { return nil }
        let sel = ice["selectedPair"], selB = ice["selectedPairB"]
        if selB["localType"].string == "relay", let l = selB["remote"].string, let r = selB["local"].string { return (l, r) }
        if let l = sel["local"].string, let r = sel["remote"].string { return (l, r) }
        return nil
    }
}
