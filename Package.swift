// swift-tools-version:6.0
import PackageDescription

/// Strict settings for every module: Swift 6 mode plus the upcoming features STYLE.md asks for.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-multus",
    products: [
        .executable(name: "multus", targets: ["multus"]),
    ],
    targets: [
        // The CNI specification as types: versions, configs, results, errors, the environment.
        .target(name: "CNI", swiftSettings: strict),
        // Exec'ing plugin binaries and the libcni semantics of running one delegate.
        .target(name: "CNIExec", dependencies: ["CNI", "CShims"], swiftSettings: strict),
        // libc calls that need _GNU_SOURCE.
        .target(name: "CShims"),
        // The meta-plugin: config, delegate resolution, ADD/DEL/CHECK, result merge, cache.
        .target(name: "MetaPlugin", dependencies: ["CNI", "CNIExec"], swiftSettings: strict),
        // The only code that touches the process: environ, stdin, stdout, exit.
        .executableTarget(
            name: "multus",
            dependencies: ["MetaPlugin"],
            swiftSettings: strict,
            // The binary is copied onto arbitrary hosts: release builds link everything in.
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]
        ),
        // Fixtures every test target shares (testdata/, temporary directories, canned outputs).
        .target(name: "TestSupport", dependencies: ["CNI", "CNIExec"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "CNITests", dependencies: ["CNI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CNIExecTests", dependencies: ["CNIExec", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "MetaPluginTests", dependencies: ["MetaPlugin", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["MetaPlugin", "multus", "TestSupport"], swiftSettings: strict),
    ]
)
