import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// GC through the recording executor: what is collected, what is spared, what each network is told.
@Suite("GC")
struct GCTests {
    static let delegates = [delegate("net-a", type: "bridge", version: "1.1.0"), delegate("net-b", type: "macvlan", version: "1.1.0")]

    /// `containers` attached with a 1.1.0 config; returns the config.
    func attach(_ box: Sandbox, _ containers: [String]) -> JSONValue {
        let config = multusConfig(box, version: "1.1.0", delegates: Self.delegates)
        for id in containers { expectSuccess(run("ADD", config, executor: FakeExecutor(), env: ["CNI_CONTAINERID": id])) }
        return config
    }

    func gc(_ config: JSONValue, valid: [String]?) -> JSONValue {
        var o = config.objectValue ?? JSONObject()
        if let valid { o["cni.dev/valid-attachments"] = .array(valid.map { ["containerID": .string($0), "ifname": "eth0"] }) }
        return .object(o)
    }

    @Test func collectsOnlyWhatIsNoLongerValidAndTellsEachNetworkItsOwn() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1", "ctr2"])
        let executor = FakeExecutor()
        expectSuccess(run("GC", gc(config, valid: ["ctr1"]), executor: executor))

        let dels = executor.calls.filter { $0.command == "DEL" }
        #expect(dels.map { "\($0.env("CNI_CONTAINERID") ?? "") \($0.type)@\($0.ifName)" } == ["ctr2 macvlan@net1", "ctr2 bridge@eth0"])
        #expect(!fileExists(box.cacheFile("ctr2")) && fileExists(box.cacheFile("ctr1")))

        let gcs = executor.calls.filter { $0.command == "GC" }
        #expect(gcs.map(\.network) == ["net-a", "net-b"])
        #expect(gcs[0].config["cni.dev/valid-attachments"] == [["containerID": "ctr1", "ifname": "eth0"]])
        #expect(gcs[1].config["cni.dev/valid-attachments"] == [["containerID": "ctr1", "ifname": "net1"]])
    }

    @Test func anAddStillBeingWrittenIsSparedUntilItIsStale() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1"])
        // Turn the entry back into "ADD in progress", as a running ADD leaves it.
        let path = box.cacheFile("ctr1")
        let added = try #require(readText(path))
        try #require(added.contains(#""state":"added""#), "\(added)")
        try box.write(path, added.replacing(#""state":"added""#, with: #""state":"adding""#))

        let spared = FakeExecutor()
        expectSuccess(run("GC", gc(config, valid: []), executor: spared))
        #expect(spared.steps == ["GC bridge@", "GC macvlan@"])
        #expect(fileExists(path))

        // A day old: the ADD that wrote it is long gone.
        #expect(backdate(path, seconds: 86_400))
        let collected = FakeExecutor()
        expectSuccess(run("GC", gc(config, valid: []), executor: collected))
        #expect(collected.steps == ["DEL macvlan@net1", "DEL bridge@eth0", "GC bridge@", "GC macvlan@"])
        #expect(!fileExists(path))
    }

    /// `delegateTimeout` is any positive number of seconds; times the entry's attachments it
    /// overflowed Duration and trapped. Saturated, such an ADD is simply never stale.
    @Test func theLongestAddSaturatesForAHugeDelegateTimeout() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let delegates = (0..<20).map { delegate("net-\($0)", type: "bridge", version: "1.1.0") }
        let config = multusConfig(box, version: "1.1.0", delegates: delegates, [("delegateTimeout", .number(String(Int.max)))])
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        let path = box.cacheFile()
        let added = try #require(readText(path))
        try box.write(path, added.replacing(#""state":"added""#, with: #""state":"adding""#))
        #expect(backdate(path, seconds: 86_400))

        let executor = FakeExecutor()
        expectSuccess(run("GC", gc(config, valid: []), executor: executor))
        #expect(executor.calls.allSatisfy { $0.command == "GC" }, "\(executor.steps)")
        #expect(fileExists(path), "an ADD may still be running")
    }

    @Test func failuresAreCollectedAndReportedTogether() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1", "ctr2"])
        let executor = FakeExecutor(script: FakeExecutor.failing("bridge", "DEL", with: .cniError(11, "busy")))
        let reply = run("GC", gc(config, valid: []), executor: executor)
        expectFailure(reply, code: 999, msgContains: ["GC: 2 failures"])
        #expect(reply.error?.details.contains("ctr1") == true && reply.error?.details.contains("ctr2") == true)
        #expect(executor.calls.filter { $0.command == "DEL" }.count == 4, "every container was tried")
    }

    /// What libcni v1.3.0 sends for `cnitool gc <net> <netns>`: GCNetworkList with no args, so
    /// the plugin's config with `name` and `cniVersion` injected and neither attachments key;
    /// every CNI_* variable but the command and path empty (Args.AsEnv of an empty RuntimeConf).
    @Test func cnitoolGCWithoutAListSucceedsAndCollectsNothing() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1"])
        let executor = FakeExecutor()
        var stdin = try #require(config.objectValue)
        stdin["name"] = "multus-cni-network"
        stdin["cniVersion"] = "1.1.0"
        let reply = run("GC", .object(stdin), executor: executor,
                        env: ["CNI_CONTAINERID": "", "CNI_NETNS": "", "CNI_ARGS": "", "CNI_IFNAME": "", "CNI_PATH": "/opt/cni/bin"])
        expectSuccess(reply)
        #expect(executor.calls.isEmpty, "no DEL, no plugin-level GC")
        #expect(fileExists(box.cacheFile("ctr1")))
        #expect(reply.outcome.diagnostics == ["GC: nothing collected: the runtime listed no attachments (neither cni.dev/valid-attachments nor cni.dev/attachments)"])
    }

    @Test("null or [] under either key: nothing is valid, everything is collected",
          arguments: ["cni.dev/valid-attachments", "cni.dev/attachments"], [JSONValue.null, []])
    func anEmptyListCollectsEverything(key: String, list: JSONValue) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1"])
        var stdin = try #require(config.objectValue)
        stdin[key] = list
        let executor = FakeExecutor()
        expectSuccess(run("GC", .object(stdin), executor: executor))
        #expect(executor.steps == ["DEL macvlan@net1", "DEL bridge@eth0", "GC bridge@", "GC macvlan@"])
        #expect(!fileExists(box.cacheFile("ctr1")))
    }

    @Test func theLegacyKeyIsReadWhenTheNewOneIsAbsent() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1", "ctr2"])
        var stdin = try #require(config.objectValue)
        stdin["cni.dev/attachments"] = [["containerID": "ctr1", "ifname": "eth0"]]
        let executor = FakeExecutor()
        expectSuccess(run("GC", .object(stdin), executor: executor))
        #expect(executor.calls.filter { $0.command == "DEL" }.map { $0.env("CNI_CONTAINERID") } == ["ctr2", "ctr2"])
        #expect(fileExists(box.cacheFile("ctr1")) && !fileExists(box.cacheFile("ctr2")))
    }

    @Test func needsCNI110() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, version: "1.0.0", delegates: Self.delegates)
        expectFailure(run("GC", gc(config, valid: []), executor: FakeExecutor()), code: 1, msgContains: ["1.1.0"])
    }
}

