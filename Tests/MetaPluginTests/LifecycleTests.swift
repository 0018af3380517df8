import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

@Suite("Cache file")
struct CacheFileTests {
    @Test func addWritesAPrivateEntryPerContainerInStateAdded() throws {
        let box = try Sandbox()
        defer { box.remove() }
        expectSuccess(run("ADD", multusConfig(box, delegates: threeDelegates), executor: FakeExecutor(), env: ["CNI_CONTAINERID": "abc-123"]))

        let path = box.cniDir + "/attachments/abc-123.json"
        var info = stat()
        try #require(stat(path, &info) == 0, "no cache file at \(path)")
        #expect(info.st_mode & 0o777 == 0o600)

        let entry = try #require(readText(path).flatMap { try? JSONValue.parse($0) }?.objectValue)
        #expect(entry["state"] == "added")
        #expect(entry["containerID"] == "abc-123")
        let attachments = entry["attachments"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(attachments.map { $0["ifName"] } == ["eth0", "net1", "net2"])
        #expect(attachments.map { $0["network"] } == threeDelegates)
        #expect(attachments.allSatisfy { $0["result"] != nil })
        // Nothing else is left in the directory (no temporary files).
        #expect(directoryEntries(box.cniDir + "/attachments").sorted() == ["abc-123.json"])
    }

    @Test func anUnusableCniDirFailsAddBeforeAnyDelegateRuns() throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write(box.root + "/plain-file", "")
        let executor = FakeExecutor()
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("cniDir", .string(box.root + "/plain-file/cni"))]), executor: executor)
        expectFailure(reply, code: 5, msgContains: [box.root + "/plain-file"])
        #expect(executor.calls.isEmpty)
    }

    @Test func containersHaveSeparateEntries() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, delegates: threeDelegates)
        expectSuccess(run("ADD", config, executor: FakeExecutor(), env: ["CNI_CONTAINERID": "one"]))
        expectSuccess(run("ADD", config, executor: FakeExecutor(), env: ["CNI_CONTAINERID": "two"]))
        expectSuccess(run("DEL", config, executor: FakeExecutor(), env: ["CNI_CONTAINERID": "one"]))
        #expect(!fileExists(box.cacheFile("one")))
        #expect(fileExists(box.cacheFile("two")))
    }
}

