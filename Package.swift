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
/// around each fault, so scattered hot code costs resident memory (the benchmark reports a call's
/// peak). Tests/benchmark/link-order.sh regenerates the list; it builds with
/// MULTUS_LINK_MAP=<file>, which keeps the symbols and writes a link map instead.
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
        // C: libc entry points Glibc's Swift module does not expose (they need _GNU_SOURCE), and
        // Debian's libraries, linked statically into the release binary.
        .target(name: "CShims"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),

        // The only module that imports Glibc, so that every other module reads as what it does:
        // Errno and one EINTR policy; descriptors, files and atomic replacement; processes;
        // sockets and poll; netlink and namespaces; threads; clocks; signals; the process boundary.
        .target(name: "System", dependencies: ["CShims"], swiftSettings: strict),
        // The CNI specification as types, and no libc: versions, configs, results, errors, the
        // environment, and the encodings the spec's tools use (JSON, Go's base64 of []byte).
        .target(name: "CNI", swiftSettings: strict),

        // Stacks that know nothing of Kubernetes. DNS: names resolved without NSS (a static
        // binary cannot load the host's), from /etc/hosts, resolv.conf and nameservers.
        .target(name: "DNS", dependencies: ["System"], swiftSettings: strict),
        // HTTPS: HTTP/1.1 over OpenSSL, kept-alive, TLS sessions resumed across invocations,
        // answers read within limits and one deadline. CNI for Echo, how a message quotes input.
        .target(name: "HTTPS", dependencies: ["CNI", "COpenSSL", "DNS", "System"], swiftSettings: strict),
        // YAML: documents as nodes (libyaml), within limits a hostile document cannot pass.
        .target(name: "YAML", dependencies: ["CYAML"], swiftSettings: strict),
        // The kubelet's pod-resources API: protobuf messages, gRPC over HTTP/2 (nghttp2) on its
        // unix socket.
        .target(name: "PodResources", dependencies: ["CNGHTTP2", "CNI", "System"], swiftSettings: strict),

        // Exec'ing plugin binaries (the seam unit tests fake) and the libcni semantics of running
        // one delegate.
        .target(name: "CNIExec", dependencies: ["CNI", "System"], swiftSettings: strict),
        // Kubernetes: kubeconfig, the API seam and the live client, the objects we read and write.
        .target(name: "KubeClient", dependencies: ["CNI", "DNS", "HTTPS", "System", "YAML"], swiftSettings: strict),
        // The log file: Multus's keys and line format, rotation safe across processes, redaction.
        .target(name: "Logging", dependencies: ["CNI", "CZlib", "System"], swiftSettings: strict),
        // The meta-plugin: config, delegate resolution, ADD/DEL/CHECK/STATUS/GC, result merge,
        // cache, devices, what it changes inside the pod. HTTPS for the TLS session cache's place.
        .target(name: "MetaPlugin", dependencies: ["CNI", "CNIExec", "HTTPS", "KubeClient", "Logging", "PodResources", "System"],
                swiftSettings: strict),
        // `multus install`: the DaemonSet entrypoint that puts the binary, kubeconfig and config
        // on the node and keeps them current. It writes a kubeconfig (HTTPS's ServerAddress, YAML's quoting).
        .target(name: "Installer", dependencies: ["CNI", "HTTPS", "KubeClient", "System", "YAML"], swiftSettings: strict),
        // `multus doctor`: the node's setup checked read-only, on MetaPlugin's own config reading.
        .target(name: "Doctor", dependencies: ["CNI", "CNIExec", "HTTPS", "KubeClient", "Logging", "MetaPlugin", "PodResources", "System"],
                swiftSettings: strict),
        // main.swift: the only code that reads environ and stdin, prints, and exits (through
        // System); HTTPS and YAML for the library versions --version prints.
        .executableTarget(
            name: "multus",
            dependencies: ["CNI", "CNIExec", "Doctor", "HTTPS", "Installer", "Logging", "MetaPlugin", "System", "YAML"],
            exclude: ["link-order.txt"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(releaseLinkFlags, .when(configuration: .release))]
        ),

        // Fuzzing every input entry point (Tests/scripts/fuzz.sh); otherwise a replay tool for saved inputs.
        .executableTarget(name: "multus-fuzz",
                          dependencies: ["CNI", "CNIExec", "Doctor", "HTTPS", "Installer", "KubeClient", "Logging", "MetaPlugin", "PodResources",
                                         "System", "YAML"],
                          path: "Tests/Fuzz", swiftSettings: strict),
        // Times the pod-resources call (Tests/benchmark/podresources.sh); not part of the test suite.
        .executableTarget(name: "podresources-bench", dependencies: ["CNI", "PodResources"], path: "Tests/benchmark/podresources", swiftSettings: strict),
        // Times redaction and NAD parsing of 1 MB inputs (Tests/benchmark/inputs.sh); not part of the test suite.
        .executableTarget(name: "inputs-bench", dependencies: ["CNI", "KubeClient", "Logging"], path: "Tests/benchmark/inputs", swiftSettings: strict),

        // Fixtures every test target shares (testdata/, temporary directories, child processes,
        // the test API server, canned outputs).
        .target(name: "TestSupport", dependencies: ["CNI", "CNIExec", "CShims", "KubeClient", "System", "YAML"], path: "Tests/TestSupport",
                swiftSettings: strict),
        // One test target per module; `multus` where the tests run the built binary.
        .testTarget(name: "SystemTests", dependencies: ["System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CNITests", dependencies: ["CNI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "DNSTests", dependencies: ["DNS", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "HTTPSTests", dependencies: ["CNI", "DNS", "HTTPS"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PodResourcesTests", dependencies: ["CNI", "PodResources", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CNIExecTests", dependencies: ["CNI", "CNIExec", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "KubeClientTests", dependencies: ["CNI", "DNS", "HTTPS", "KubeClient", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LoggingTests", dependencies: ["CNI", "CZlib", "Logging", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "MetaPluginTests",
                    dependencies: ["CNI", "CNIExec", "KubeClient", "Logging", "MetaPlugin", "PodResources", "System", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "DoctorTests",
                    dependencies: ["CNI", "CNIExec", "Doctor", "KubeClient", "MetaPlugin", "System", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "InstallerTests",
                    dependencies: ["CNI", "HTTPS", "Installer", "KubeClient", "MetaPlugin", "multus", "TestSupport", "YAML"],
                    swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["CNI", "CNIExec", "KubeClient", "MetaPlugin", "multus", "TestSupport"],
                    swiftSettings: strict),
    ]
)
