import CNI
import CNIExec
import Synchronization
import TestSupport

/// One plugin process as `RecordingExecutor` saw it.
struct RecordedCall: Sendable {
    var type: String
    var command: String
    var stdin: JSONValue
    var environment: [String]

    /// The plugin's stdin as an object (empty if it was not one).
    var config: JSONObject { stdin.objectValue ?? JSONObject() }

    /// The value of environment variable `name`, if it was set.
    func env(_ name: String) -> String? {
        let prefix = name + "="
        return environment.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

/// A `PluginExecutor` that runs nothing: it records every call and answers from `script`.
/// `find` validates the type as the real executor does and returns "/fake/<type>", or throws
/// `.notFound` for a type outside `knownTypes` (when given).
final class RecordingExecutor: PluginExecutor {
    typealias Script = @Sendable (RecordedCall) -> ExecOutput

    private let knownTypes: Set<String>?
    private let script: Script
    private let state = Mutex<(finds: [String], calls: [RecordedCall])>(([], []))

    init(knownTypes: Set<String>? = nil, script: @escaping Script = { _ in .exit(0) }) {
        self.knownTypes = knownTypes
        self.script = script
    }

    /// Every type `find` was asked for, in order.
    var finds: [String] { state.withLock { $0.finds } }
    /// Every `run`, in order.
    var calls: [RecordedCall] { state.withLock { $0.calls } }
    /// `(type, CNI_COMMAND)` of every run, in order.
    var steps: [String] { calls.map { "\($0.command) \($0.type)" } }

    func find(_ type: String, in directories: [String]) throws(ExecError) -> String {
        state.withLock { $0.finds.append(type) }
        try ExecError.validatePluginType(type)
        if let knownTypes, !knownTypes.contains(type) { throw .notFound(type: type, searched: directories) }
        return "/fake/" + type
    }

    func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput {
        var call = RecordedCall(type: String(path.dropFirst("/fake/".count)), command: "", stdin: .null, environment: environment)
        call.command = call.env("CNI_COMMAND") ?? ""
        call.stdin = (try? JSONValue.parse(stdin)) ?? .string(String(decoding: stdin, as: UTF8.self))
        state.withLock { $0.calls.append(call) }
        return script(call)
    }
}


/// A one-interface, one-address result in `version`'s layout, as a plugin would print it.
func fakeResult(_ version: String, ifName: String, address: String) -> JSONValue {
    let legacy = SpecVersion(version).map { $0 < .v0_3_0 } ?? false
    if legacy {
        return ["cniVersion": .string(version), "ip4": ["ip": .string(address)], "dns": [:]]
    }
    var ip: JSONValue = ["interface": 0, "address": .string(address)]
    if let v = SpecVersion(version), v < .v1_0_0, case .object(var o) = ip {
        o["version"] = "4"
        ip = .object(o)
    }
    var interface: JSONValue = ["name": .string(ifName), "sandbox": "/var/run/netns/test"]
    if version == "1.1.0", case .object(var o) = interface {
        o["mtu"] = 1450
        interface = .object(o)
    }
    return ["cniVersion": .string(version), "interfaces": [interface], "ips": [ip], "dns": ["nameservers": ["10.0.0.53"]]]
}
