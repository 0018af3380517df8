import CNI
import CNIExec
import Synchronization
import TestSupport

/// One delegate process as `FakeExecutor` saw it.
struct FakeCall: Sendable {
    var type: String
    var command: String
    var stdin: JSONValue
    var environment: [String]
    var timeout: Duration

    var config: JSONObject { stdin.objectValue ?? JSONObject() }
    var ifName: String { env("CNI_IFNAME") ?? "" }
    var network: String { config["name"]?.stringValue ?? "" }

    func env(_ name: String) -> String? {
        let prefix = name + "="
        return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// A `PluginExecutor` that runs nothing: it records each call and answers from `script`
/// (by default `FakeExecutor.standard`). `find` validates the type like the real executor.
final class FakeExecutor: PluginExecutor {
    typealias Script = @Sendable (FakeCall) -> ExecOutput

    private let script: Script
    private let recorded = Mutex<[FakeCall]>([])
    /// Plugin types `find` reports as not installed.
    private let missing: Set<String>

    init(script: @escaping Script = FakeExecutor.standard, missing: Set<String> = []) {
        self.script = script
        self.missing = missing
    }

    var calls: [FakeCall] { recorded.withLock { $0 } }
    /// "COMMAND type@ifName" per call, in order: compact to compare.
    var steps: [String] { calls.map { "\($0.command) \($0.type)@\($0.ifName)" } }

    func find(_ type: String, in directories: [String]) throws(ExecError) -> String {
        try ExecError.validatePluginType(type)
        if missing.contains(type) { throw .notFound(type: type, searched: directories) }
        return "/fake/" + type
    }

    func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput {
        var call = FakeCall(type: String(path.dropFirst("/fake/".count)), command: "", stdin: .null, environment: environment, timeout: timeout)
        call.command = call.env("CNI_COMMAND") ?? ""
        call.stdin = (try? JSONValue.parse(stdin)) ?? .string(String(decoding: stdin, as: UTF8.self))
        recorded.withLock { $0.append(call) }
        return script(call)
    }

    /// A well-behaved plugin: ADD of a chained plugin echoes its prevResult; ADD of the first
    /// plugin returns `attachmentResult` for its interface; every other verb succeeds silently.
    @Sendable static func standard(_ call: FakeCall) -> ExecOutput {
        guard call.command == "ADD" else { return .exit(0) }
        if let prev = call.config["prevResult"] { return .ok(prev) }
        return .ok(attachmentResult(version: call.config["cniVersion"]?.stringValue ?? "1.0.0", ifName: call.ifName,
                                    netns: call.env("CNI_NETNS") ?? ""))
    }

    /// `standard`, except that `failing` answers `failure` for `command`.
    static func failing(_ type: String, _ command: String, with failure: ExecOutput) -> Script {
        { call in call.type == type && call.command == command ? failure : standard(call) }
    }
}

/// Network number of an interface: eth0 is 1, net1 is 2, net2 is 3, ...
func networkNumber(_ ifName: String) -> Int {
    ifName.hasPrefix("net") ? (Int(ifName.dropFirst(3)) ?? 0) + 1 : 1
}

/// What the fake plugin attaches on `ifName`, in serializer key order. The main network (eth0)
/// reports a host veth and the pod interface, like bridge; others just the pod interface.
/// Addresses, gateway, route and DNS are all 10.N.0.x, N = `networkNumber(ifName)`.
func attachmentResult(version: String, ifName: String, netns: String) -> JSONValue {
    let n = networkNumber(ifName)
    let main = ifName == "eth0"
    let pod: JSONValue = ["name": .string(ifName), "mac": .string("02:00:00:00:\(n < 10 ? "0" : "")\(n):05"), "sandbox": .string(netns)]
    var ip = JSONObject()
    if let v = SpecVersion(version), v < .v1_0_0 { ip["version"] = "4" }
    ip["interface"] = JSONValue(main ? 1 : 0)
    ip["address"] = .string("10.\(n).0.5/24")
    ip["gateway"] = .string("10.\(n).0.1")
    let route: JSONValue = main ? ["dst": "0.0.0.0/0", "gw": .string("10.\(n).0.1")] : ["dst": .string("10.\(n).0.0/16")]
    return [
        "cniVersion": .string(version),
        "interfaces": main ? [["name": .string("veth\(n)")], pod] : [pod],
        "ips": [.object(ip)],
        "routes": [route],
        "dns": ["nameservers": [.string("10.\(n).0.53")]],
    ]
}

