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
        #expect(!add.outcome.diagnostics.contains { $0.hasPrefix("ignored:") }, "a rollback ignores nothing: \(add.outcome.diagnostics)")
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

/// What every caller of the one teardown shares after it: how an ignored failure reads, and where
/// the delegates' DELs run when the namespace is gone.
@Suite("Teardown: the same aftermath for every caller")
struct TeardownAftermathTests {
    /// The ways a DEL failure of an attachment with no completed ADD on record is reached.
    enum Unfinished: String, CaseIterable, Sendable {
        /// Our entry, still `adding`: ADD's rollback could not undo net-c.
        case delOfOurEntry
        /// Multus's record, with no result for its one network (net-a).
        case delOfMultusRecord
        /// No record at all: the config's networks.
        case delFromConfig
        /// GC of our `adding` entry, old enough that no ADD is still writing it.
        case gcOfOurEntry
    }

    @Test("an ignored DEL failure reads the same whichever way it was reached, and the call succeeds", arguments: Unfinished.allCases)
    func ignoredFailuresReadTheSame(_ path: Unfinished) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, version: "1.1.0", delegates: threeDelegates)
        // ipvlan (net-c) never completes an ADD, and its DEL fails with this; so does the DEL of
        // Multus's bridge (net-a).
        let failing = path == .delOfMultusRecord ? "bridge" : "ipvlan"
        let busy = FakeExecutor { call in call.type == failing && call.command != "GC" ? .cniError(11, "netlink busy") : FakeExecutor.standard(call) }
        var network = #"network "net-c" (interface net2, from "#
        switch path {
        case .delOfOurEntry, .gcOfOurEntry:
            expectFailure(run("ADD", config, executor: busy), code: 11)
            try #require(readText(box.cacheFile())?.contains(#""state":"adding""#) == true)
        case .delOfMultusRecord:
            try writeMultusRecord(box, "ctr1", ifName: nil)
            network = #"network "net-a" (interface eth0, from Multus's cache "#
        case .delFromConfig:
            break
        }
        let reply: Reply
        if path == .gcOfOurEntry {
            #expect(backdate(box.cacheFile(), seconds: 86_400))
            reply = run("GC", GCTests().gc(config, valid: []), executor: busy)
        } else {
            reply = run("DEL", config, executor: busy)
        }
        expectSuccess(reply)
        let ignored = reply.outcome.diagnostics.filter { $0.hasPrefix("ignored:") }
        #expect(ignored.count == 1, "\(reply.outcome.diagnostics)")
        #expect(ignored.allSatisfy { $0.hasPrefix("ignored: container ctr1: DEL of \(network)") && $0.contains("), which has no completed ADD on record: ")
                                     && $0.hasSuffix("netlink busy") }, "\(ignored)")
    }

    /// The ways a teardown is reached with a namespace that is gone.
    enum Caller: String, CaseIterable, Sendable {
        case rollback, delOfOurEntry, delOfMultusRecord, delFromConfig, gc
    }

    /// Plugins take an empty CNI_NETNS for "gone, release what you hold": a path that no longer
    /// exists must reach them as that, or their DEL fails to enter it.
    @Test("a namespace that is gone reaches every delegate's DEL as an empty CNI_NETNS", arguments: Caller.allCases)
    func aGoneNamespaceIsHandedOverEmpty(_ caller: Caller) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, version: "1.1.0", delegates: threeDelegates)
        let gone: [String: String?] = ["CNI_NETNS": box.root + "/gone"]
        let executor = FakeExecutor(script: FakeExecutor.failing("ipvlan", "ADD", with: .cniError(11, "no free VF")))
        switch caller {
        case .rollback:
            expectFailure(run("ADD", config, executor: executor, env: gone), code: 11)
        case .delOfOurEntry:
            expectSuccess(run("ADD", config, executor: FakeExecutor()))
            expectSuccess(run("DEL", config, executor: executor, env: gone))
        case .delOfMultusRecord:
            try writeMultusRecord(box, "ctr1", ifName: "eth0")
            expectSuccess(run("DEL", config, executor: executor, env: gone))
        case .delFromConfig:
            expectSuccess(run("DEL", config, executor: executor, env: gone))
        case .gc:
            // GC has no namespace of its own: the one ADD recorded is gone.
            expectSuccess(run("ADD", config, executor: FakeExecutor(), env: gone))
            expectSuccess(run("GC", GCTests().gc(config, valid: []), executor: executor))
        }
        let dels = executor.calls.filter { $0.command == "DEL" }
        #expect(!dels.isEmpty)
        #expect(dels.allSatisfy { $0.env("CNI_NETNS") == "" }, "\(dels.map { $0.env("CNI_NETNS") ?? "unset" })")
    }
}
