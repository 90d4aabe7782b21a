import CaptureSource
import Foundation
import NetworkVocabulary
import PacketDecoding
import Pipeline
import Reconstruction
import Renderers
import SipWire
import Stitching
import StunWire
import TestSupport
import WireEvents

/// The bodies of the libFuzzer targets (docs/SECURITY.md, `scripts/fuzz`).
///
/// One function per target; each takes arbitrary bytes and must return
/// without trapping, hanging or leaking state into the next call. The thin
/// `LLVMFuzzerTestOneInput` wrappers live in `Tests/Fuzz/Targets/` and are
/// built only when `STUNSCOPE_FUZZ` is set; the always-built
/// `FuzzRegressionTests` runs every file of `Tests/Fuzz/corpus/<target>/`
/// and `Tests/Fuzz/regressions/<target>/` through the same functions, so a
/// crash once found stays fixed in a plain `swift test`.
///
/// Input layouts (the seed script `Tests/Fuzz/make_seeds.py` writes them):
/// - `stun`: one UDP payload.
/// - `framing`: flags (1), split count n (1), n big-endian 16-bit split
///   points (bit 15: a TCP gap before that chunk), then the stream bytes.
/// - `sip`: flags (1: bit 0 = stream framing), then one payload / stream.
/// - `packets`: selector (1: low nibble link type, 0x10 small table caps,
///   0x20 an 8-byte start time follows, 0x40 render the export formats too),
///   then records of length (2, BE),
///   time step (2, BE signed, 1/10 s units), bytes.
/// - `capture`: a whole pcap or pcapng file body (exports rendered when its
///   last byte is a multiple of 4).
public enum FuzzHarness {
    public static let targets = ["stun", "framing", "sip", "packets", "capture"]

    /// Runs `target` on `data`; false for an unknown target name.
    @discardableResult
    public static func run(_ target: String, _ data: UnsafeRawBufferPointer) -> Bool {
        switch target {
        case "stun": stun(data)
        case "framing": framing(data)
        case "sip": sip(data)
        case "packets": packets(data)
        case "capture": capture(data)
        default: return false
        }
        return true
    }

    // MARK: stun

    /// Credentials so that MESSAGE-INTEGRITY(-SHA256) is computed, not skipped
    /// (the corpus's coturn user and an ICE-style short-term pair).
    /// The keys are derived once; each input gets a store of its own (the SIP
    /// stage adds ICE passwords to it, and the regression tests run in parallel).
    static let sharedCredentials: CredentialStore.Contents = {
        let store = CredentialStore()
        store.addLongTerm(user: "alice", realm: "example.org", password: "secret")
        store.addShortTerm(username: "fuzz", password: "fuzzpassword")
        return store.contents
    }()

    static func credentials() -> CredentialStore { CredentialStore(sharedCredentials) }

    /// STUN recognition, attribute decoding, FINGERPRINT and MESSAGE-INTEGRITY
    /// checks and ChannelData on the bytes directly; then the bytes as a UDP
    /// datagram to a TURN port (both ways) through the dissector, the
    /// `messages` renderers and the reconstructor.
    public static func stun(_ data: UnsafeRawBufferPointer) {
        let verifier = IntegrityVerifier(credentials: credentials(), transactionCapacity: 4)
        for view in [StunMessageView.recognize(data), StunMessageView.recognizePrefix(data)].compactMap({ $0 }) {
            precondition(view.attributesEnd <= view.bytes.count, "attribute walk beyond the bytes")
            var message = StunMessage(view)
            // Twice: a request remembers its keys, the second pass looks them up as a response would.
            verifier.verify(view, &message)
            verifier.verify(view, &message)
            _ = StunFingerprint.check(view)
            _ = (message.username, message.realm, message.nonce, message.software, message.lifetime,
                 message.errorCode, message.errorReason, message.xorRelayedAddresses, message.peerAddresses,
                 message.data, message.methodName, message.isTURN)
            for attribute in view.attributes {
                precondition(attribute.offset + 4 + attribute.value.count <= view.bytes.count)
            }
        }
        if let frame = ChannelDataView.datagram(data) {
            precondition(frame.payload.count <= data.count)
        }
        if let frame = ChannelDataView.streamFrame(data) {
            precondition(frame.frameLength <= data.count)
        }

        // The same bytes as a datagram 198.51.100.2:50000 -> 198.51.100.10:3478 (and back).
        let payload = UnsafeRawBufferPointer(rebasing: data[0..<min(data.count, 65_535 - 28)])
        let pipeline = FuzzPipeline(small: false)
        for (frame, reverse) in [(1, false), (2, true)] {
            let packet = ipv4UDP(payload, reverse: reverse)
            packet.withUnsafeBytes { bytes in
                pipeline.decode(CapturedPacket(frameNumber: frame, fileIndex: 0,
                                               time: CaptureTime(nanoseconds: 1_700_000_000_000_000_000 + Int64(frame) * 1_000_000),
                                               linkType: .ipv4, originalLength: bytes.count, bytes: bytes))
            }
        }
        pipeline.finish(files: [], render: false)
    }

