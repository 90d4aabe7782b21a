// swift-tools-version:6.0
import PackageDescription

// One target per pipeline stage; each knows only the stage before it:
// CaptureSource -> PacketDecoding -> StunWire/SipWire -> WireEvents
//   -> Reconstruction -> Renderers, wired together by the `stunscope` CLI.
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
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "CaptureSource", dependencies: ["CPcap"]),
        .target(name: "PacketDecoding", dependencies: ["CaptureSource"]),
        .target(name: "StunWire", dependencies: [
            "PacketDecoding",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "SipWire", dependencies: ["PacketDecoding"]),
        .target(name: "WireEvents", dependencies: ["StunWire", "SipWire"]),
        .target(name: "Reconstruction", dependencies: ["WireEvents", "SipWire"]),
        .target(name: "Renderers", dependencies: [
            "Reconstruction",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Wires the stages for every command, the golden tests and the fuzz harness:
        // capture files -> decoder -> dissector -> reconstructor, or -> message lines.
        .target(name: "Pipeline", dependencies: [
            "CaptureSource", "PacketDecoding", "StunWire", "SipWire", "WireEvents", "Reconstruction", "Renderers",
        ]),
        // Live capture: the capture loop (LiveAnalysis) on the Pipeline's stages, bounded packet
        // queue, Prometheus metrics and their HTTP endpoint.
        .target(name: "LiveMonitoring", dependencies: [
            "CaptureSource", "PacketDecoding", "StunWire", "WireEvents", "Reconstruction", "Pipeline",
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(name: "stunscope", dependencies: [
            "CaptureSource", "PacketDecoding", "StunWire", "SipWire", "WireEvents",
            "Reconstruction", "Renderers", "LiveMonitoring", "Pipeline",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "CaptureSourceTests", dependencies: ["CaptureSource"]),
        .testTarget(name: "PacketDecodingTests", dependencies: ["PacketDecoding"]),
        .testTarget(name: "StunWireTests", dependencies: ["StunWire"]),
        .testTarget(name: "SipWireTests", dependencies: ["SipWire"]),
        .testTarget(name: "WireEventsTests", dependencies: ["WireEvents"]),
        .testTarget(name: "CLITests", dependencies: []),
        .testTarget(name: "RenderersTests", dependencies: ["Renderers", "Reconstruction"]),
        .testTarget(name: "ReconstructionTests", dependencies: ["Pipeline", "Reconstruction", "Renderers", "LiveMonitoring", "StunWire"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v5]
)

// Hardening (docs/SECURITY.md). FuzzHarness holds the bodies of the libFuzzer
// targets; FuzzRegressionTests runs the committed corpora and crash
// reproducers through them in every `swift test`.
package.targets += [
    .target(name: "FuzzHarness", dependencies: [
        "CaptureSource", "PacketDecoding", "StunWire", "SipWire", "WireEvents", "Reconstruction", "Renderers",
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
