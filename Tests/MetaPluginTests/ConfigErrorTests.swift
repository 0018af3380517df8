import CNI
import MetaPlugin
import Testing
import TestSupport

/// One bad input, the code it must produce and what the message must name.
struct ConfigErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// The multus config; "$DIR" stands for the sandbox root.
    var stdin: String
    var env: [String: String?] = [:]
    var code: Int
    var msgContains: [String]

    var testDescription: String { name }
}

private let good = #""cniVersion":"1.0.0","cniDir":"$DIR/cni","confDir":"$DIR/net.d""#
private let okDelegate = #"{"cniVersion":"1.0.0","name":"net-a","type":"bridge"}"#

@Suite("Config errors")
struct ConfigErrorTests {
    static let cases: [ConfigErrorCase] = [
        .init(name: "stdin not JSON", stdin: #"{"cniVersion":"1.0.0","delegates":["#, code: 6, msgContains: ["the multus config (stdin)", "invalid JSON"]),
        .init(name: "stdin not an object", stdin: "[]", code: 7, msgContains: ["the multus config (stdin)", "object"]),
        .init(name: "no delegates, no clusterNetwork", stdin: "{\(good)}", code: 7, msgContains: ["delegates", "clusterNetwork"]),
        .init(name: "empty delegates", stdin: #"{\#(good),"delegates":[]}"#, code: 7, msgContains: ["delegates", "clusterNetwork"]),
        .init(name: "delegate without type", stdin: #"{\#(good),"delegates":[\#(okDelegate),{"cniVersion":"1.0.0","name":"b"}]}"#,
              code: 7, msgContains: ["delegates[1].type"]),
        .init(name: "delegate with empty type", stdin: #"{\#(good),"delegates":[\#(okDelegate),{"cniVersion":"1.0.0","name":"b","type":""}]}"#,
              code: 7, msgContains: ["delegates[1].type"]),
        .init(name: "delegate with numeric type", stdin: #"{\#(good),"delegates":[\#(okDelegate),{"cniVersion":"1.0.0","name":"b","type":3}]}"#,
              code: 7, msgContains: ["delegates[1].type", "string"]),
        .init(name: "conflist plugin without type", stdin: #"{\#(good),"delegates":[\#(okDelegate),{"cniVersion":"1.0.0","name":"b","plugins":[{"mtu":1}]}]}"#,
              code: 7, msgContains: ["delegates[1].plugins[0].type"]),
        .init(name: "unsupported cniVersion", stdin: #"{"cniVersion":"9.9.9","cniDir":"$DIR/cni","delegates":[\#(okDelegate)]}"#,
              code: 1, msgContains: ["cniVersion", "9.9.9"]),
        .init(name: "unsupported delegate cniVersion", stdin: #"{\#(good),"delegates":[{"cniVersion":"2.0.0","name":"a","type":"bridge"}]}"#,
              code: 1, msgContains: ["delegates[0].cniVersion", "2.0.0"]),
        .init(name: "missing CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME", stdin: #"{\#(good),"delegates":[\#(okDelegate)]}"#,
              env: ["CNI_CONTAINERID": nil, "CNI_NETNS": "", "CNI_IFNAME": nil], code: 4, msgContains: ["CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME"]),
        .init(name: "CNI_CONTAINERID that is a path", stdin: #"{\#(good),"delegates":[\#(okDelegate)]}"#,
              env: ["CNI_CONTAINERID": "../../escape"], code: 4, msgContains: ["CNI_CONTAINERID"]),
        .init(name: "invalid CNI_IFNAME", stdin: #"{\#(good),"delegates":[\#(okDelegate)]}"#, env: ["CNI_IFNAME": "eth/0"], code: 4, msgContains: ["CNI_IFNAME"]),
        .init(name: "multusNamespace that is no namespace (it goes into API paths)",
              stdin: #"{\#(good),"clusterNetwork":"x","multusNamespace":"kube-system/pods?x=\r\n"}"#, code: 7,
              msgContains: ["the multus config (stdin)", "multusNamespace", "must consist of lower case letters"]),
        .init(name: "unknown CNI_COMMAND", stdin: #"{\#(good),"delegates":[\#(okDelegate)]}"#, env: ["CNI_COMMAND": "ATTACH"], code: 4, msgContains: ["CNI_COMMAND", "ATTACH"]),
        .init(name: "delegate type is a path", stdin: #"{\#(good),"delegates":[{"cniVersion":"1.0.0","name":"a","type":"../../bin/sh"}]}"#,
              code: 7, msgContains: ["../../bin/sh"]),
        .init(name: "resultMode bogus", stdin: #"{\#(good),"resultMode":"bogus","delegates":[\#(okDelegate)]}"#, code: 7, msgContains: ["resultMode", "bogus"]),
        .init(name: "delegate without name", stdin: #"{\#(good),"delegates":[{"cniVersion":"1.0.0","type":"bridge"}]}"#,
              code: 7, msgContains: ["\"name\"", "delegates[0]"]),
        .init(name: "invalid network name", stdin: #"{\#(good),"delegates":[{"cniVersion":"1.0.0","name":"a b","type":"bridge"}]}"#,
              code: 7, msgContains: ["delegates[0].name"]),
        .init(name: "CNI_IFNAME taken by a secondary", stdin: #"{\#(good),"delegates":[\#(okDelegate),{"cniVersion":"1.0.0","name":"b","type":"macvlan"}]}"#,
              env: ["CNI_IFNAME": "net1"], code: 7, msgContains: ["net1", "net-a", "\"b\""]),
        .init(name: "readinessindicatortimeout zero", stdin: #"{\#(good),"readinessindicatortimeout":0,"delegates":[\#(okDelegate)]}"#,
              code: 7, msgContains: ["readinessindicatortimeout"]),
        .init(name: "runtimeConfig not an object", stdin: #"{\#(good),"runtimeConfig":[],"delegates":[\#(okDelegate)]}"#,
              code: 7, msgContains: ["runtimeConfig"]),
        .init(name: "draDeviceStatus not a boolean", stdin: #"{\#(good),"draDeviceStatus":"yes","delegates":[\#(okDelegate)]}"#,
              code: 7, msgContains: ["draDeviceStatus"]),
        .init(name: "logLevel unknown", stdin: #"{\#(good),"logLevel":"info","delegates":[\#(okDelegate)]}"#, code: 7, msgContains: ["logLevel", "info"]),
        .init(name: "logOptions.maxBackups negative", stdin: #"{\#(good),"logOptions":{"maxBackups":-1},"delegates":[\#(okDelegate)]}"#,
              code: 7, msgContains: ["logOptions.maxBackups"]),
        .init(name: "a conflist with cniVersion only in its plugins (whereabouts + sbr)", stdin: #"""
              {\#(good),"delegates":[\#(okDelegate),{"name":"sbr-net","plugins":[
                {"cniVersion":"1.0.0","type":"macvlan","ipam":{"type":"whereabouts"}},{"cniVersion":"1.0.0","type":"sbr"}]}]}
              """#, code: 7, msgContains: ["delegates[1] of the multus config", "\"sbr-net\"", "move cniVersion to the top of the list"]),
    ]

    @Test(arguments: cases)
    func failsWithTheRightCodeNamingTheProblem(_ c: ConfigErrorCase) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let stdin = c.stdin.replacing("$DIR", with: box.root)
        let reply = run("ADD", bytes: Array(stdin.utf8), executor: executor, env: c.env)
        expectFailure(reply, code: c.code, msgContains: c.msgContains)
        #expect(executor.calls.isEmpty, "delegates ran: \(executor.steps)")
        #expect(reply.json?.objectValue?["cniVersion"] != nil)
        #expect(!fileExists(box.cniDir + "/escape.json") && !fileExists(box.root + "/escape.json"))
    }

    /// The same mistake in a network file (clusterNetwork) names the file; a list whose version
    /// is only partly in its plugins, or a single config, is not this mistake.
    @Test func aConflistFileWithTheVersionOnlyInItsPluginsNamesTheFile() throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.mkdirs(box.confDir)
        let path = box.confDir + "/10-sbr.conflist"
        try box.write(path, #"{"name":"sbr-net","plugins":[{"cniVersion":"0.4.0","type":"bridge"},{"cniVersion":"0.4.0","type":"sbr"}]}"#)
        let executor = FakeExecutor()
        let reply = run("ADD", multusConfig(box, delegates: [], [("clusterNetwork", .string(path))]), executor: executor)
        expectFailure(reply, code: 7, msgContains: [path, "move cniVersion to the top of the list"])
        #expect(executor.steps.isEmpty)
        let mixed = #"{"name":"ok","plugins":[{"cniVersion":"0.4.0","type":"bridge"},{"type":"sbr"}]}"#
        try box.write(path, mixed)
        let second = run("ADD", multusConfig(box, delegates: [], [("clusterNetwork", .string(path))]), executor: FakeExecutor())
        #expect(!second.outcome.stdout.contains("move cniVersion"), "\(second.outcome.stdout)")
    }

    @Test func aPluginNotInstalledNamesTheDirectoriesAndTheNetworksSource() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor(missing: ["nosuchplugin"])
        let reply = run("ADD", multusConfig(box, delegates: [delegate("a", type: "bridge"), delegate("b", type: "nosuchplugin")]), executor: executor)
        #expect(executor.steps == ["ADD bridge@eth0", "DEL bridge@eth0"])
        expectFailure(reply, code: 7, msgContains: ["\"nosuchplugin\"", "network \"b\"", "delegates[1] of the multus config", "/opt/cni/bin, /usr/libexec/cni"])
    }

    /// Every plugin type is checked when the plan is made, so a path-like type in a later
    /// delegate stops ADD before anything is attached.
    @Test func aPathTypeInALaterDelegateStopsAddBeforeAnythingIsAttached() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let config = multusConfig(box, delegates: [delegate("a", type: "bridge"), delegate("b", type: "../../bin/sh")])
        expectFailure(run("ADD", config, executor: executor), code: 7, msgContains: ["../../bin/sh"])
        #expect(executor.steps.isEmpty)
    }
}