    /// An IPv4 + UDP header (checksums zero) in front of `payload`.
    static func ipv4UDP(_ payload: UnsafeRawBufferPointer, reverse: Bool) -> [UInt8] {
        var (source, destination): (UInt32, UInt32) = (0xC633_6402, 0xC633_640A)  // 198.51.100.2, 198.51.100.10
        var (sourcePort, destinationPort) = (50_000, 3_478)
        if reverse {
            swap(&source, &destination)
            swap(&sourcePort, &destinationPort)
        }
        return Build.ipv4(src: source, dst: destination, Build.udp(sourcePort, destinationPort, Array(payload)))
    }

    // MARK: framing

    /// Chunks of a split input: (bytes, gap before it).
    static func chunks(_ data: UnsafeRawBufferPointer) -> (flags: UInt8, body: UnsafeRawBufferPointer,
                                                           cuts: [(offset: Int, gap: Bool)]) {
        guard data.count >= 2 else { return (0, UnsafeRawBufferPointer(rebasing: data[data.count...]), []) }
        let flags = data[0]
        let n = Int(data[1] & 0x1F)
        let headerEnd = min(data.count, 2 + 2 * n)
        let body = UnsafeRawBufferPointer(rebasing: data[headerEnd...])
        var cuts: [(Int, Bool)] = []
        var i = 2
        while i + 1 < headerEnd {
            let raw = Int(data[i]) << 8 | Int(data[i + 1])
            cuts.append((body.isEmpty ? 0 : (raw & 0x7FFF) % (body.count + 1), raw & 0x8000 != 0))
            i += 2
        }
        cuts.sort { $0.0 < $1.0 }
        return (flags, body, cuts)
    }

    /// The TCP framer fed the stream in fuzzer-chosen pieces, with gaps, then
    /// every unit it cuts parsed as STUN / ChannelData.
    public static func framing(_ data: UnsafeRawBufferPointer) {
        let (flags, body, cuts) = chunks(data)
        let framer = StunStreamFramer(channelDataAllowed: flags & 1 != 0, connectionStart: flags & 2 != 0,
                                      maximumUnsyncedScan: flags & 4 != 0 ? 64 : 65_536)
        var emitted = 0
        let emit: (StreamUnit) -> Void = { unit in
            switch unit {
            case let .stun(bytes):
                precondition(bytes.count >= StunHeader.length)
                emitted += bytes.count
                if let view = StunMessageView.recognize(bytes) { _ = StunMessage(view) }
            case let .channelData(frame):
                precondition(frame.payload.count <= frame.frameLength)
                emitted += frame.frameLength
                if let view = StunMessageView.recognize(frame.payload) { _ = StunMessage(view) }
            case let .framedOther(bytes):
                emitted += bytes.count + 2
            case let .unframed(bytes):
                emitted += bytes.count
            case let .skipped(count, _):
                precondition(count >= 0)
                emitted += count
            }
            precondition(framer.bufferedCount <= StunStreamFramer.maximumFrame + 4_096)
        }
        var start = 0
        for (offset, gap) in cuts + [(body.count, false)] {
            if offset > start {
                framer.feed(UnsafeRawBufferPointer(rebasing: body[start..<offset]), emit)
                start = offset
            }
            if gap { framer.gap() }
            if flags & 8 != 0 { framer.channelDataAllowed.toggle() }
        }
        framer.finish(emit)
        precondition(emitted <= body.count, "the framer reported more bytes than it was fed")
    }

    // MARK: sip

