import CNI
import CNIExec
import MetaPlugin
import Testing
import TestSupport

/// A sandbox in which ADD of `threeDelegates` succeeded; returns the config and the ADD calls.
private func attached(_ box: Sandbox, _ executor: FakeExecutor, version: String = "1.0.0") throws -> JSONValue {
    let config = multusConfig(box, version: version, delegates: threeDelegates, [("runtimeConfig", ["portMappings": [["hostPort": 80, "containerPort": 8080]]])])
    let add = run("ADD", config, executor: executor)
    try #require(add.exitCode == 0, "ADD failed: \(add.outcome.stdout)")
    return config
}

/// A config whose delegates differ from the cached ones, to tell which were used.
private func otherConfig(_ box: Sandbox) -> JSONValue {
    multusConfig(box, delegates: [delegate("other-a", type: "other-main"), delegate("other-b", type: "other-second")])
}

@Suite("DEL")
struct DelTests {
    @Test func tearsDownTheCachedDelegatesInReverseWithTheirExactConfigs() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        _ = try attached(box, executor)
        let adds = executor.calls

        expectSuccess(run("DEL", otherConfig(box), executor: executor))
        let dels = Array(executor.calls.dropFirst(adds.count))
        #expect(dels.map { "\($0.command) \($0.type)@\($0.ifName)" }
            == ["DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0"])
        // Each DEL gets what its ADD got (unknown keys, order, runtimeConfig) plus, from 0.4.0 on,
        // its network's cached result; the 0.3.1 macvlan gets no prevResult.
        for del in dels {
            let add = try #require(adds.first { $0.type == del.type })
            var config = del.config
            config["prevResult"] = add.config["prevResult"]
            #expect(JSONValue.object(config).serialized() == add.stdin.serialized())
        }
        func addResult(_ type: String) throws -> JSONValue {
            try JSONValue.parse(FakeExecutor.standard(try #require(adds.first { $0.type == type })).stdout)
        }
        #expect(dels[0].config["prevResult"] == (try addResult("ipvlan")))
        #expect(dels[1].config["prevResult"] == nil)
        #expect(dels[3].config["prevResult"] == (try addResult("portmap")))
        #expect(dels[3].stdin.serialized().contains(#""zeta":{"b":1.50,"a":[1e3,null]}"#))
        #expect(dels[2].config["runtimeConfig"] == ["portMappings": [["hostPort": 80, "containerPort": 8080]]])
        #expect(!fileExists(box.cacheFile()))
    }

    /// A DEL without CNI_ARGS hands delegates the arguments ADD had (with Multus's defaults).
    @Test func delHandsDelegatesTheCNIArgsOfTheAdd() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let config = try attached(box, executor)
        expectSuccess(run("DEL", config, executor: executor, env: ["CNI_ARGS": nil]))
        let dels = executor.calls.filter { $0.command == "DEL" }
        #expect(dels.count == 4)
        #expect(dels.allSatisfy { $0.env("CNI_ARGS") == "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IgnoreUnknown=true;K8S_POD_INFRA_CONTAINER_ID=ctr1" })
    }

    /// containerd DELs at StopPodSandbox and again at RemovePodSandbox, the second time without a
    /// netns; kubelets retry. The DEL that completed left a tombstone, so the repeat is free.
    @Test func aRepeatedDelRunsNoDelegateUntilTheContainerIsAddedAgain() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = try attached(box, FakeExecutor())
        let first = FakeExecutor()
        expectSuccess(run("DEL", config, executor: first))
        #expect(first.steps.count == 4, "the first DEL tears down: \(first.steps)")
        #expect(directoryEntries(box.cniDir + "/deleted").filter { !$0.hasPrefix(".") } == ["ctr1"])

        for netns in ["/proc/self/ns/net", ""] {
            let repeated = FakeExecutor()
            expectSuccess(run("DEL", config, executor: repeated, env: ["CNI_NETNS": netns]))
            #expect(repeated.steps == [], "CNI_NETNS=\(netns)")
        }
        let otherInterface = FakeExecutor()
        expectSuccess(run("DEL", config, executor: otherInterface, env: ["CNI_IFNAME": "eth9"]))
        #expect(!otherInterface.steps.isEmpty, "the tombstone is for eth0's DEL only")

        _ = try attached(box, FakeExecutor())
        #expect(directoryEntries(box.cniDir + "/deleted").filter { !$0.hasPrefix(".") } == [], "ADD removes the tombstone")
        let afterReAdd = FakeExecutor()
        expectSuccess(run("DEL", config, executor: afterReAdd))
        #expect(afterReAdd.steps.count == 4)
    }

    @Test func aDelWithoutCacheOrTombstoneFallsBackToTheConfigAndIgnoresItsErrors() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = try attached(box, FakeExecutor())
        removeTree(box.cacheFile())

        let second = FakeExecutor { _ in .cniError(7, "no such network") }
        let del = run("DEL", config, executor: second)
        expectSuccess(del)
        // Every network is tried; within a conflist the first failure ends that network's DEL,
        // as in libcni's DelNetworkList (so bridge, after the failing portmap, is not run).
        #expect(second.steps == ["DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0"])
        #expect(del.outcome.diagnostics.count == 4)
        #expect(del.outcome.diagnostics.last?.contains("a later DEL will try the rest again") == true, "\(del.outcome.diagnostics)")
        #expect(second.calls.allSatisfy { $0.config["prevResult"] == nil })

        // Failed DELs leave no tombstone: the runtime's next DEL tries every network again.
        #expect(!fileExists(box.cniDir + "/deleted/ctr1"))
        let third = FakeExecutor()
        expectSuccess(run("DEL", config, executor: third))
        #expect(third.steps == ["DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0"])
        #expect(fileExists(box.cniDir + "/deleted/ctr1"), "a DEL that reached everything leaves its tombstone")
    }

    @Test func delOfAnUnknownContainerSucceeds() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor { _ in .exit(1, stderr: "nothing here") }
        expectSuccess(run("DEL", otherConfig(box), executor: executor, env: ["CNI_CONTAINERID": "never-added"]))
        #expect(executor.steps == ["DEL other-second@net1", "DEL other-main@eth0"])
    }

    @Test func aCorruptCacheFileIsBestEffortForDelAndAnErrorForCheck() throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.mkdirs(box.cniDir + "/attachments")
        try box.write(box.cacheFile(), "{\"format\": garbage")
        let config = multusConfig(box, delegates: threeDelegates)

        let executor = FakeExecutor()
        expectFailure(run("CHECK", config, executor: executor), code: 6, msgContains: [box.cacheFile()])
        #expect(executor.calls.isEmpty)

        let del = run("DEL", config, executor: executor)
        expectSuccess(del)
        #expect(executor.steps == ["DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0"])
        #expect(del.outcome.diagnostics.contains { $0.contains(box.cacheFile()) })
        #expect(!fileExists(box.cacheFile()))
    }

    @Test func aFailingDelOfACompletedAttachmentIsReportedAndKeptForTheRetry() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = try attached(box, FakeExecutor())
        let failing = FakeExecutor(script: FakeExecutor.failing("macvlan", "DEL", with: .cniError(11, "try later")))
        let del = run("DEL", config, executor: failing)
        expectFailure(del, code: 11, msgContains: ["try later"])
        #expect(failing.steps == ["DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0"])

        let retry = FakeExecutor()
        expectSuccess(run("DEL", config, executor: retry))
        #expect(retry.steps == ["DEL macvlan@net1"])
        #expect(!fileExists(box.cacheFile()))
    }
}

