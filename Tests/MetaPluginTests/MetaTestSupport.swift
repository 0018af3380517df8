import CNI
import CNIExec
import Glibc
import KubeClient
import MetaPlugin
import Testing
import TestSupport

/// A per-test directory holding `cni/` (the cniDir, created by the plugin) and `net.d/` (an
/// empty confDir). `remove()` deletes the tree.
struct Sandbox: Sendable {
    let directory: TemporaryDirectory
    var root: String { directory.path }
    var cniDir: String { root + "/cni" }
    var confDir: String { root + "/net.d" }
    func cacheFile(_ containerID: String = "ctr1") -> String { cniDir + "/attachments/\(containerID).json" }

    init() throws {
        directory = try TemporaryDirectory(prefix: "metaplugin-tests")
        try directory.directory("net.d")
    }

    func write(_ path: String, _ text: String) throws { try writeFile(path, Array(text.utf8)) }

    func mkdirs(_ path: String) throws { try makeDirectories(path) }

    func remove() { directory.remove() }
}

/// Sets `path`'s access and modification times `seconds` in the past, as if it had been written
/// then; false if it cannot.
func backdate(_ path: String, seconds: Int) -> Bool {
    var times = [timespec(tv_sec: time(nil) - seconds, tv_nsec: 0), timespec(tv_sec: time(nil) - seconds, tv_nsec: 0)]
    return utimensat(AT_FDCWD, path, &times, 0) == 0
}

/// The text of `path`, or nil if it cannot be read.
func readText(_ path: String) -> String? { readWholeFile(path).map { String(decoding: $0, as: UTF8.self) } }

// MARK: - Configs

/// A single-plugin delegate config.
func delegate(_ name: String, type: String, version: String = "1.0.0", _ extra: [(String, JSONValue)] = []) -> JSONValue {
    var o = JSONObject([("cniVersion", .string(version)), ("name", .string(name)), ("type", .string(type))])
    for (key, value) in extra { o[key] = value }
    return .object(o)
}

/// The multus config of a test: cniDir/confDir in the sandbox, `extra` set last (`.null`
/// where a test wants a key absent is read as absent by the plugin).
func multusConfig(_ box: Sandbox, version: String = "1.0.0", delegates: [JSONValue], _ extra: [(String, JSONValue)] = []) -> JSONValue {
    var o = JSONObject([
        ("cniVersion", .string(version)), ("name", "multus-cni-network"),
        ("cniDir", .string(box.cniDir)), ("confDir", .string(box.confDir)), ("binDir", "/opt/cni/bin"),
    ])
    if !delegates.isEmpty { o["delegates"] = .array(delegates) }
    for (key, value) in extra { o[key] = value }
    return .object(o)
}

/// The three delegates most tests attach: a 1.0.0 conflist as main (bridge with keys only it
/// knows, then portmap), a 0.3.1 macvlan single config, a 1.1.0 ipvlan single config.
let threeDelegates: [JSONValue] = [
    try! JSONValue.parse(#"""
        {"cniVersion":"1.0.0","name":"net-a","plugins":[
          {"type":"bridge","bridge":"cni0","zeta":{"b":1.50,"a":[1e3,null]},"ipam":{"type":"host-local"}},
          {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false},"snat":true}]}
        """#),
    delegate("net-b", type: "macvlan", version: "0.3.1", [("master", "eth1"), ("capabilities", ["portMappings": true])]),
    delegate("net-c", type: "ipvlan", version: "1.1.0", [("master", "eth2")]),
]

/// Multus's record of `containerID` (one single-config delegate, network net-a of type bridge, as
/// its saveDelegates writes one), plus libcni's cached result of it for interface `ifName`, or no
/// result (`ifName` nil: an ADD Multus never completed, or a result file lost).
func writeMultusRecord(_ box: Sandbox, _ containerID: String, ifName: String?) throws {
    let config = #"{"cniVersion":"1.1.0","name":"net-a","type":"bridge"}"#
    let record: JSONValue = [["Conf": ["cniVersion": "1.1.0", "name": "net-a", "type": "bridge", "ipam": [:], "dns": [:]], "ConfList": [:],
                              "Name": "net-a", "IsFilterV4Gateway": false, "IsFilterV6Gateway": false,
                              "Bytes": .string(Base64.encode(Array(config.utf8)))]]
    try box.mkdirs(box.cniDir + "/results")
    try box.write(box.cniDir + "/" + containerID, record.serialized())
    guard let ifName else { return }
    try box.write(box.cniDir + "/results/net-a-\(containerID)-\(ifName)",
                  #"{"kind":"cniCacheV1","containerId":"\#(containerID)","ifName":"\#(ifName)","networkName":"net-a","result":{"cniVersion":"1.1.0","interfaces":[{"name":"\#(ifName)","sandbox":"/ns"}]}}"#)
}

// MARK: - Running the plugin

/// What one run printed, read back.
struct Reply {
    var outcome: PluginOutcome
    var exitCode: Int32 { outcome.exitCode }
    var json: JSONValue? { try? JSONValue.parse(outcome.stdout) }
    var error: CNIError? { json.flatMap(CNIError.init(json:)) }
}

let baseEnvironment = [
    "CNI_CONTAINERID": "ctr1", "CNI_NETNS": "/proc/self/ns/net", "CNI_IFNAME": "eth0",
    "CNI_PATH": "/opt/cni/bin:/usr/libexec/cni", "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
    "PATH": "/usr/bin:/bin",
]

/// Runs `command` with `stdin`; `env` overrides (nil removes) variables of `baseEnvironment`.
func run(_ command: String, _ stdin: JSONValue, executor: FakeExecutor, env: [String: String?] = [:]) -> Reply {
    run(command, bytes: stdin.serializedBytes(), executor: executor, env: env)
}

func run(_ command: String, bytes stdin: [UInt8], executor: FakeExecutor, env: [String: String?] = [:]) -> Reply {
    var environment = baseEnvironment
    environment["CNI_COMMAND"] = command
    for (key, value) in env { environment[key] = value }
    return Reply(outcome: MultusPlugin(executor: executor).run(environment: environment, stdin: stdin))
}

/// Records an issue unless `reply` is a failure with `code` whose msg contains every fragment.
func expectFailure(_ reply: Reply, code: Int, msgContains fragments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.exitCode == 1, "stdout: \(reply.outcome.stdout)", sourceLocation: sourceLocation)
    guard let error = reply.error else {
        Issue.record("stdout is not a CNI error: \(reply.outcome.stdout)", sourceLocation: sourceLocation)
        return
    }
    #expect(error.code.rawValue == code, "\(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.msg.contains(fragment), "msg \"\(error.msg)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
    }
}

/// Records an issue unless `reply` succeeded.
func expectSuccess(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.exitCode == 0, "stdout: \(reply.outcome.stdout)", sourceLocation: sourceLocation)
}
