import CNI
import CNIExec
import Doctor
import Glibc
import KubeClient
import System
import TestSupport

/// A node for the doctor: a conf dir with a multus config, a cniDir, and the seams (fake
/// plugins by default; the test API server when a test gives one).
struct DoctorNode {
    let directory: TemporaryDirectory
    var root: String { directory.path }
    var confDir: String { root + "/net.d" }
    var cniDir: String { root + "/cni" }
    var binDir: String { root + "/bin" }

    init() throws {
        directory = try TemporaryDirectory(prefix: "doctor-tests")
        try directory.directory("net.d")
        try directory.directory("cni", mode: 0o700)
        try directory.directory("bin")
    }

    func remove() { directory.remove() }

    /// The multus config, 00-multus.conf, with `delegates` and `extra` keys.
    @discardableResult
    func writeConfig(delegates: [JSONValue] = [Self.bridge()], _ extra: [(String, JSONValue)] = [], file: String = "00-multus.conf") throws -> String {
        var o = JSONObject([("cniVersion", "1.0.0"), ("name", "multus-cni-network"), ("type", "multus"),
                            ("cniDir", .string(cniDir)), ("confDir", .string(confDir)), ("binDir", .string(binDir))])
        o["delegates"] = .array(delegates)
        for (key, value) in extra { o[key] = value }
        return try writeFile(confDir + "/" + file, JSONValue.object(o).serializedBytes())
    }

    static func bridge(version: String = "1.0.0") -> JSONValue {
        ["cniVersion": .string(version), "name": "main", "type": "bridge"]
    }

    /// Plugins that answer VERSION with every version, except those `versions` narrows.
    static func executor(missing: Set<String> = [], versions: [String: [String]] = [:]) -> FakeExecutor {
        FakeExecutor(missing: missing) { call in
            guard call.command == "VERSION" else { return .exit(0) }
            let supported = versions[call.type] ?? SpecVersion.all.map(\.description)
            return .ok(["cniVersion": "1.1.0", "supportedVersions": .array(supported.map(JSONValue.string))])
        }
    }

    func seams(executor: FakeExecutor = DoctorNode.executor(), deadline: Duration = .seconds(1),
               connect: (@Sendable (Kubeconfig) -> any ClusterDiagnostics & DRADiagnostics)? = nil) -> DoctorSeams {
        DoctorSeams(executor: executor,
                    connect: connect ?? { LiveKubeAPI(kubeconfig: $0, callTimeout: deadline, budget: deadline, attempts: 1) },
                    podResourcesSocket: root + "/kubelet.sock", deadline: deadline)
    }

    func run(executor: FakeExecutor = DoctorNode.executor(), namespace: Namespace? = nil, deadline: Duration = .seconds(1)) -> [Check] {
        var options = DoctorOptions()
        options.confDir = confDir
        options.namespace = namespace
        return Doctor(options: options, seams: seams(executor: executor, deadline: deadline)).run()
    }
}

extension [Check] {
    subscript(named name: String) -> Check? { first { $0.name == name } }
}
