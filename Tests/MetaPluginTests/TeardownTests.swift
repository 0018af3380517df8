import CNI
import MetaPlugin
import Testing
import TestSupport

/// The one teardown path, seen through DEL and ADD's rollback (both callers of `Teardown`): the
/// order, and what is kept when a DEL fails.
@Suite("Teardown: order and what is kept")
struct TeardownTests {
    @Test("newest first; every network tried even after a failure; only completed attachments that failed are kept")
    func delKeepsOnlyWhatMayStillHoldResources() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, delegates: threeDelegates)
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        let failingMacvlan = FakeExecutor { $0.type == "macvlan" && $0.command == "DEL" ? .cniError(11, "busy") : FakeExecutor.standard($0) }
        let del = run("DEL", config, executor: failingMacvlan)
        expectFailure(del, code: 11)
        #expect(failingMacvlan.steps == ["DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0"])
        let kept = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue?["attachments"]?.arrayValue)
        #expect(kept.compactMap { $0.objectValue?["ifName"]?.stringValue } == ["net1"])
        #expect(kept.first?.objectValue?["result"] != nil, "kept with its result, for the next DEL's prevResult")

        let retry = FakeExecutor()
        expectSuccess(run("DEL", config, executor: retry))
        #expect(retry.steps == ["DEL macvlan@net1"])
        #expect(!fileExists(box.cacheFile()))
    }

    @Test("rollback: the failed network is undone too, newest first; what fails to undo is kept, completed or not")
    func rollbackKeepsEverythingUndone() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, delegates: threeDelegates)
        // ipvlan fails ADD and DEL; macvlan's undo fails too.
        let executor = FakeExecutor { call in
            switch (call.type, call.command) {
            case ("ipvlan", _): .cniError(117, "no free VF")
            case ("macvlan", "DEL"): .cniError(11, "busy")
            default: FakeExecutor.standard(call)
            }
        }
        let add = run("ADD", config, executor: executor)
        expectFailure(add, code: 117)
        #expect(executor.steps == ["ADD bridge@eth0", "ADD portmap@eth0", "ADD macvlan@net1", "ADD ipvlan@net2",
                                   "DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0"])
        let cached = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue)
        #expect(cached["state"] == "adding")
        #expect(cached["attachments"]?.arrayValue?.compactMap { $0.objectValue?["ifName"]?.stringValue } == ["net1", "net2"])
        let details = add.error?.details ?? ""
        #expect(details.contains("rollback of network \"net-c\"") && details.contains("rollback of network \"net-b\""), "\(details)")
    }

    /// libcni (DelNetworkList since v1.2.0, DelNetwork at HEAD) deletes a cached result it cannot
    /// read and DELs without a prevResult; the cache entry is not thrown away for one damaged result.
    @Test("a damaged cached result: its network's DEL goes on without a prevResult and is noted; the others get theirs; its failure is kept")
    func damagedResultCostsOnlyItsPrevResult() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, delegates: threeDelegates)
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        var entry = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue)
        var attachments = try #require(entry["attachments"]?.arrayValue)
        var damaged = try #require(attachments[2].objectValue)
        damaged["result"] = ["cniVersion": "1.1.0", "ips": [["address": "10.0.3.2/99"]]]
        attachments[2] = .object(damaged)
        entry["attachments"] = .array(attachments)
        try writeFile(box.cacheFile(), JSONValue.object(entry).serializedBytes())

        let busyIpvlan = FakeExecutor(script: FakeExecutor.failing("ipvlan", "DEL", with: .cniError(11, "busy")))
        let del = run("DEL", config, executor: busyIpvlan)
        expectFailure(del, code: 11)
        let prevResults = busyIpvlan.calls.map { "\($0.type)@\($0.ifName): \($0.config["prevResult"] == nil ? "none" : "cached")" }
        // macvlan's network is 0.3.1: no DEL gets a prevResult before 0.4.0.
        #expect(prevResults == ["ipvlan@net2: none", "macvlan@net1: none", "portmap@eth0: cached", "bridge@eth0: cached"])
        #expect(del.outcome.diagnostics.contains { $0.contains("network \"net-c\" (interface net2") && $0.contains("without a prevResult") && $0.contains("result.ips[0].address") },
                "\(del.outcome.diagnostics)")
        let kept = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue?["attachments"]?.arrayValue)
        #expect(kept.compactMap { $0.objectValue?["ifName"]?.stringValue } == ["net2"], "kept for the next DEL, though its result is gone")

        let retry = FakeExecutor()
        expectSuccess(run("DEL", config, executor: retry))
        #expect(retry.steps == ["DEL ipvlan@net2"])
        #expect(retry.calls.first?.config["prevResult"] == nil)
        #expect(!fileExists(box.cacheFile()))
    }
}