@Suite("VERSION")
struct VersionTests {
    static let all = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]

    @Test(arguments: [
        (#"{"cniVersion":"0.4.0"}"#, "0.4.0"),
        (#"{"cniVersion":"0.1.0","delegates":"ignored"}"#, "0.1.0"),
        (#"{"cniVersion":"1.1.0"}"#, "1.1.0"),
        (#"{"cniVersion":"9.9.9"}"#, "1.1.0"),
        ("", "1.1.0"),
        ("not json", "1.1.0"),
        // libcni's exact shape is read as bytes; the rest is JSON's to judge.
        (#"{"cniVersion":"0.4.0"}"# + "\n", "0.4.0"),
        (#"{"cniVersion":"0.3.1"}}"#, "1.1.0"),
        (#"{"cniVersion":"0.3.1","x":"1"}"#, "0.3.1"),
        (#"{"cniVersion":"1.00.0"}"#, "1.0.0"),
    ])
    func listsEveryVersionAndEchoesTheRequestedOne(stdin: String, echoed: String) throws {
        let executor = FakeExecutor()
        let reply = run("VERSION", bytes: Array(stdin.utf8), executor: executor, env: ["CNI_CONTAINERID": nil, "CNI_NETNS": nil, "CNI_IFNAME": nil])
        expectSuccess(reply)
        #expect(reply.json == ["cniVersion": .string(echoed), "supportedVersions": .array(Self.all.map { .string($0) })])
        #expect(executor.calls.isEmpty)
    }

    /// The reply is written as text: it must list what `SpecVersion.all` says we speak.
    @Test func listsExactlyTheVersionsSpoken() throws {
        let reply = run("VERSION", bytes: [], executor: FakeExecutor(), env: ["CNI_CONTAINERID": nil, "CNI_NETNS": nil, "CNI_IFNAME": nil])
        #expect(reply.json?.objectValue?["supportedVersions"] == .array(SpecVersion.all.map { .string($0.description) }))
    }
}

@Suite("STATUS and GC")
struct StatusTests {
    static let containerless: [String: String?] = ["CNI_CONTAINERID": nil, "CNI_NETNS": nil, "CNI_IFNAME": nil, "CNI_ARGS": nil]

    @Test func statusAsksOnlyTheMainNetworkWithoutContainerVariables() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let delegates = [delegate("main", type: "bridge", version: "1.1.0"), delegate("second", type: "macvlan", version: "1.1.0")]
        expectSuccess(run("STATUS", multusConfig(box, version: "1.1.0", delegates: delegates), executor: executor, env: Self.containerless))
        #expect(executor.calls.map { "\($0.command) \($0.type)" } == ["STATUS bridge"])
        #expect(executor.calls.first?.environment == ["PATH=/usr/bin:/bin", "CNI_COMMAND=STATUS", "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_ARGS=",
                                                      "CNI_IFNAME=", "CNI_PATH=/opt/cni/bin:/usr/libexec/cni"])
    }

    @Test func statusPassesOnTheMainNetworksError() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor { _ in .cniError(50, "no route to API") }
        let reply = run("STATUS", multusConfig(box, version: "1.1.0", delegates: [delegate("main", type: "bridge", version: "1.1.0")]),
                        executor: executor, env: Self.containerless)
        expectFailure(reply, code: 50, msgContains: ["no route to API"])
        // Which network and plugin; no interface, which STATUS does not have.
        #expect(reply.error?.details == #"STATUS: network "main" (from delegates[0] of the multus config), plugin bridge STATUS"#)
    }

    /// STATUS needs a 1.1.0 config; GC is not implemented and says so with the same code.
    @Test(arguments: ["STATUS", "GC"])
    func isAnIncompatibleVersionBelow110OrUnimplemented(_ command: String) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        expectFailure(run(command, multusConfig(box, delegates: threeDelegates), executor: executor, env: Self.containerless), code: 1, msgContains: [command])
        #expect(executor.calls.isEmpty)
    }
}

@Suite("readinessindicatorfile")
struct ReadinessTests {
    @Test(arguments: [("ADD", 11), ("STATUS", 50)])
    func aMissingFileFailsAfterTheTimeoutNamingIt(command: String, code: Int) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let file = box.root + "/flannel/subnet.env"
        let config = multusConfig(box, version: "1.1.0", delegates: [delegate("main", type: "bridge", version: "1.1.0")],
                                  [("readinessindicatorfile", .string(file)), ("readinessindicatortimeout", 1)])
        let start = ContinuousClock.now
        let reply = run(command, config, executor: executor)
        let waited = ContinuousClock.now - start
        expectFailure(reply, code: code, msgContains: [file])
        #expect(waited >= .milliseconds(900) && waited < .seconds(3), "waited \(waited)")
        #expect(executor.calls.isEmpty)
        #expect(!fileExists(box.cacheFile()))
    }

    @Test func delDoesNotWaitForIt() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let config = multusConfig(box, delegates: [delegate("main", type: "bridge")],
                                  [("readinessindicatorfile", .string(box.root + "/never")), ("readinessindicatortimeout", 30)])
        let start = ContinuousClock.now
        expectSuccess(run("DEL", config, executor: executor))
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(executor.steps == ["DEL bridge@eth0"])
    }

    @Test func aPresentFileLetsAddProceed() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let file = box.root + "/ready"
        try box.write(file, "FLANNEL_NETWORK=10.1.0.0/16\n")
        let executor = FakeExecutor()
        let config = multusConfig(box, delegates: [delegate("main", type: "bridge")],
                                  [("readinessindicatorfile", .string(file)), ("readinessindicatortimeout", 1)])
        expectSuccess(run("ADD", config, executor: executor))
        #expect(executor.steps == ["ADD bridge@eth0"])
    }
}