@Suite("CHECK")
struct CheckTests {
    @Test func checksEveryCachedAttachmentWithItsResult() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let adder = FakeExecutor()
        let config = try attached(box, adder)
        let added = adder.calls

        let executor = FakeExecutor()
        expectSuccess(run("CHECK", config, executor: executor))
        // The 0.3.1 macvlan has no CHECK.
        #expect(executor.steps == ["CHECK bridge@eth0", "CHECK portmap@eth0", "CHECK ipvlan@net2"])
        for (check, network) in zip(executor.calls, ["net-a", "net-a", "net-c"]) {
            let lastAdd = try #require(added.last { $0.network == network })
            let expected = try CNIResult.parse(FakeExecutor.standard(lastAdd).stdout, fallbackVersion: .latest)
            let prev = try #require(check.config["prevResult"])
            #expect(try CNIResult(json: prev, fallbackVersion: .latest) == expected)
        }
    }

    @Test func aFailingCheckReportsTheDelegatesError() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = try attached(box, FakeExecutor())
        let executor = FakeExecutor(script: FakeExecutor.failing("ipvlan", "CHECK", with: .cniError(100, "address gone")))
        let reply = run("CHECK", config, executor: executor)
        expectFailure(reply, code: 100, msgContains: ["address gone"])
        #expect(reply.error?.details.contains("interface net2") == true)
    }

    @Test func checkBelow040IsAnIncompatibleVersion() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let config = try attached(box, executor, version: "0.3.1")
        expectFailure(run("CHECK", config, executor: executor), code: 1, msgContains: ["0.3.1"])
        #expect(!executor.steps.contains { $0.hasPrefix("CHECK") })
    }

    @Test func checkWithoutACacheEntryIsAnUnknownContainer() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        expectFailure(run("CHECK", multusConfig(box, delegates: threeDelegates), executor: executor), code: 3, msgContains: ["ctr1"])
        #expect(executor.calls.isEmpty)
    }

    @Test func checkAfterAFailedAddIsAnUnknownContainer() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor { $0.type == "ipvlan" ? .cniError(117, "no free VF") : FakeExecutor.standard($0) }
        let config = multusConfig(box, delegates: threeDelegates)
        expectFailure(run("ADD", config, executor: executor), code: 117)
        #expect(fileExists(box.cacheFile()))
        expectFailure(run("CHECK", config, executor: executor), code: 3, msgContains: ["did not complete"])
    }
}
