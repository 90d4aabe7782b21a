// swift-tools-version:6.0
import PackageDescription

// One target per pipeline stage; each depends only on stages listed above it.
// Only CaptureSource links libpcap, and only Pipeline, LiveMonitoring, the CLI
// and the fuzz harness depend on it: the parsers and the reconstruction build
// and test without it.
//   NetworkVocabulary  the values every stage shares: CaptureTime, FrameContext, CapturedPacket,
//                      LinkType, IPAddress, Endpoint, FiveTuple, WellKnownPorts (no dependencies)
//   CaptureSource      capture files and live interfaces -> CapturedPacket (libpcap, via CPcap)
//   PacketDecoding     CapturedPacket -> UDP datagrams, TCP streams, ICMP errors
//   StunWire           STUN messages and ChannelData: views, parsing, building, integrity
//   SipWire            SIP messages and SDP bodies
//   WireEvents         decoded units -> STUN/ChannelData/SIP wire events (the dissector)
//   Reconstruction     wire events -> sessions, timelines and findings (the analysis model)
//   Stitching          wire events of several vantage points -> one packet per datagram with its sightings,
//                      clock offsets, NAT translations, per-hop delay and loss (analyze --stitch)
//   Renderers          the analysis model and messages -> text, JSON, CSV, SQLite, HTML, Mermaid
//   FleetDatabase      the export tables into PostgreSQL (postgres-nio): a fleet's nodes in one database
//   Pipeline           wires capture -> decoder -> dissector -> reconstruction/renderers for every command
//   LiveMonitoring     the live capture loop: packet queue, real-time expiry, Prometheus metrics
//   stunscope          the command-line interface
let package = Package(
    name: "StunScope",
    // macOS 15: Synchronization (Mutex, Atomic) for what threads share.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stunscope", targets: ["stunscope"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "NetworkVocabulary"),
        .target(name: "CaptureSource", dependencies: ["CPcap", "NetworkVocabulary"]),
        .target(name: "PacketDecoding", dependencies: ["NetworkVocabulary"]),
        .target(name: "StunWire", dependencies: [
            "NetworkVocabulary", "PacketDecoding",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "SipWire", dependencies: ["NetworkVocabulary"]),
        .target(name: "WireEvents", dependencies: ["NetworkVocabulary", "PacketDecoding", "StunWire", "SipWire"]),
        .target(name: "Reconstruction", dependencies: [
            "NetworkVocabulary", "StunWire", "SipWire", "WireEvents",
            .product(name: "OrderedCollections", package: "swift-collections"),
        ]),
        .target(name: "Stitching", dependencies: ["NetworkVocabulary", "StunWire", "SipWire", "WireEvents"]),
        .target(name: "Renderers", dependencies: [
            "NetworkVocabulary", "PacketDecoding", "StunWire", "WireEvents", "Reconstruction", "Stitching",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FleetDatabase", dependencies: [
            "Renderers",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Wires the stages for every command, the golden tests and the fuzz harness:
        // capture files -> decoder -> dissector -> reconstructor, or -> message lines.
        .target(name: "Pipeline", dependencies: [
            "NetworkVocabulary", "CaptureSource", "PacketDecoding", "StunWire", "SipWire", "WireEvents",
            "Reconstruction", "Stitching", "Renderers",
        ]),
        // Live capture: the capture loop (LiveAnalysis) on the Pipeline's stages, bounded packet
        // queue, Prometheus metrics and their HTTP endpoint.
        .target(name: "LiveMonitoring", dependencies: [
            "NetworkVocabulary", "CaptureSource", "PacketDecoding", "StunWire", "WireEvents", "Reconstruction", "Pipeline",
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(name: "stunscope", dependencies: [
            "NetworkVocabulary", "CaptureSource", "PacketDecoding", "StunWire", "SipWire", "WireEvents",
            "Reconstruction", "Stitching", "Renderers", "LiveMonitoring", "Pipeline", "FleetDatabase",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "NetworkVocabularyTests", dependencies: ["NetworkVocabulary"]),
        .testTarget(name: "CaptureSourceTests", dependencies: ["CaptureSource", "CPcap", "NetworkVocabulary"]),
        .testTarget(name: "PacketDecodingTests", dependencies: ["PacketDecoding", "NetworkVocabulary"]),
        .testTarget(name: "StunWireTests", dependencies: ["StunWire", "NetworkVocabulary"]),
        .testTarget(name: "SipWireTests", dependencies: ["SipWire"]),
        .testTarget(name: "WireEventsTests", dependencies: ["WireEvents", "PacketDecoding", "StunWire", "NetworkVocabulary"]),
        .testTarget(name: "CLITests", dependencies: []),
        // Pipeline: the JSON encoder tests run every capture in captures/ to compare with JSONEncoder.
        .testTarget(name: "RenderersTests", dependencies: ["Renderers", "Reconstruction", "NetworkVocabulary", "Pipeline"]),
        .testTarget(name: "StitchingTests", dependencies: ["Stitching", "Pipeline", "Renderers", "NetworkVocabulary", "StunWire"]),
        .testTarget(name: "ReconstructionTests", dependencies: ["Pipeline", "Reconstruction", "Renderers", "LiveMonitoring", "StunWire"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)

// Hardening (docs/SECURITY.md). FuzzHarness holds the bodies of the libFuzzer
// targets; FuzzRegressionTests runs the committed corpora and crash
// reproducers through them in every `swift test`.
package.targets += [
    .target(name: "FuzzHarness", dependencies: [
        "NetworkVocabulary", "CaptureSource", "PacketDecoding", "StunWire", "SipWire", "WireEvents",
        "Reconstruction", "Stitching", "Renderers", "Pipeline",
    ], path: "Tests/Fuzz/Harness"),
    .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness"]),
]

// The libFuzzer executables only build with -sanitize=fuzzer (they call
// libFuzzer's LLVMFuzzerRunDriver), so they exist only when STUNSCOPE_FUZZ is
// set: `scripts/fuzz TARGET SECONDS` builds them into .build-fuzz.
if Context.environment["STUNSCOPE_FUZZ"] != nil {
    package.targets.append(.target(name: "FuzzDriver", path: "Tests/Fuzz/Driver"))
    for name in ["FuzzStun", "FuzzFraming", "FuzzSip", "FuzzPackets", "FuzzCapture"] {
        package.targets.append(.executableTarget(name: name, dependencies: ["FuzzDriver", "FuzzHarness"],
                                                 path: "Tests/Fuzz/Targets/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}

// TestSupport: what the unit tests, the fuzz harness and stunscope-synth share
// (SplitMix64 for reproducible randomness, packet builders).
package.targets.append(.target(name: "TestSupport", dependencies: ["NetworkVocabulary"], path: "Tests/TestSupport"))
for target in package.targets
where ["PacketDecodingTests", "StunWireTests", "SipWireTests", "WireEventsTests", "ReconstructionTests", "RenderersTests", "FuzzHarness"]
    .contains(target.name) {
    target.dependencies.append("TestSupport")
}

// stunscope-synth: a developer tool that generates benchmark captures from the
// real ones in captures/ (scripts/bench, docs/PERFORMANCE.md), built on the
// library's reader, STUN views and writer, and checksums.
package.products.append(.executable(name: "stunscope-synth", targets: ["stunscope-synth"]))
package.targets.append(.executableTarget(name: "stunscope-synth", dependencies: [
    "NetworkVocabulary", "CaptureSource", "PacketDecoding", "StunWire", "TestSupport",
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
]))

// Release builds skip Swift's run-time exclusivity checks: they cost about 7 % of an
// `analyze` run (callgrind) and catch a programming error, not hostile input. Every debug
// build keeps them (unit and integration tests, floods, the libFuzzer targets), and bounds
// and overflow checks stay on in release (`-O`, never `-Ounchecked`). docs/SECURITY.md.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
