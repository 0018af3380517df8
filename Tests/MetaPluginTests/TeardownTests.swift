import CNI
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
}
