import CNI
import CNIExec
import MetaPlugin
import Testing
import TestSupport

@Suite("ADD")
struct AddTests {
    static let runtimeConfig: JSONValue = [
        "portMappings": [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]],
        "bandwidth": ["ingressRate": 1000],
    ]

    @Test func attachesMainThenSecondariesOnNet1AndNet2() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("runtimeConfig", Self.runtimeConfig)]), executor: executor)
        expectSuccess(reply)
        #expect(executor.steps == ["ADD bridge@eth0", "ADD portmap@eth0", "ADD macvlan@net1", "ADD ipvlan@net2"])
        #expect(executor.calls.map(\.network) == ["net-a", "net-a", "net-b", "net-c"])
        // Only main's plugin that declares the capability gets runtimeConfig, and only that key.
        let portMappings = Self.runtimeConfig.objectValue?["portMappings"]
        #expect(executor.calls.map { $0.config["runtimeConfig"] } == [nil, ["portMappings": portMappings!], nil, nil])
        // portmap is chained after bridge: it sees bridge's result.
        #expect(executor.calls[1].config["prevResult"] == attachmentResult(version: "1.0.0", ifName: "eth0", netns: "/proc/self/ns/net"))
    }

    @Test func mergedPrintsEveryNetworkMainFirstAndUnchanged() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("resultMode", "merged")]), executor: FakeExecutor())
        expectSuccess(reply)
        let ns = "/proc/self/ns/net"
        #expect(reply.json == (try JSONValue.parse(#"""
            {"cniVersion":"1.0.0",
             "interfaces":[{"name":"veth1"},{"name":"eth0","mac":"02:00:00:00:01:05","sandbox":"\#(ns)"},
                           {"name":"net1","mac":"02:00:00:00:02:05","sandbox":"\#(ns)"},{"name":"net2","mac":"02:00:00:00:03:05","sandbox":"\#(ns)"}],
             "ips":[{"interface":1,"address":"10.1.0.5/24","gateway":"10.1.0.1"},
                    {"interface":2,"address":"10.2.0.5/24","gateway":"10.2.0.1"},
                    {"interface":3,"address":"10.3.0.5/24","gateway":"10.3.0.1"}],
             "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"},{"dst":"10.2.0.0/16"},{"dst":"10.3.0.0/16"}],
             "dns":{"nameservers":["10.1.0.53"]}}
            """#)))
    }

    @Test(arguments: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
    func theMergedResultIsInTheMultusVersion(_ version: String) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, version: version, delegates: threeDelegates, [("resultMode", "merged")]), executor: FakeExecutor())
        expectSuccess(reply)
        let result = try CNIResult(json: #require(reply.json), fallbackVersion: .v0_1_0)
        #expect(result.cniVersion.description == version)
        #expect(result.ips.map(\.address.text) == ["10.1.0.5/24", "10.2.0.5/24", "10.3.0.5/24"])
        #expect(result.ips.map(\.interface) == [1, 2, 3])
    }

    @Test func byDefaultOnlyTheMainNetworksResultIsPrinted() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates), executor: executor)
        expectSuccess(reply)
        #expect(executor.steps.count == 4)
        #expect(reply.json == attachmentResult(version: "1.0.0", ifName: "eth0", netns: "/proc/self/ns/net"))
    }

    @Test("the default result is converted to the multus config's version whatever the main delegate's", arguments: ["0.3.1", "0.4.0", "1.1.0"])
    func theMainResultIsInTheMultusVersion(_ version: String) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, version: version, delegates: threeDelegates, [("resultMode", "main")]), executor: FakeExecutor())
        expectSuccess(reply)
        let result = try CNIResult(json: #require(reply.json), fallbackVersion: .v0_1_0)
        #expect(result.cniVersion.description == version)
        #expect(result.interfaces.map(\.name) == ["veth1", "eth0"])
        #expect(result.ips.map(\.address.text) == ["10.1.0.5/24"])
    }

    @Test("the runtime's IP, MAC and ips/mac/infinibandGUID describe CNI_IFNAME: only the main network gets them")
    func interfaceArgsGoToTheMainNetworkOnly() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let runtimeConfig: JSONValue = ["ips": ["10.1.0.9/24"], "mac": "0a:58:00:00:00:09", "infinibandGUID": "c2:11:22:33:44:55:66:77",
                                        "portMappings": [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]]]
        let capabilities: JSONValue = ["ips": true, "mac": true, "infinibandGUID": true, "portMappings": true]
        let delegates = [delegate("net-a", type: "bridge", [("capabilities", capabilities)]),
                         delegate("net-b", type: "macvlan", [("capabilities", capabilities)])]
        let env: [String: String?] = ["CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IP=10.1.0.9;MAC=0a:58:00:00:00:09"]
        expectSuccess(run("ADD", multusConfig(box, delegates: delegates, [("runtimeConfig", runtimeConfig)]), executor: executor, env: env))
        #expect(executor.calls.map { $0.env("CNI_ARGS") } == [
            "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IP=10.1.0.9;MAC=0a:58:00:00:00:09;IgnoreUnknown=true;K8S_POD_INFRA_CONTAINER_ID=ctr1",
            "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IgnoreUnknown=true;K8S_POD_INFRA_CONTAINER_ID=ctr1",
        ])
        #expect(executor.calls.map { $0.config["runtimeConfig"] } == [runtimeConfig, nil])
        // The DEL of the secondary gets no IP= either.
        let deleting = FakeExecutor()
        expectSuccess(run("DEL", multusConfig(box, delegates: delegates, [("runtimeConfig", runtimeConfig)]), executor: deleting, env: env))
        #expect(deleting.calls.map { $0.env("CNI_ARGS")?.contains("IP=") } == [false, true])
    }

    /// libcni's invoke and Multus hand a plugin its caller's whole environment with the CNI_*
    /// variables replaced: proxies, plugin settings, the W3C trace context all reach delegates.
    @Test func delegatesGetTheRuntimesEnvironmentWithTheirOwnCNIVariables() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let env: [String: String?] = ["TMPDIR": "/var/tmp", "HOME": "/root", "CALICO_DATASTORE_TYPE": "kubernetes", "TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                      "CNI_PATH": "/usr/libexec/cni:/opt/cni/bin"]
        expectSuccess(run("ADD", multusConfig(box, delegates: [threeDelegates[2]]), executor: executor, env: env))
        #expect(executor.calls.map(\.environment) == [[
            "CALICO_DATASTORE_TYPE=kubernetes", "HOME=/root", "PATH=/usr/bin:/bin", "TMPDIR=/var/tmp",
            "TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "CNI_COMMAND=ADD", "CNI_CONTAINERID=ctr1", "CNI_NETNS=/proc/self/ns/net",
            // For a pod, Multus's defaults are added to what the runtime passed.
            "CNI_ARGS=K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;IgnoreUnknown=true;K8S_POD_INFRA_CONTAINER_ID=ctr1",
            "CNI_IFNAME=eth0", "CNI_PATH=/opt/cni/bin:/usr/libexec/cni",
        ]])
    }

    @Test(arguments: [(nil, 120), (7, 7)] as [(Int?, Int)])
    func delegatesRunWithTheConfiguredTimeout(configured: Int?, seconds: Int) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let extra: [(String, JSONValue)] = configured.map { [("delegateTimeout", JSONValue($0))] } ?? []
        expectSuccess(run("ADD", multusConfig(box, delegates: threeDelegates, extra), executor: executor))
        #expect(executor.calls.map(\.timeout) == Array(repeating: .seconds(seconds), count: 4))
    }

    @Test func nothingIsAddedToTheRuntimesEnvironment() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        expectSuccess(run("ADD", multusConfig(box, delegates: [threeDelegates[2]]), executor: executor, env: ["PATH": nil]))
        #expect(executor.calls.count == 1)
        #expect(executor.calls.first?.env("PATH") == nil, "no PATH of our own: libcni adds none either")
    }
}

@Suite("ADD rollback")
struct AddRollbackTests {
    static let failure = ExecOutput.cniError(117, "no free VF", details: "pool sriov-a empty")

    @Test func aFailingDelegateRollsBackEverythingNewestFirst() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor(script: FakeExecutor.failing("ipvlan", "ADD", with: Self.failure))
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates), executor: executor)

        #expect(executor.steps == [
            "ADD bridge@eth0", "ADD portmap@eth0", "ADD macvlan@net1", "ADD ipvlan@net2",
            "DEL ipvlan@net2", "DEL macvlan@net1", "DEL portmap@eth0", "DEL bridge@eth0",
        ])
        expectFailure(reply, code: 117, msgContains: ["no free VF"])
        #expect(reply.error?.msg == "no free VF")
        let details = reply.error?.details ?? ""
        for fragment in [#"network "net-c""#, "interface net2", "ipvlan ADD", "pool sriov-a empty", "container ctr1", "pod default/web-0"] {
            #expect(details.contains(fragment), "details \"\(details)\" lack \"\(fragment)\"")
        }
        #expect(!fileExists(box.cacheFile()))
        // Rolled-back DELs of completed attachments carry their result; the failed one has none.
        let dels = executor.calls.filter { $0.command == "DEL" }
        #expect(dels.map { $0.config["prevResult"] != nil } == [false, false, true, true])
    }

    @Test func aFailedRollbackStaysCachedAndTheRuntimesDelThenSucceeds() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor { call in
            call.type == "ipvlan" ? .cniError(117, "no free VF") : FakeExecutor.standard(call)
        }
        let config = multusConfig(box, delegates: threeDelegates)
        let add = run("ADD", config, executor: executor)
        expectFailure(add, code: 117)
        #expect(add.error?.details.contains("rollback of network \"net-c\"") == true)

        let cached = try #require(readText(box.cacheFile()).flatMap { try? JSONValue.parse($0) }?.objectValue)
        #expect(cached["state"] == "adding")
        #expect(cached["attachments"]?.arrayValue?.compactMap { $0.objectValue?["ifName"] } == ["net2"])

        let del = run("DEL", config, executor: executor)
        expectSuccess(del)
        #expect(executor.steps.suffix(1) == ["DEL ipvlan@net2"])
        #expect(!fileExists(box.cacheFile()))
    }

    @Test func theRuntimesDelReportsAnUndoneAttachmentWhoseAddCompleted() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor { call in
            switch (call.type, call.command) {
            case ("ipvlan", "ADD"): .cniError(117, "no free VF")
            case ("macvlan", "DEL"): .cniError(5, "netlink busy")
            default: FakeExecutor.standard(call)
            }
        }
        let config = multusConfig(box, delegates: threeDelegates)
        expectFailure(run("ADD", config, executor: executor), code: 117)
        let del = run("DEL", config, executor: executor)
        expectFailure(del, code: 5, msgContains: ["netlink busy"])
        #expect(del.error?.details.contains("interface net1") == true)
        #expect(fileExists(box.cacheFile()))
    }
}
