// The one fake of the exec seam (`PluginExecutor`), for every test target that runs delegates
// without a binary on disk, as libcni's pkg/invoke/fakes does.
import CNI
import CNIExec
import Synchronization

/// One plugin process as `FakeExecutor` saw it.
public struct FakeCall: Sendable {
    public var type: String
    public var command: String
    public var stdin: JSONValue
    public var environment: [String]
    public var timeout: Duration

    /// The plugin's stdin as an object (empty if it was not one).
    public var config: JSONObject { stdin.objectValue ?? JSONObject() }
    public var ifName: String { env("CNI_IFNAME") ?? "" }
    /// The network's name, as injected into the plugin's config.
    public var network: String { config["name"]?.stringValue ?? "" }

    /// The value of environment variable `name`, if it was set.
    public func env(_ name: String) -> String? {
        let prefix = name + "="
        return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// A `PluginExecutor` that runs nothing: it records every `find` and every run, and answers each
/// run from `script` (by default `FakeExecutor.standard`). `find` validates the type as the real
/// executor does and returns "/fake/<type>", or throws `.notFound` for a type in `missing`.
public final class FakeExecutor: PluginExecutor {
    public typealias Script = @Sendable (FakeCall) -> ExecOutput

    private let script: Script
    private let missing: Set<String>
    private let state = Mutex<(finds: [String], calls: [FakeCall])>(([], []))

    /// - Parameter missing: plugin types `find` reports as not installed.
    public init(missing: Set<String> = [], script: @escaping Script = FakeExecutor.standard) {
        self.missing = missing
        self.script = script
    }

    /// Every type `find` was asked for, in order.
    public var finds: [String] { state.withLock { $0.finds } }
    /// Every run, in order.
    public var calls: [FakeCall] { state.withLock { $0.calls } }
    /// "COMMAND type@ifName" per run, in order: compact to compare.
    public var steps: [String] { calls.map { "\($0.command) \($0.type)@\($0.ifName)" } }

    public func find(_ type: String, in directories: [String]) throws(ExecError) -> String {
        state.withLock { $0.finds.append(type) }
        try ExecError.validatePluginType(type)
        if missing.contains(type) { throw .notFound(type: type, searched: directories) }
        return "/fake/" + type
    }

    public func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput {
        var call = FakeCall(type: String(path.dropFirst("/fake/".count)), command: "", stdin: .null, environment: environment, timeout: timeout)
        call.command = call.env("CNI_COMMAND") ?? ""
        call.stdin = (try? JSONValue.parse(stdin)) ?? .string(String(decoding: stdin, as: UTF8.self))
        state.withLock { $0.calls.append(call) }
        return script(call)
    }

    /// A well-behaved plugin: ADD of a chained plugin echoes its prevResult; ADD of the first
    /// plugin returns `attachmentResult` for its interface; every other verb succeeds silently.
    @Sendable public static func standard(_ call: FakeCall) -> ExecOutput {
        guard call.command == "ADD" else { return .exit(0) }
        if let prev = call.config["prevResult"] { return .ok(prev) }
        return .ok(attachmentResult(version: call.config["cniVersion"]?.stringValue ?? "1.0.0", ifName: call.ifName,
                                    netns: call.env("CNI_NETNS") ?? ""))
    }

    /// `standard`, except that `type` answers `failure` for `command`.
    public static func failing(_ type: String, _ command: String, with failure: ExecOutput) -> Script {
        { call in call.type == type && call.command == command ? failure : standard(call) }
    }
}

/// Network number of an interface: eth0 is 1, net1 is 2, net2 is 3, ...
func networkNumber(_ ifName: String) -> Int {
    ifName.hasPrefix("net") ? (Int(ifName.dropFirst(3)) ?? 0) + 1 : 1
}

/// What `FakeExecutor.standard` attaches on `ifName`, in serializer key order. The main network
/// (eth0) reports a host veth and the pod interface, like bridge; others just the pod interface.
/// Addresses, gateway, route and DNS are all 10.N.0.x, N = `networkNumber(ifName)`.
public func attachmentResult(version: String, ifName: String, netns: String) -> JSONValue {
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
