import CNI
import CNIExec
import Testing
import TestSupport

private func network(_ text: String) throws -> NetworkConfigList {
    try NetworkConfigList(json: JSONValue.parse(text))
}

/// A conflist of plugins "p1", "p2", ... in `version`; `extra` is spliced into the list object.
private func list(_ version: SpecVersion, plugins: Int = 3, extra: String = "") throws -> NetworkConfigList {
    let entries = (1...plugins).map { #"{"type":"p\#($0)"}"# }.joined(separator: ",")
    return try network(#"{"cniVersion":"\#(version)","name":"pod-net"\#(extra),"plugins":[\#(entries)]}"#)
}

/// A one-interface, one-address result in `version`'s layout, as a plugin would print it.
private func fakeResult(_ version: String, ifName: String, address: String) -> JSONValue {
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

private func object(_ text: String) throws -> JSONObject {
    try #require(JSONValue.parse(text).objectValue)
}

private let cachedResult = try! CNIResult(json: fakeResult("1.1.0", ifName: "eth0", address: "10.1.0.5/24"), fallbackVersion: .latest)

private let rt = RuntimeConf(containerID: .make("ctr1"), netns: "/var/run/netns/test", ifName: .make("eth0"),
                             args: CNIArgs([("K8S_POD_NAME", "web-0"), ("IgnoreUnknown", "1")]),
                             pluginDirectories: ["/opt/cni/bin", "/usr/libexec/cni"], passthroughEnvironment: ["PATH=/usr/bin:/bin"])

@Suite("Injection")
struct InjectionTests {
    @Test func injectsListNameAndVersionAndKeepsUnknownKeysVerbatimInOrder() throws {
        let net = try network(#"""
            {"cniVersion":"1.0.0","name":"pod-net","plugins":[
              {"type":"bridge","cniVersion":"0.3.1","zeta":{"b":1.50,"a":[1e3,null]},"alpha":"x","name":"own"}]}
            """#)
        let config = Injection.pluginConfig(net.plugins[0], of: net, prevResult: nil, capabilityArgs: JSONObject())
        #expect(JSONValue.object(config).serialized()
            == #"{"type":"bridge","cniVersion":"1.0.0","zeta":{"b":1.50,"a":[1e3,null]},"alpha":"x","name":"pod-net"}"#)
    }

    static let offered = #"{"portMappings":[{"hostPort":8080,"containerPort":80}],"bandwidth":{"ingressRate":1},"ips":["10.0.0.9/24"]}"#

    @Test(arguments: [
        (#"{"portMappings":true,"bandwidth":false}"#, #"{"portMappings":[{"hostPort":8080,"containerPort":80}]}"#),
        (#"{"ips":true,"portMappings":true}"#, #"{"portMappings":[{"hostPort":8080,"containerPort":80}],"ips":["10.0.0.9/24"]}"#),
        (#"{"bandwidth":false}"#, nil),
        (#"{"mac":true}"#, nil),
        (#"{}"#, nil),
    ] as [(String, String?)])
    func runtimeConfigHoldsOnlyDeclaredCapabilities(capabilities: String, expected: String?) throws {
        let net = try network(#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"portmap","capabilities":\#(capabilities)}]}"#)
        let config = Injection.pluginConfig(net.plugins[0], of: net, prevResult: nil, capabilityArgs: try object(Self.offered))
        #expect(config["runtimeConfig"] == (try expected.map { try JSONValue.parse($0) }))
    }

    @Test(arguments: SpecVersion.all)
    func prevResultIsConvertedToTheListVersionFrom030(_ version: SpecVersion) throws {
        let net = try list(version, plugins: 2)
        let first = Injection.pluginConfig(net.plugins[0], of: net, prevResult: nil, capabilityArgs: JSONObject())
        let second = Injection.pluginConfig(net.plugins[1], of: net, prevResult: cachedResult, capabilityArgs: JSONObject())
        #expect(first["prevResult"] == nil)
        if version >= .v0_3_0 {
            #expect(second["prevResult"] == (try cachedResult.converted(to: version)).json)
            #expect(second["prevResult"]?.objectValue?["cniVersion"] == .string(version.description))
        } else {
            #expect(second["prevResult"] == nil)
        }
    }

    @Test func mergingCNIArgsMergesIntoExistingArgsCNI() throws {
        let config = try object(#"{"type":"x","args":{"cni":{"a":"1","b":"2"},"other":true}}"#)
        let merged = Injection.mergingCNIArgs(try object(#"{"b":"3","c":["4"]}"#), into: config)
        #expect(JSONValue.object(merged).serialized() == #"{"type":"x","args":{"cni":{"a":"1","b":"3","c":["4"]},"other":true}}"#)
    }

    @Test func mergingCNIArgsCreatesArgsAndIgnoresNothingToMerge() throws {
        let config = try object(#"{"type":"x"}"#)
        #expect(JSONValue.object(Injection.mergingCNIArgs(try object(#"{"k":"v"}"#), into: config)).serialized()
            == #"{"type":"x","args":{"cni":{"k":"v"}}}"#)
        #expect(Injection.mergingCNIArgs(JSONObject(), into: config) == config)
    }
}

@Suite("DelegateRunner")
struct DelegateRunnerTests {
    /// p1 prints a 1.0.0 result, p2 a 1.1.0 one, p3 a 0.4.0 one, whatever the list's version.
    static let outputs: [String: JSONValue] = [
        "p1": fakeResult("1.0.0", ifName: "eth1", address: "10.1.0.5/24"),
        "p2": fakeResult("1.1.0", ifName: "eth2", address: "10.2.0.5/24"),
        "p3": fakeResult("0.4.0", ifName: "eth3", address: "10.3.0.5/24"),
    ]

    static func parsed(_ type: String, as version: SpecVersion) throws -> CNIResult {
        try CNIResult(json: outputs[type]!, fallbackVersion: .latest).converted(to: version)
    }

    @Test(arguments: SpecVersion.all)
    func addThreadsEachResultIntoTheNextAndReturnsTheLastInListVersion(_ version: SpecVersion) throws {
        let executor = FakeExecutor { .ok(Self.outputs[$0.type]!) }
        let result = try DelegateRunner(executor: executor).add(try list(version), rt)

        #expect(executor.steps == ["ADD p1@eth0", "ADD p2@eth0", "ADD p3@eth0"])
        let prev = executor.calls.map { $0.config["prevResult"] }
        #expect(prev[0] == nil)
        #expect(prev[1] == (version >= .v0_3_0 ? Optional(try Self.parsed("p1", as: version).json) : .none))
        #expect(prev[2] == (version >= .v0_3_0 ? Optional(try Self.parsed("p2", as: version).json) : .none))
        #expect(result == (try Self.parsed("p3", as: version)))
        #expect(result.cniVersion == version)
        #expect(executor.calls.allSatisfy { $0.config["cniVersion"] == .string(version.description) && $0.config["name"] == "pod-net" })
    }

    @Test func aZeroFourResultInAOneZeroListIsConverted() throws {
        let executor = FakeExecutor { _ in .ok(fakeResult("0.4.0", ifName: "eth0", address: "10.9.0.5/24")) }
        let result = try DelegateRunner(executor: executor).add(try list(.v1_0_0, plugins: 1), rt)
        #expect(result.cniVersion == .v1_0_0)
        #expect(result.serialized()
            == #"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/test"}],"ips":[{"interface":0,"address":"10.9.0.5/24"}],"dns":{"nameservers":["10.0.0.53"]}}"#)
    }

    @Test(arguments: SpecVersion.all)
    func delRunsInReverseWithTheCachedResultFrom040(_ version: SpecVersion) throws {
        let executor = FakeExecutor()
        try DelegateRunner(executor: executor).del(try list(version), rt, cachedResult: cachedResult)
        #expect(executor.steps == ["DEL p3@eth0", "DEL p2@eth0", "DEL p1@eth0"])
        let expected = version >= .v0_4_0 ? Optional(try cachedResult.converted(to: version).json) : .none
        #expect(executor.calls.allSatisfy { $0.config["prevResult"] == expected })
    }

    @Test func delWithoutACachedResultInjectsNoPrevResult() throws {
        let executor = FakeExecutor()
        try DelegateRunner(executor: executor).del(try list(.v1_0_0), rt, cachedResult: nil)
        #expect(executor.steps == ["DEL p3@eth0", "DEL p2@eth0", "DEL p1@eth0"])
        #expect(executor.calls.allSatisfy { $0.config["prevResult"] == nil })
    }

    @Test(arguments: SpecVersion.all)
    func checkRunsInOrderWithPrevResultFrom040(_ version: SpecVersion) throws {
        let executor = FakeExecutor()
        try DelegateRunner(executor: executor).check(try list(version), rt, cachedResult: cachedResult)
        if version >= .v0_4_0 {
            #expect(executor.steps == ["CHECK p1@eth0", "CHECK p2@eth0", "CHECK p3@eth0"])
            let expected = try cachedResult.converted(to: version).json
            #expect(executor.calls.allSatisfy { $0.config["prevResult"] == expected })
        } else {
            #expect(executor.steps.isEmpty)
        }
    }

    @Test(arguments: [#","disableCheck":true"#, #","disableCheck":"true""#])
    func checkIsSkippedWithDisableCheck(_ flag: String) throws {
        let executor = FakeExecutor()
        try DelegateRunner(executor: executor).check(try list(.v1_1_0, extra: flag), rt, cachedResult: cachedResult)
        #expect(executor.steps.isEmpty)
    }

    @Test(arguments: SpecVersion.all)
    func statusRunsEachPluginFrom110WithoutContainerOrRuntimeConfig(_ version: SpecVersion) throws {
        let executor = FakeExecutor()
        let net = try network(#"{"cniVersion":"\#(version)","name":"n","plugins":[{"type":"p1"},{"type":"p2","capabilities":{"portMappings":true}}]}"#)
        var conf = rt
        conf.capabilityArgs = try object(#"{"portMappings":[]}"#)
        try DelegateRunner(executor: executor).status(net, conf)
        #expect(executor.steps == (version >= .v1_1_0 ? ["STATUS p1@", "STATUS p2@"] : []))
        #expect(executor.calls.allSatisfy { $0.config["runtimeConfig"] == nil && $0.config["prevResult"] == nil })
    }

    @Test(arguments: SpecVersion.all)
    func gcInjectsValidAttachmentsFrom110(_ version: SpecVersion) throws {
        let executor = FakeExecutor()
        let valid: [JSONValue] = [["containerID": "ctr1", "ifname": "eth0"]]
        try DelegateRunner(executor: executor).gc(try list(version, plugins: 2), RuntimeConf(), validAttachments: valid)
        #expect(executor.steps == (version >= .v1_1_0 ? ["GC p1@", "GC p2@"] : []))
        #expect(executor.calls.allSatisfy { $0.config["cni.dev/valid-attachments"] == .array(valid) })
    }

    @Test func gcIsSkippedWithDisableGC() throws {
        let executor = FakeExecutor()
        try DelegateRunner(executor: executor).gc(try list(.v1_1_0, extra: #","disableGC":true"#), RuntimeConf(), validAttachments: [])
        #expect(executor.steps.isEmpty)
    }
}

/// A `DelegateError` as a comparable value (its memberwise initializer is internal).
struct RecordedFailure: Equatable {
    var command: CNICommand
    var plugin: String
    var failure: DelegateError.Failure

    init(command: CNICommand, plugin: String, failure: DelegateError.Failure) {
        self.command = command
        self.plugin = plugin
        self.failure = failure
    }

    init(_ error: DelegateError) { self.init(command: error.command, plugin: error.plugin, failure: error.failure) }
}

/// How `body` failed, or nil when it did not.
private func failure(_ body: () throws -> some Any) -> RecordedFailure? {
    do {
        _ = try body()
        return nil
    } catch let error as DelegateError {
        return RecordedFailure(error)
    } catch {
        Issue.record("not a DelegateError: \(error)")
        return nil
    }
}

@Suite("DelegateRunner errors")
struct DelegateRunnerErrorTests {
    static func addFailure(_ script: @escaping FakeExecutor.Script, types: [String] = ["p1", "p2", "p3"],
                           missing: Set<String> = []) throws -> (DelegateError?, FakeExecutor) {
        let executor = FakeExecutor(missing: missing, script: script)
        let plugins = types.map { #"{"type":"\#($0)"}"# }.joined(separator: ",")
        let net = try network(#"{"cniVersion":"1.0.0","name":"pod-net","plugins":[\#(plugins)]}"#)
        do {
            _ = try DelegateRunner(executor: executor).add(net, rt)
            return (nil, executor)
        } catch {
            return (error, executor)
        }
    }

    @Test func aPluginsCNIErrorPassesThroughUnchangedAndStopsTheList() throws {
        let (error, executor) = try Self.addFailure(FakeExecutor.failing("p2", "ADD", with: .cniError(117, "no free VF", details: "pool sriov-a empty")))
        #expect(error.map(RecordedFailure.init) == RecordedFailure(command: .add, plugin: "p2", failure: .plugin(CNIError(.init(rawValue: 117), "no free VF", details: "pool sriov-a empty"))))
        #expect(executor.steps == ["ADD p1@eth0", "ADD p2@eth0"])
    }

    @Test(arguments: [
        (ExecOutput.exit(1, stdout: "panic: runtime error", stderr: "  goroutine 1 [running]\n"), "goroutine 1 [running]"),
        (ExecOutput.exit(2, stdout: "not a cni error"), "not a cni error"),
        (ExecOutput.exit(1, stdout: #"{"msg":"no code"}"#, stderr: "stderr wins"), "stderr wins"),
        (ExecOutput(termination: .signaled(9), stdout: [], stderr: Array("killed".utf8)), "killed"),
    ])
    func aFailureWithoutACNIErrorBecomes999WithTheOutputInDetails(output: ExecOutput, details: String) throws {
        let (error, _) = try Self.addFailure({ _ in output }, types: ["p1"])
        guard case .plugin(let cniError)? = error?.failure else {
            Issue.record("expected a plugin failure, got \(String(describing: error))")
            return
        }
        #expect(cniError.code == .generic)
        #expect(cniError.details == details)
        #expect(error?.plugin == "p1")
    }

    @Test(arguments: ["", "not json", #"{"cniVersion":"1.0.0","ips":[{"address":"banana"}]}"#, #"{"cniVersion":"7.0.0"}"#])
    func anUnreadableResultIsAResultFailure(_ stdout: String) throws {
        let (error, executor) = try Self.addFailure { _ in .exit(0, stdout: stdout) }
        guard case .result? = error?.failure else {
            Issue.record("expected a result failure, got \(String(describing: error))")
            return
        }
        #expect(error?.plugin == "p1" && error?.command == .add)
        #expect(executor.steps == ["ADD p1@eth0"])
    }

    @Test func aResultTheListVersionCannotCarryIsAResultFailure() throws {
        let executor = FakeExecutor { _ in .ok(["cniVersion": "1.0.0", "interfaces": [["name": "eth0"]]]) }
        let net = try list(.v0_2_0, plugins: 1)
        #expect(failure { try DelegateRunner(executor: executor).add(net, rt) } == RecordedFailure(command: .add, plugin: "p1", failure: .result(.unconvertible(
            from: .v1_0_0, to: .v0_2_0, reason: "the result has no IP address, and 0.2.0 results need one in ip4 or ip6"))))
    }

    @Test(arguments: ["../x", "..", ".", "sub/dir"])
    func aTypeThatIsAPathIsRejectedBeforeAnythingRuns(_ type: String) throws {
        let (error, executor) = try Self.addFailure(FakeExecutor.standard, types: ["p1", type])
        #expect(error.map(RecordedFailure.init) == RecordedFailure(command: .add, plugin: type, failure: .exec(.invalidPluginType(type))))
        #expect(executor.steps == ["ADD p1@eth0"])
    }

    @Test func aMissingPluginIsAnExecFailureNamingTheDirectories() throws {
        let (error, executor) = try Self.addFailure(FakeExecutor.standard, types: ["p1", "absent"], missing: ["absent"])
        #expect(error.map(RecordedFailure.init) == RecordedFailure(command: .add, plugin: "absent", failure: .exec(.notFound(type: "absent", searched: rt.pluginDirectories))))
        #expect(executor.steps == ["ADD p1@eth0"])
    }

    @Test func delStopsAtTheFirstFailure() throws {
        let executor = FakeExecutor { $0.type == "p2" ? .cniError(5, "io") : .exit(0) }
        let net = try list(.v1_0_0)
        #expect(failure { try DelegateRunner(executor: executor).del(net, rt, cachedResult: nil) }
            == RecordedFailure(command: .del, plugin: "p2", failure: .plugin(CNIError(.ioFailure, "io"))))
        #expect(executor.steps == ["DEL p3@eth0", "DEL p2@eth0"])
    }
}

@Suite("Delegate environment")
struct DelegateEnvironmentTests {
    static let containerEnvironment = [
        "CNI_CONTAINERID=ctr1", "CNI_NETNS=/var/run/netns/test", "CNI_ARGS=K8S_POD_NAME=web-0;IgnoreUnknown=1", "CNI_IFNAME=eth0",
        "CNI_PATH=/opt/cni/bin:/usr/libexec/cni",
    ]

    @Test(arguments: [CNICommand.add, .del, .check])
    func containerCommandsGetTheRuntimeConfAsEnvironment(_ command: CNICommand) throws {
        let executor = FakeExecutor { _ in .ok(fakeResult("1.0.0", ifName: "eth0", address: "10.1.0.5/24")) }
        let runner = DelegateRunner(executor: executor)
        let net = try list(.v1_0_0, plugins: 1)
        switch command {
        case .add: _ = try runner.add(net, rt)
        case .del: try runner.del(net, rt, cachedResult: nil)
        default: try runner.check(net, rt, cachedResult: cachedResult)
        }
        #expect(executor.calls.map(\.environment) == [["PATH=/usr/bin:/bin", "CNI_COMMAND=\(command.rawValue)"] + Self.containerEnvironment])
        #expect(executor.finds == ["p1"])
    }

    @Test(arguments: [CNICommand.status, .gc])
    func containerlessCommandsGetEmptyContainerVariables(_ command: CNICommand) throws {
        let executor = FakeExecutor()
        let runner = DelegateRunner(executor: executor)
        let net = try list(.v1_1_0, plugins: 1)
        if command == .status { try runner.status(net, rt) } else { try runner.gc(net, rt, validAttachments: []) }
        // As libcni: every CNI_* variable is set, the container's empty, so none of the caller's leaks through.
        let expected = ["PATH=/usr/bin:/bin", "CNI_COMMAND=\(command.rawValue)", "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_ARGS=", "CNI_IFNAME=",
                        "CNI_PATH=/opt/cni/bin:/usr/libexec/cni"]
        #expect(executor.calls.map(\.environment) == [expected])
        #expect(rt.environment(for: command) == expected)
    }

    @Test func emptyValuesAreStillSet() {
        #expect(RuntimeConf().environment(for: .del) == ["CNI_COMMAND=DEL", "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_ARGS=", "CNI_IFNAME=", "CNI_PATH="])
    }

    @Test func theCallersCNIVariablesNeverReachAPlugin() {
        let rt = RuntimeConf(containerID: .make("c"), passthroughEnvironment: ["HTTPS_PROXY=http://proxy:3128", "CNI_CONTAINERID=runtime's", "TRACEPARENT=00-abc-01"])
        #expect(rt.environment(for: .add) == ["HTTPS_PROXY=http://proxy:3128", "TRACEPARENT=00-abc-01", "CNI_COMMAND=ADD", "CNI_CONTAINERID=c",
                                             "CNI_NETNS=", "CNI_ARGS=", "CNI_IFNAME=", "CNI_PATH="])
    }
}
