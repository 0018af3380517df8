// swift-tools-version:6.0
import PackageDescription

/// Strict settings for every module: Swift 6 mode plus the upcoming features STYLE.md asks for.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Release linking. Everything is linked in (the binary is copied onto arbitrary hosts) and symbols
/// and debug info are dropped (the runtime needs neither). lld places the code one CNI call runs,
/// listed in link-order.txt, side by side: the kernel maps a binary's pages up to 64 KB at a time
/// around each fault, so scattered hot code costs resident memory (a Kubernetes ADD peaked at
/// 10.2 MB before, about 7 MB after). Tests/benchmark/link-order.sh regenerates the list; it builds
/// with MULTUS_LINK_MAP=<file>, which keeps the symbols and writes a link map instead.
let releaseLinkFlags: [String] = {
    var flags = ["-static-executable", "-use-ld=lld"]
    if let map = Context.environment["MULTUS_LINK_MAP"] {
        flags += ["-Xlinker", "-Map=\(map)"]
    } else {
        flags += ["-Xlinker", "-s"]
    }
    flags += ["-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/multus/link-order.txt",
              // The list outlives the code it was made from; a name that has gone is no error.
              "-Xlinker", "--no-warn-symbol-ordering"]
    return flags
}()

let package = Package(
    name: "swift-multus",
    products: [
        .executable(name: "multus", targets: ["multus"]),
    ],
    targets: [
        // The CNI specification as types: versions, configs, results, errors, the environment.
        .target(name: "CNI", swiftSettings: strict),
        // Exec'ing plugin binaries and the libcni semantics of running one delegate.
        .target(name: "CNIExec", dependencies: ["CNI", "System"], swiftSettings: strict),
        // libc calls that need _GNU_SOURCE.
        .target(name: "CShims"),
        // The only module that imports Glibc: errno and the EINTR policy, descriptors and files,
        // processes, sockets and poll, netlink, namespaces, threads, clocks, the process boundary.
        .target(name: "System", dependencies: ["CShims"], swiftSettings: strict),
        // Debian's C libraries, linked statically into the release binary.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Name resolution without NSS: /etc/hosts, resolv.conf, and DNS over System's sockets.
        .target(name: "DNS", dependencies: ["System"], swiftSettings: strict),
        // HTTP/1.1 over TLS (OpenSSL) on System's sockets: kept-alive connections, sessions resumed
        // across invocations, responses read within limits and one deadline.
        .target(name: "HTTPS", dependencies: ["CNI", "COpenSSL", "DNS", "System"], swiftSettings: strict),
        // YAML documents as nodes (libyaml), within limits a hostile document cannot pass: kubeconfigs.
        .target(name: "YAML", dependencies: ["CYAML"], swiftSettings: strict),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The log file: Multus's keys and line format, rotation safe across processes, redaction.
        .target(name: "Logging", dependencies: ["CNI", "CZlib", "System"], swiftSettings: strict),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        // Talking to Kubernetes: kubeconfig (YAML), HTTPS (OpenSSL), the objects we read and write.
        .target(name: "KubeClient", dependencies: ["CNI", "DNS", "HTTPS", "System", "YAML"], swiftSettings: strict),
        // The kubelet's pod-resources API: protobuf messages, gRPC over HTTP/2 (nghttp2) on its unix socket.
        .target(name: "PodResources", dependencies: ["CNGHTTP2", "System"], swiftSettings: strict),
        // The meta-plugin: config, delegate resolution, ADD/DEL/CHECK, result merge, cache.
        .target(name: "MetaPlugin", dependencies: ["CNI", "CNIExec", "HTTPS", "KubeClient", "Logging", "PodResources", "System"], swiftSettings: strict),
        // `multus install`: the DaemonSet entrypoint that puts the binary, kubeconfig and config on the node.
        .target(name: "Installer", dependencies: ["CNI", "HTTPS", "KubeClient", "System", "YAML"], swiftSettings: strict),
        // The only code that touches the process: environ, stdin, stdout, exit.
        .executableTarget(
            name: "multus",
            dependencies: ["CNI", "CNIExec", "HTTPS", "Installer", "Logging", "MetaPlugin", "System", "YAML"],
            exclude: ["link-order.txt"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(releaseLinkFlags, .when(configuration: .release))]
        ),
        // Fuzzing every input entry point (Tests/scripts/fuzz.sh); otherwise a replay tool for saved inputs.
        .executableTarget(name: "multus-fuzz", dependencies: ["HTTPS", "MetaPlugin", "KubeClient", "Installer", "Logging", "PodResources", "System", "YAML"], path: "Tests/Fuzz", swiftSettings: strict),
        // Times the pod-resources call (Tests/benchmark/podresources.sh); not part of the test suite.
        .executableTarget(name: "podresources-bench", dependencies: ["PodResources"], path: "Tests/benchmark/podresources", swiftSettings: strict),
        // Times redaction and NAD parsing of 1 MB inputs (Tests/benchmark/inputs.sh); not part of the test suite.
        .executableTarget(name: "inputs-bench", dependencies: ["CNI", "KubeClient", "Logging"], path: "Tests/benchmark/inputs", swiftSettings: strict),
        // Fixtures every test target shares (testdata/, temporary directories, canned outputs).
        .target(name: "TestSupport", dependencies: ["CNI", "CNIExec", "HTTPS", "KubeClient", "System", "YAML"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "SystemTests", dependencies: ["System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CNITests", dependencies: ["CNI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CNIExecTests", dependencies: ["CNIExec", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "KubeClientTests", dependencies: ["DNS", "HTTPS", "KubeClient", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PodResourcesTests", dependencies: ["PodResources", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "MetaPluginTests", dependencies: ["MetaPlugin", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "DNSTests", dependencies: ["DNS", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTPSTests", dependencies: ["HTTPS", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "InstallerTests", dependencies: ["HTTPS", "Installer", "MetaPlugin", "multus", "TestSupport", "YAML"], swiftSettings: strict),
        .testTarget(name: "LoggingTests", dependencies: ["Logging", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["MetaPlugin", "multus", "PodResources", "TestSupport"], swiftSettings: strict),
    ]
)
