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
        var times = [timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) - 86_400, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let collected = FakeExecutor()
        expectSuccess(run("GC", gc(config, valid: []), executor: collected))
        #expect(collected.steps == ["DEL macvlan@net1", "DEL bridge@eth0", "GC bridge@", "GC macvlan@"])
        #expect(!fileExists(path))
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

    @Test func withoutTheValidListNothingIsCollected() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attach(box, ["ctr1"])
        let executor = FakeExecutor()
        expectFailure(run("GC", gc(config, valid: nil), executor: executor), code: 7, msgContains: ["cni.dev/valid-attachments"])
        #expect(executor.calls.isEmpty && fileExists(box.cacheFile("ctr1")))
    }

    @Test func needsCNI110() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, version: "1.0.0", delegates: Self.delegates)
        expectFailure(run("GC", gc(config, valid: []), executor: FakeExecutor()), code: 1, msgContains: ["1.1.0"])
    }
}
