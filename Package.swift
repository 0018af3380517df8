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
        // Debian's C libraries, linked statically into the release binary.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Talking to Kubernetes: kubeconfig (YAML), HTTPS (OpenSSL), the objects we read and write.
        .target(name: "KubeClient", dependencies: ["CNI", "CYAML", "COpenSSL"], swiftSettings: strict),
        // The meta-plugin: config, delegate resolution, ADD/DEL/CHECK, result merge, cache.
        .target(name: "MetaPlugin", dependencies: ["CNI", "CNIExec", "KubeClient", "CShims"], swiftSettings: strict),
        // The only code that touches the process: environ, stdin, stdout, exit.
        .executableTarget(
            name: "multus",
            dependencies: ["MetaPlugin"],
            swiftSettings: strict,
            // The binary is copied onto arbitrary hosts: release builds link everything in, and
            // drop symbols and debug info (21.6 MB -> 14 MB; the runtime needs neither).
            linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "-s"], .when(configuration: .release))]
        ),
        // Fuzzing every input entry point (Tests/scripts/fuzz.sh); otherwise a replay tool for saved inputs.
        .executableTarget(name: "multus-fuzz", dependencies: ["MetaPlugin", "KubeClient"], path: "Tests/Fuzz", swiftSettings: strict),
        // Fixtures every test target shares (testdata/, temporary directories, canned outputs).
        .target(name: "TestSupport", dependencies: ["CNI", "CNIExec", "KubeClient"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "CNITests", dependencies: ["CNI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CNIExecTests", dependencies: ["CNIExec", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "MetaPluginTests", dependencies: ["MetaPlugin", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["MetaPlugin", "multus", "TestSupport"], swiftSettings: strict),
    ]
)