    /// SIP start line / message / SDP parsing, datagram and stream framing.
    public static func sip(_ data: UnsafeRawBufferPointer) {
        guard let flags = data.first else { return }
        let body = UnsafeRawBufferPointer(rebasing: data[1...])
        _ = SipRecognizer.startsWithSipLine(body)
        if flags & 1 == 0 {
            if let m = SipParser.parse(body, stream: flags & 2 != 0) { touch(m) }
            _ = SdpParser.parse(Array(body))
            return
        }
        let (_, stream, cuts) = chunks(data)
        let framer = SipStreamFramer(synced: flags & 2 != 0)
        var start = 0
        for (offset, gap) in cuts + [(stream.count, false)] {
            if offset > start {
                framer.feed(UnsafeRawBufferPointer(rebasing: stream[start..<offset])) { touch($0) }
                start = offset
            }
            if gap { framer.gap() }
            precondition(framer.bufferedCount <= SipLimits.maximumHeaderBlock + SipLimits.maximumMessage)
        }
    }

    static func touch(_ m: SipMessage) {
        _ = (m.header("Call-ID"), m.headers("Via"), SipMessage.tag(of: m.header("From")))
        if !m.body.isEmpty, let sdp = SdpParser.parse(m.body) {
            for i in 0..<sdp.media.count { _ = (sdp.ufrag(media: i), sdp.password(media: i)) }
        }
    }

    // MARK: packets

    static let linkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .rawLinktype, .raw,
                                        .ipv4, .ipv6, .loop, .rawOpenBSD]

    /// Frames straight into the decoder (link layer, IPv4/IPv6 with fragment
    /// reassembly, TCP reassembly, ICMP), the dissector, the reconstructor
    /// and every renderer of its result. Small caps so that the fuzzer
    /// reaches the eviction paths.
    public static func packets(_ data: UnsafeRawBufferPointer) {
        guard let selector = data.first else { return }
        let linkType = linkTypes[Int(selector & 0x0F) % linkTypes.count]
        let small = selector & 0x10 != 0
        let pipeline = FuzzPipeline(small: small)
        var time = CaptureTime(nanoseconds: 1_700_000_000_000_000_000)
        var offset = 1
        if selector & 0x20 != 0, data.count >= 9 {
            // Any start time (pcapng timestamps are 64-bit): the clock arithmetic must not trap.
            time = CaptureTime(nanoseconds: Int64(bitPattern: UnsafeRawBufferPointer(rebasing: data[1..<9]).loadBE64(0)))
            offset = 9
        }
        var frame = 0
        while offset < data.count {
            let header = UnsafeRawBufferPointer(rebasing: data[offset...])
            guard header.count >= 4 else { break }
            let length = min(Int(header.loadBE16(0)), header.count - 4)
            let step = Int64(Int16(bitPattern: header.loadBE16(2))) * 100_000_000
            time = CaptureTime(nanoseconds: time.nanoseconds &+ step)
            frame += 1
            let bytes = UnsafeRawBufferPointer(rebasing: header[4..<(4 + length)])
            pipeline.decode(CapturedPacket(frameNumber: frame, fileIndex: 0, time: time, linkType: linkType,
                                           originalLength: length, bytes: bytes))
            offset += 4 + length
        }
        // Exports for the inputs that ask (they cost more than the rest of the run).
        pipeline.finish(files: [], exports: selector & 0x40 != 0)
    }

    // MARK: capture

    /// A scratch file per process: libpcap reads files, and this is the path the CLI takes.
    static let scratchPath: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(dir)/stunscope-fuzz-\(getpid()).pcap"
    }()

    /// A whole capture file: libpcap's pcap/pcapng reader behind
    /// `PcapFileReader` (damage must become a `CaptureError` naming the
    /// offset), then the same pipeline as `packets`.
    public static func capture(_ data: UnsafeRawBufferPointer) {
        let path = scratchPath
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        var written = 0
        while written < data.count {
            let n = write(fd, data.baseAddress! + written, data.count - written)
            precondition(n > 0, "cannot write \(path)")
            written += n
        }
        close(fd)
        defer { unlink(path) }

        let reader: PcapFileReader
        do {
            reader = try PcapFileReader(path: path)
        } catch let error as CaptureError {
            precondition(error.description.hasPrefix(path), "error does not name the file: \(error)")
            return
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
        let pipeline = FuzzPipeline(small: data.count & 1 == 1)
        while true {
            do {
                guard let packet = try reader.nextPacket() else { break }
                pipeline.decode(packet)
            } catch let error as CaptureError {
                precondition(error.isMidFile, "mid-file error of the wrong kind: \(error)")
                precondition(error.description.contains("byte offset"), "error without an offset: \(error)")
                break
            } catch {
                preconditionFailure("unexpected error type: \(error)")
            }
        }
        pipeline.finish(files: [CaptureFileSummary(file: path, format: reader.format.rawValue,
                                                   linkType: reader.linkType.name, packets: reader.packetsRead)],
                        exports: data.last.map { $0 & 3 == 0 } ?? false)
    }
}

