import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// What Multus v4.2+ and libcni v1.3 do that v4.0.2 did not: multi-interface network-status, the
/// runtime's environment for delegates, plugin subdirectories, the auxiliary chain, and GC for
/// every shape of input. Real plugins in a real netns; testdata/plugins only stand beside them.
@Suite("Current with Multus v4.2+ and libcni v1.3", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct CurrentMultusTests {
    /// A conflist file for the cluster network, `cluster-file`, on the sandbox's bridge.
    static func clusterFile(_ k: KubeSandbox, extra: JSONObject = [:]) throws -> String {
        var list: JSONObject = ["cniVersion": "1.0.0", "name": "cluster-file", "plugins": [[
            "type": "bridge", "bridge": .string(k.substitutions["@BRIDGE@"] ?? ""), "isGateway": true,
            "ipam": ["type": "host-local", "dataDir": .string(k.box.ipamDir), "subnet": .string(k.box.subnet(0)), "routes": [["dst": "0.0.0.0/0"]]],
        ]]]
        for (key, value) in extra { list[key] = value }
        let path = k.confDir + "/10-cluster.conflist"
        try writeFile(path, JSONValue.object(list).serializedBytes())
        return path
    }

    static func records(_ path: String) -> [JSONObject] {
        (readWholeFile(path).map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: "\n")
            .compactMap { try? JSONValue.parse(Array($0.utf8)).objectValue }
    }

    @Test("a main network whose one result holds two pod interfaces gets one default entry, on the interface with the gateway")
    func twoPodInterfacesOneDefault() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let (first, second) = (k.box.hostName("ua"), k.box.hostName("ub"))
        k.box.bridges += [first, second]
        let udn: JSONValue = ["cniVersion": "1.0.0", "name": "udn", "type": "double-bridge", "secondIfName": "ovn-udn1",
                              "first": ["type": "bridge", "bridge": .string(first), "ipam": ["type": "host-local", "dataDir": .string(k.box.ipamDir), "subnet": .string(k.box.subnet(6))]],
                              "second": ["type": "bridge", "bridge": .string(second), "isGateway": true,
                                         "ipam": ["type": "host-local", "dataDir": .string(k.box.ipamDir), "subnet": .string(k.box.subnet(7)), "routes": [["dst": "0.0.0.0/0"]]]]]
        try writeFile(k.confDir + "/20-udn.conf", udn.serializedBytes())
        let config = k.config(extra: ["clusterNetwork": .string(k.confDir + "/20-udn.conf"), "binDir": .string(k.box.pluginDirectoryWithTestPlugins)])

        let add = k.multus("ADD", pod: "web-plain", config: config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces() == ["lo": [], "eth0": ["10.\(n).6.2/24"], "ovn-udn1": ["10.\(n).7.2/24"]])
        let status = try #require(try k.networkStatus("web-plain"))
        #expect(status.map { $0["interface"]?.stringValue } == ["eth0", "ovn-udn1"])
        #expect(status.map { $0["name"]?.stringValue } == ["udn", "udn"])
        #expect(status.map { $0["ips"] } == [["10.\(n).6.2"], ["10.\(n).7.2"]].map { JSONValue.array($0.map { .string($0) }) })
        #expect(status.map { $0["default"] } == [nil, true], "exactly one default: the interface holding the gateway")
        for entry in status {
            let name = try #require(entry["interface"]?.stringValue)
            let link = sh("ip -n \(k.box.netnsName) -br link show \(name)").output
            #expect(entry["mac"]?.stringValue.map { link.contains($0) } == true, "\(name)'s MAC as the kernel has it: \(link)")
        }
        #expect(k.multus("DEL", pod: "web-plain", config: config).exitCode == 0)
        k.expectClean(["udn-eth0", "udn-ovn-udn1"])
    }

    @Test("a delegate gets the runtime's environment with its own CNI_* values: TRACEPARENT and a proxy reach a chained step on net1")
    func runtimeEnvironmentReachesDelegates() throws {
        let box = try Sandbox()
        let record = box.root + "/calls.log"
        let chained: JSONValue = ["cniVersion": "1.0.0", "name": "p2pnet", "plugins": [
            ["type": "ptp", "ipam": box.hostLocal(2)],
            ["type": "recorder", "record": .string(record), "env": ["TRACEPARENT", "HTTPS_PROXY", "CNI_IFNAME", "CNI_CONTAINERID", "MULTUS_TEST_ONLY"]],
        ]]
        var config = try #require(box.multusConfig(delegates: [box.bridgeNetwork("podnet", third: 1), chained]).objectValue)
        config["binDir"] = .string(box.pluginDirectoryWithTestPlugins)
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let add = box.multus("ADD", .object(config), environment: ["TRACEPARENT": traceparent, "HTTPS_PROXY": "http://proxy.test:3128"])
        #expect(add.exitCode == 0, "\(add.stdout)")
        let calls = Self.records(record)
        try #require(calls.count == 1)
        #expect(calls[0]["command"] == "ADD")
        #expect(calls[0]["env"] == ["TRACEPARENT": .string(traceparent), "HTTPS_PROXY": "http://proxy.test:3128", "CNI_IFNAME": "net1",
                                    "CNI_CONTAINERID": .string(box.containerID), "MULTUS_TEST_ONLY": .null],
                "the runtime's variables, the delegate's own CNI_IFNAME (the runtime said eth0), nothing invented")
        #expect(box.multus("DEL", .object(config)).exitCode == 0)
        #expect(Self.records(record).map { $0["command"] } == ["ADD", "DEL"])
        #expect(box.leases("podnet") == [] && box.leases("p2pnet") == [])
    }

    /// libcni HEAD hands plugins the W3C trace context (TRACEPARENT, TRACESTATE, BAGGAGE) it
    /// was given: a meta-plugin between it and the plugins must pass all three on, to every
    /// plugin of every network, on every verb, whether the networks attach one by one or side
    /// by side. (The reference plugins here stop at CNI 1.0.0, which libcni sends no GC; the
    /// last network, a 1.1.0 chain of the recorder alone, gets it.)
    @Test("W3C trace context: TRACEPARENT, TRACESTATE and BAGGAGE reach every plugin of every network, chained steps included, on ADD, CHECK, GC and DEL",
          arguments: [1, 2])
    func traceContextReachesEveryDelegate(attachConcurrency: Int) throws {
        let box = try Sandbox()
        let record = box.root + "/calls.log"
        let recorder: JSONValue = ["type": "recorder", "record": .string(record), "env": ["TRACEPARENT", "TRACESTATE", "BAGGAGE", "CNI_IFNAME"]]
        let networks: [JSONValue] = [
            ["cniVersion": "1.0.0", "name": "podnet", "plugins": [box.bridgeNetwork("podnet", third: 1), recorder]],
            ["cniVersion": "1.0.0", "name": "p2pnet", "plugins": [["type": "ptp", "ipam": box.hostLocal(2)], recorder]],
            ["cniVersion": "1.0.0", "name": "p2pnet-b", "plugins": [["type": "ptp", "ipam": box.hostLocal(3)], recorder, recorder]],
            ["cniVersion": "1.1.0", "name": "traced", "plugins": [recorder]],
        ]
        var config = try #require(box.multusConfig(version: "1.1.0", delegates: networks).objectValue)
        config["binDir"] = .string(box.pluginDirectoryWithTestPlugins)
        config["attachConcurrency"] = .number("\(attachConcurrency)")
        let trace = ["TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                     "TRACESTATE": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
                     "BAGGAGE": "userId=alice,serverNode=DF%2028,isProduction=false"]
        func run(_ command: String, _ request: JSONObject = config, _ extra: [String: String] = [:]) {
            let outcome = box.multus(command, .object(request), environment: trace.merging(extra) { $1 })
            #expect(outcome.exitCode == 0, "\(command): \(outcome.stdout)")
        }
        run("ADD")
        run("CHECK")
        var gc = config
        gc["cni.dev/valid-attachments"] = [["containerID": .string(box.containerID), "ifname": "eth0"]]
        run("GC", gc, ["CNI_CONTAINERID": "", "CNI_NETNS": "", "CNI_IFNAME": "", "CNI_ARGS": ""])
        run("DEL")

        let calls = Self.records(record)
        // Five recorder steps: on eth0, on net1, two on net2, on net3.
        #expect(Dictionary(grouping: calls, by: { $0["command"]?.stringValue ?? "" }).mapValues(\.count) == ["ADD": 5, "CHECK": 5, "GC": 1, "DEL": 5])
        for call in calls {
            var expected = trace.mapValues(JSONValue.string)
            expected["CNI_IFNAME"] = .string(call["command"] == "GC" ? "" : call["ifname"]?.stringValue ?? "?")
            #expect(call["env"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) } == expected, "\(call)")
        }
        #expect(Set(calls.compactMap { $0["ifname"]?.stringValue }.filter { !$0.isEmpty }) == ["eth0", "net1", "net2", "net3"])
        #expect(box.leases("podnet") == [] && box.leases("p2pnet") == [] && box.leases("p2pnet-b") == [])
    }

    @Test("a tuning plugin in the cluster network's subdirectory runs (eth0's MAC); not with loadOnlyInlinedPlugins; DEL runs it from the cache after the file is gone")
    func pluginSubdirectory() throws {
        let k = try KubeSandbox()
        let mac = "c2:00:00:00:01:\(String(format2: k.box.number))"
        let tuningData = k.box.root + "/tuning"
        let path = try Self.clusterFile(k)
        try makeDirectories(k.confDir + "/cluster-file")
        let tuning = k.confDir + "/cluster-file/50-mac.conf"
        try writeFile(tuning, (["type": "tuning", "mac": .string(mac), "dataDir": .string(tuningData)] as JSONValue).serializedBytes())
        try writeFile(k.confDir + "/cluster-file/60-ignored.json", Array(#"{"type":"not-a-conf-file"}"#.utf8))
        let config = k.config(extra: ["clusterNetwork": .string(path)])

        #expect(k.multus("ADD", pod: "web-plain", config: config).exitCode == 0)
        #expect(sh("ip -n \(k.box.netnsName) link show eth0").output.contains(mac), "tuning set eth0's MAC")
        let saved = "\(tuningData)/\(k.box.containerID)_eth0.json"
        #expect(fileExists(saved), "tuning saved the MAC it replaced")
        let cached = try JSONValue.parse(readFile("\(k.box.cniDir)/attachments/\(k.box.containerID).json"))
        #expect(cached["attachments"]?.arrayValue?.first?["network"]?["plugins"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["bridge", "tuning"])

        removeTree(tuning)
        #expect(k.multus("DEL", pod: "web-plain", config: config).exitCode == 0)
        #expect(!fileExists(saved), "tuning's DEL ran, from the list ADD ran, though its file is gone")
        k.expectClean(["cluster-file"])

        try writeFile(tuning, (["type": "tuning", "mac": .string(mac), "dataDir": .string(tuningData)] as JSONValue).serializedBytes())
        _ = try Self.clusterFile(k, extra: ["loadOnlyInlinedPlugins": true])
        #expect(k.multus("ADD", pod: "web-plain", config: config).exitCode == 0)
        #expect(Set(k.box.podInterfaces().keys) == ["lo", "eth0"])
        #expect(!sh("ip -n \(k.box.netnsName) link show eth0").output.contains(mac), "loadOnlyInlinedPlugins: the subdirectory is not read")
        #expect(!fileExists(saved))
        #expect(k.multus("DEL", pod: "web-plain", config: config).exitCode == 0)
        k.expectClean(["cluster-file"])
    }

    @Test("auxiliaryCNIChainName: its plugins run after every network on net3, from an empty result, on ADD, DEL and rollback; no network-status entry")
    func auxiliaryChain() throws {
        let k = try KubeSandbox()
        let record = k.box.root + "/aux.log"
        let path = try Self.clusterFile(k)
        try makeDirectories(k.confDir + "/aux")
        try writeFile(k.confDir + "/aux/10-sysctl.conf", Array(#"{"type":"tuning","sysctl":{"net.ipv4.ip_unprivileged_port_start":"81"}}"#.utf8))
        try writeFile(k.confDir + "/aux/20-recorder.conf", (["type": "recorder", "record": .string(record)] as JSONValue).serializedBytes())
        let config = k.config(extra: ["clusterNetwork": .string(path), "auxiliaryCNIChainName": "aux", "binDir": .string(k.box.pluginDirectoryWithTestPlugins)])

        let add = k.multus("ADD", pod: "web-comma", config: config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(Self.records(record).map { "\($0["command"]?.stringValue ?? "") \($0["ifname"]?.stringValue ?? "")" } == ["ADD net3"])
        #expect(sh("ip netns exec \(k.box.netnsName) sysctl -n net.ipv4.ip_unprivileged_port_start").output.trimmingSpacesAround.hasPrefix("81"))
        #expect(Set(k.box.podInterfaces().keys) == ["lo", "eth0", "net1", "net2"], "the chain has no interface of its own")
        #expect(try k.networkStatus("web-comma")?.map { $0["interface"]?.stringValue } == ["eth0", "net1", "net2"])
        let cached = try JSONValue.parse(readFile("\(k.box.cniDir)/attachments/\(k.box.containerID).json"))
        #expect(cached["attachments"]?.arrayValue?.map { "\($0["role"]?.stringValue ?? "") \($0["ifName"]?.stringValue ?? "")" } == ["main eth0", "secondary net1", "secondary net2", "auxiliary net3"])

        #expect(k.multus("DEL", pod: "web-comma", config: config).exitCode == 0)
        #expect(Self.records(record).map { $0["command"]?.stringValue } == ["ADD", "DEL"])
        k.expectClean(["cluster-file", "macvlan-conf", "ptp-conf"])

        // A failure after the chain ran (the status write refused) rolls it back too.
        removeTree(record)
        try k.server.setFaults(["failNext": [["pathContains": "/pods/web-comma/status", "method": "PUT", "status": 500, "count": 10]]])
        #expect(k.multus("ADD", pod: "web-comma", config: config).exitCode != 0)
        #expect(Self.records(record).map { "\($0["command"]?.stringValue ?? "") \($0["ifname"]?.stringValue ?? "")" } == ["ADD net3", "DEL net3"])
        k.expectClean(["cluster-file", "macvlan-conf", "ptp-conf"])
        try k.server.setFaults([:])

        // The chain lives beside the cluster network's file: a NAD as cluster network cannot have one.
        let refused = try #require(k.multus("ADD", pod: "web-comma", config: k.config(extra: ["auxiliaryCNIChainName": "aux"])).error)
        #expect(refused.code == .invalidNetworkConfig)
        #expect(refused.msg.contains("auxiliaryCNIChainName \"aux\" needs clusterNetwork to be a file path"))
    }

    @Test("GC: without the attachments key nothing is collected; with [] everything; with a list exactly what it does not name")
    func gcForEveryShape() throws {
        let a = try Sandbox()
        let b = try Sandbox()
        // Two pods on the node, one cache (a's); the networks are a's.
        let config = JSONValue.object(try #require(a.multusConfig(version: "1.1.0", delegates: [a.bridgeNetwork("podnet", third: 1), a.ptpNetwork("p2pnet", third: 2)]).objectValue))
        #expect(a.multus("ADD", config).exitCode == 0)
        #expect(b.multus("ADD", config).exitCode == 0)
        #expect(a.leases("podnet")?.count == 2 && a.leases("p2pnet")?.count == 2)
        func gc(_ valid: JSONValue?) -> Outcome {
            var request = config.objectValue ?? JSONObject()
            if let valid { request["cni.dev/valid-attachments"] = valid }
            return a.multus("GC", .object(request), environment: ["CNI_CONTAINERID": "", "CNI_NETNS": "", "CNI_IFNAME": "", "CNI_ARGS": ""])
        }

        #expect(gc(nil).exitCode == 0)
        #expect(Set(a.podInterfaces().keys) == ["lo", "eth0", "net1"] && Set(b.podInterfaces().keys) == ["lo", "eth0", "net1"], "nothing collected")

        #expect(gc([["containerID": .string(a.containerID), "ifname": "eth0"]]).exitCode == 0)
        #expect(Set(a.podInterfaces().keys) == ["lo", "eth0", "net1"])
        #expect(Set(b.podInterfaces().keys) == ["lo"], "b was not named: collected")
        #expect(a.leases("podnet") == [a.address(1, 2)] && a.leases("p2pnet") == [a.address(2, 2)], "b's leases (.3) released, a's kept")

        #expect(gc([]).exitCode == 0)
        #expect(Set(a.podInterfaces().keys) == ["lo"])
        #expect(a.leases("podnet") == [] && a.leases("p2pnet") == [])
    }
}