/// GC after an in-place upgrade from Multus: a live attachment nobody recorded must never be
/// reported as invalid to any network; what Multus recorded counts as a record.
@Suite("GC and what Multus attached")
struct GCUpgradeTests {
    @Test func aLiveAttachmentWithNoRecordStopsPluginGCUntilItsRecordExists() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = GCTests().attach(box, ["ctr1"])
        let blind = FakeExecutor()
        let outcome = run("GC", GCTests().gc(config, valid: ["ctr1", "ctr-unknown"]), executor: blind)
        expectSuccess(outcome)
        #expect(blind.steps == [], "no plugin is told anything while ctr-unknown's networks are unknown")
        #expect(outcome.outcome.diagnostics.count == 1)
        #expect(outcome.outcome.diagnostics.first?.contains("ctr-unknown/eth0") == true, "\(outcome.outcome.diagnostics)")

        expectSuccess(run("ADD", config, executor: FakeExecutor(), env: ["CNI_CONTAINERID": "ctr-unknown"]))
        let informed = FakeExecutor()
        expectSuccess(run("GC", GCTests().gc(config, valid: ["ctr1", "ctr-unknown"]), executor: informed))
        #expect(informed.steps == ["GC bridge@", "GC macvlan@"])
        #expect(informed.calls.first?.config["cni.dev/valid-attachments"] == [["containerID": "ctr-unknown", "ifname": "eth0"], ["containerID": "ctr1", "ifname": "eth0"]])
    }

    @Test func multusRecordsCountAsRecordsAndStaleOnesAreDeletedFromThem() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = GCTests().attach(box, ["ctr1"])
        try writeMultusRecord(box, "ctr-old-live", ifName: "eth0")
        try writeMultusRecord(box, "ctr-old-gone", ifName: "eth7")
        let executor = FakeExecutor()
        expectSuccess(run("GC", GCTests().gc(config, valid: ["ctr1", "ctr-old-live"]), executor: executor))
        // The stale one is torn down on the interface libcni's cache names, with its cached result.
        let dels = executor.calls.filter { $0.command == "DEL" }
        #expect(dels.map { "\($0.env("CNI_CONTAINERID") ?? "") \($0.type)@\($0.ifName)" } == ["ctr-old-gone bridge@eth7"])
        #expect(dels.first?.config["prevResult"]?.objectValue?["interfaces"] != nil)
        #expect(!fileExists(box.cniDir + "/ctr-old-gone") && !fileExists(box.cniDir + "/results/net-a-ctr-old-gone-eth7"))
        #expect(fileExists(box.cniDir + "/ctr-old-live"))
        let gcs = executor.calls.filter { $0.command == "GC" }
        #expect(gcs.map(\.network) == ["net-a", "net-b"])
        #expect(gcs.first?.config["cni.dev/valid-attachments"] == [["containerID": "ctr1", "ifname": "eth0"], ["containerID": "ctr-old-live", "ifname": "eth0"]])
    }

    /// Only a DEL removes Multus's record of a container we also hold; GC meets both when neither
    /// is listed. What our entry keeps is ours: Multus's record, torn down, has nothing to say of it.
    @Test func aStaleMultusRecordLeavesOurEntryOfTheSameContainerAlone() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = GCTests().attach(box, ["ctr1"])
        try writeMultusRecord(box, "ctr1", ifName: "eth0")
        let executor = FakeExecutor(script: FakeExecutor.failing("macvlan", "DEL", with: .cniError(11, "busy")))
        expectFailure(run("GC", GCTests().gc(config, valid: []), executor: executor), code: 999, msgContains: ["GC: 1 failure"])
        #expect(executor.steps.filter { $0.hasPrefix("DEL") } == ["DEL macvlan@net1", "DEL bridge@eth0", "DEL bridge@eth0"])
        let kept = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue?["attachments"]?.arrayValue)
        #expect(kept.compactMap { $0.objectValue?["ifName"]?.stringValue } == ["net1"])
        #expect(!fileExists(box.cniDir + "/ctr1"))
    }
}