/// decoder -> dissector -> (reconstructor, `messages` renderers): the library's
/// `Dissection`, with tiny table bounds when `small` so eviction paths run.
final class FuzzPipeline {
    let events = EventTee()
    let dissection: Dissection
    var decoder: PacketDecoder { dissection.decoder }

    init(small: Bool) {
        var configuration = WireDissector.Configuration()
        var limits: PacketDecoder.Limits?
        if small {
            configuration.maxKnownTurnFlows = 4
            configuration.maxTCPStreams = 3
            configuration.maxIntegrityTransactions = 2
            var l = PacketDecoder.Limits()
            l.maxFragmentDatagrams = 3
            l.maxFragmentBytes = 4_096
            l.maxTCPConnections = 3
            l.maxTCPBufferPerDirection = 2_048
            l.maxTCPBufferTotal = 3_000
            limits = l
        }
        dissection = Dissection(consumer: events, credentials: FuzzHarness.credentials(), configuration: configuration,
                                decoderLimits: limits)
        if small { dissection.decoder.maxTrackedFlows = 8 }
    }

    func decode(_ packet: CapturedPacket) { decoder.decode(packet) }

    /// Ends the run as `AnalysisPipeline` does and renders the document.
    func finish(files: [CaptureFileSummary], render: Bool = true, exports: Bool = true) {
        decoder.finish()
        dissection.finish()
        events.reconstructor.lowerStageEvictions = dissection.evictions.lowerStages
        var document = events.reconstructor.finish(packets: decoder.currentStatistics().packets)
        document.captures = files
        guard render else { return }
        _ = AnalysisTextRenderer(style: TerminalStyle(enabled: true)).render(document)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        _ = try? encoder.encode(document)
        // The export formats (SQLite aside: it needs a file and is the slowest).
        guard exports else { return }
        let captures = [ExportCapture(file: files.first?.file ?? "fuzz.pcap", document: document)]
        _ = try? JSONExportRenderer().render(captures)
        _ = try? NDJSONExportRenderer().render(captures)
        _ = CSVExportRenderer().render(captures)
        _ = HTMLReportRenderer(nonce: "fuzz").render(captures)
        _ = MermaidExportRenderer().render(captures)
        stitch()
    }

    /// The input as two vantage points: the second sees every packet 1 µs later except every
    /// third, with every other source rewritten as a NAT would (translations, losses, clocks).
    func stitch() {
        let first = events.sightings.take()
        var second: [Sighting] = []
        for (i, s) in first.enumerated() where i % 3 != 2 {
            var t = s
            t.vantage = 1
            t.time = CaptureTime(nanoseconds: s.time.nanoseconds &+ 1_000)
            if i % 2 == 0 { t.flow.source = Endpoint(.v4(0xCB00_7102), s.flow.source.port) }
            second.append(t)
        }
        let all = first + second
        let vantages = [VantageCapture(name: "a", file: "a.pcap", range: 0..<first.count),
                        VantageCapture(name: "b", file: "b.pcap", range: first.count..<all.count)]
        guard let doc = try? Stitcher().stitch(vantages, sightings: all) else { return }
        _ = StitchTextRenderer(style: TerminalStyle(enabled: true)).render(doc)
        _ = try? StitchJSONWriter.write(doc, to: ByteCollector())
        _ = StitchHTMLRenderer(nonce: "fuzz").render(doc)
        _ = StitchMermaidRenderer().render(doc)
    }
}

/// Every event to the reconstructor, to both `messages` renderers and to a stitch's sighting collector.
final class EventTee: WireEventConsumer, SipEventConsumer {
    let reconstructor = SessionReconstructor()
    let sightings = SightingCollector(vantage: 0, limit: 10_000)
    let text = MessagesText(style: TerminalStyle(enabled: true))
    let ndjson = MessagesNDJSON(includeFileIndex: false)
    var writer = JSONByteWriter()

    func wireEvent(_ event: WireEvent) {
        _ = text.line(event)
        writer.reset()
        _ = ndjson.write(event, to: &writer)
        reconstructor.wireEvent(event)
        sightings.wireEvent(event)
    }

    func sipMessage(_ event: SipMessageEvent) {
        reconstructor.sipMessage(event)
        sightings.sipMessage(event)
    }
}
