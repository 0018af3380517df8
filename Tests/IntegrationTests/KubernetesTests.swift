import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// One test's Kubernetes: the test API server over TLS with the objects of
/// testdata/kube-scenarios (this test's subnets, lease directory and links substituted in),
/// a bearer token for Multus's service account with exactly Multus's ClusterRole, and a
/// kubeconfig for it.
final class KubeSandbox: @unchecked Sendable {
    let box: Sandbox
    let server: TestAPIServer
    let kubeconfig: String
    let confDir: String
    /// What this test's placeholders stand for (see testdata/kube-scenarios/README.md).
    let substitutions: [String: String]
    static let token = "multus-token"

    init() throws {
        box = try Sandbox()
        let parent = box.makeParentBridge()
        let bridge = box.hostName("kb")
        box.bridges += [bridge, bridge + "d"]
        substitutions = ["@N@": "\(box.number)", "@HEX@": String(format2: box.number), "@IPAM@": box.ipamDir, "@BRIDGE@": bridge, "@PARENT@": parent]
        server = try TestAPIServer(objects: testdata("kube-scenarios"), substitutions: substitutions)
        try server.addToken(Self.token)
        kubeconfig = try server.kubeconfig(in: box.root, token: Self.token)
        confDir = box.root + "/net.d"
        try makeDirectories(confDir)
        let fromConfDir: JSONValue = ["cniVersion": "1.0.0", "name": "from-confdir", "type": "ptp", "ipam": box.hostLocal(3)]
        try writeFile(confDir + "/10-from-confdir.conf", fromConfDir.serializedBytes())
    }

    func config(kubeconfig: String? = nil, extra: JSONObject = [:]) -> JSONValue {
        var config: JSONObject = [
            "cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "kubeconfig": .string(kubeconfig ?? self.kubeconfig),
            "clusterNetwork": "cluster-net", "confDir": .string(confDir), "cniDir": .string(box.cniDir), "binDir": .string(pluginDirectory),
        ]
        for (key, value) in extra { config[key] = value }
        return .object(config)
    }

    /// `text` with this test's placeholders filled in.
    func substituted(_ text: String) -> String {
        substitutions.reduce(text) { $0.replacing($1.key, with: $1.value) }
    }

    /// The CNI_ARGS the runtime passes for `pod`.
    func podArgs(_ pod: String, namespace: String = "default", uid: String? = nil) -> String {
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=\(namespace);K8S_POD_NAME=\(pod);K8S_POD_INFRA_CONTAINER_ID=\(box.containerID);K8S_POD_UID=\(uid ?? "uid-\(pod)")"
    }

    /// A CNI call for `pod`, with the UID the runtime passes (by default the fixture's, `uid-<pod>`).
    func multus(_ command: String, pod: String, namespace: String = "default", uid: String? = nil, config: JSONValue? = nil,
                devices: DevicePaths = .live, netns: String? = nil, ownExecutable: String = "/proc/self/exe") -> Outcome {
        box.multus(command, config ?? self.config(), netns: netns, args: podArgs(pod, namespace: namespace, uid: uid), devices: devices,
                   ownExecutable: ownExecutable)
    }

    /// The events stored about `pod`, oldest first, as "Type Reason: message".
    func events(_ pod: String, namespace: String = "default") throws -> [String] {
        try server.list(kind: "Event", namespace: namespace)
            .filter { $0["involvedObject"]?["name"]?.stringValue == pod }
            .sorted { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }
            .map { "\($0["type"]?.stringValue ?? "?") \($0["reason"]?.stringValue ?? "?"): \($0["message"]?.stringValue ?? "?")" }
    }

    /// The pod's network-status as the API server stores it, parsed.
    func networkStatus(_ pod: String, namespace: String = "default") throws -> [JSONObject]? {
        let stored = try server.object(kind: "Pod", namespace: namespace, name: pod)
        guard let text = stored?.objectValue?["metadata"]?.objectValue?["annotations"]?.objectValue?["k8s.v1.cni.cncf.io/network-status"]?.stringValue
        else { return nil }
        return try JSONValue.parse(text).arrayValue?.compactMap(\.objectValue)
    }

    /// REST requests since the last call, as "METHOD path". No request may be a PATCH: Multus's
    /// ClusterRole does not grant it, so a PATCH is a bug even where the test does not look.
    func takeRequests(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        defer { try? server.clearLog() }
        let requests = try server.requests().map { "\($0.method) \($0.path)" }
        #expect(!requests.contains { $0.hasPrefix("PATCH") }, "the plugin sent a PATCH: \(requests)", sourceLocation: sourceLocation)
        return requests
    }

    /// Nothing left: only `lo` in the pod, and each of `networks` reached host-local and holds no
    /// lease now (a misspelt network has no directory and fails). A sandbox where no network ever
    /// reached host-local (refused before any attachment) has no lease directory at all.
    func expectClean(_ networks: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        _ = try? takeRequests(sourceLocation: sourceLocation)
        #expect(Set(box.podInterfaces().keys) == ["lo"], "interfaces left in the pod", sourceLocation: sourceLocation)
        guard fileExists(box.ipamDir) else { return }
        for network in networks { #expect(box.leases(network) == [], "leases left for \(network)", sourceLocation: sourceLocation) }
    }
}

@Suite("Kubernetes: annotations, NADs and network-status", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct KubernetesTests {
    @Test("comma form: clusterNetwork NAD + two NADs; one pod read, N NAD reads, one status write; DEL from the cache")
    func commaForm() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let add = k.multus("ADD", pod: "web-comma")
        #expect(add.exitCode == 0, "\(add.stdout)")
        let interfaces = k.box.podInterfaces()
        #expect(interfaces["eth0"] == ["10.\(n).0.2/24"])
        #expect(interfaces["net1"] == ["10.\(n).1.2/24"])
        #expect(interfaces["net2"] == ["10.\(n).2.2/24"])

        let status = try #require(try k.networkStatus("web-comma"))
        #expect(status.map { $0["name"]?.stringValue } == ["kube-system/cluster-net", "default/macvlan-conf", "default/ptp-conf"])
        #expect(status.map { $0["interface"]?.stringValue } == ["eth0", "net1", "net2"])
        #expect(status.map { $0["ips"] } == [["10.\(n).0.2"], ["10.\(n).1.2"], ["10.\(n).2.2"]].map { JSONValue.array($0.map { .string($0) }) })
        #expect(status.map { $0["default"] } == [true, nil, nil])
        #expect(status.first?["gateway"] == [.string("10.\(n).0.1")], "the default route's gateway")
        #expect(status.allSatisfy { ($0["mac"]?.stringValue?.count ?? 0) == 17 })

        // N networks: 1 pod read, N NAD reads, N events, 1 status update (2N+2; Multus makes 2N+4).
        let addCalls = try k.takeRequests()
        #expect(Array(addCalls.prefix(4)) == [
            "GET /api/v1/namespaces/default/pods/web-comma",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/kube-system/network-attachment-definitions/cluster-net",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/macvlan-conf",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/ptp-conf",
        ])
        // Events go out while later delegates run, so the last may pass the status update.
        #expect(addCalls.dropFirst(4).sorted() == ["POST /api/v1/namespaces/default/events", "POST /api/v1/namespaces/default/events",
                                                   "POST /api/v1/namespaces/default/events", "PUT /api/v1/namespaces/default/pods/web-comma/status"])
        #expect(try k.events("web-comma") == [
            "Normal AddedInterface: Add eth0 [10.\(n).0.2/24] from kube-system/cluster-net",
            "Normal AddedInterface: Add net1 [10.\(n).1.2/24] from default/macvlan-conf",
            "Normal AddedInterface: Add net2 [10.\(n).2.2/24] from default/ptp-conf",
        ])

        #expect(k.multus("CHECK", pod: "web-comma").exitCode == 0)
        #expect(try k.takeRequests() == [], "CHECK reads the cache only")
        let del = k.multus("DEL", pod: "web-comma")
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(try k.takeRequests() == [], "DEL tears down from the cache and makes no API call")
        #expect(try k.networkStatus("web-comma")?.count == 3, "network-status is left to the pod's deletion or next ADD, as Multus does")
        k.expectClean(["cluster-net", "macvlan-conf", "ptp-conf"])
    }

    @Test("JSON form: custom interface name, static IPs via the static IPAM plugin, a MAC")
    func jsonForm() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let add = k.multus("ADD", pod: "web-json")
        #expect(add.exitCode == 0, "\(add.stdout)")
        let interfaces = k.box.podInterfaces()
        #expect(interfaces["eth0"] == ["10.\(n).0.2/24"])
        #expect(interfaces["net1"] == ["10.\(n).1.2/24"])
        #expect(interfaces["net2"] == ["10.\(n).2.2/24"])
        #expect(interfaces["sta1"] == ["10.\(n).9.5/24"])
        let mac = "c2:00:00:00:00:\(String(format2: n))"
        #expect(sh("ip -n \(k.box.netnsName) link show sta1").output.contains(mac))

        let status = try #require(try k.networkStatus("web-json"))
        #expect(status.count == 4)
        let staticEntry = try #require(status.last)
        #expect(staticEntry["name"] == "default/static-conf")
        #expect(staticEntry["interface"] == "sta1")
        #expect(staticEntry["ips"] == [.string("10.\(n).9.5")])
        #expect(staticEntry["mac"] == .string(mac))
        // The result is the main network's alone.
        #expect(add.result?.ips.map(\.address.text) == ["10.\(n).0.2/24"])

        #expect(k.multus("CHECK", pod: "web-json").exitCode == 0)
        #expect(k.multus("DEL", pod: "web-json").exitCode == 0)
        k.expectClean(["cluster-net", "macvlan-conf", "ptp-conf"])
    }

    @Test("v1.multus-cni.io/default-network replaces the cluster network")
    func defaultNetworkOverride() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let add = k.multus("ADD", pod: "web-override")
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["eth0"] == ["10.\(n).5.2/24"])
        #expect(k.box.podInterfaces()["net1"] == ["10.\(n).2.2/24"])
        #expect(try k.networkStatus("web-override")?.first?["name"] == "kube-system/alt-cluster")
        #expect(k.multus("DEL", pod: "web-override").exitCode == 0)
        k.expectClean(["alt-cluster", "ptp-conf"])
    }

    @Test("a NAD in another namespace: allowed by default, refused under namespaceIsolation before anything is attached")
    func namespaceIsolation() throws {
        let k = try KubeSandbox()
        let allowed = k.multus("ADD", pod: "web-blue")
        #expect(allowed.exitCode == 0, "\(allowed.stdout)")
        #expect(k.box.podInterfaces()["net1"] == ["10.\(k.box.number).4.2/24"])
        #expect(k.multus("DEL", pod: "web-blue").exitCode == 0)
        let reserved = ["cluster-net", "blue-net"].map { k.box.lastReserved($0) }
        #expect(reserved == ["10.\(k.box.number).0.2", "10.\(k.box.number).4.2"])

        let isolated = k.config(extra: ["namespaceIsolation": true])
        let refused = k.multus("ADD", pod: "web-blue", config: isolated)
        let error = try #require(refused.error, "\(refused.stdout)")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("blue/blue-net") && error.msg.contains("namespaceIsolation"))
        #expect(error.details.contains("pod default/web-blue"))
        #expect(["cluster-net", "blue-net"].map { k.box.lastReserved($0) } == reserved, "no IPAM ran for the refused ADD")
        k.expectClean(["cluster-net", "blue-net"])
    }

    @Test("a NAD with an empty spec.config takes the config of its name from confDir")
    func emptyConfigFromConfDir() throws {
        let k = try KubeSandbox()
        let add = k.multus("ADD", pod: "web-confdir")
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["net1"] == ["10.\(k.box.number).3.2/24"])
        #expect(k.multus("DEL", pod: "web-confdir").exitCode == 0)
        k.expectClean(["cluster-net", "from-confdir"])
    }

    @Test("a pod in a system namespace: its own networks, but no network-status write")
    func systemNamespace() throws {
        let k = try KubeSandbox()
        let add = k.multus("ADD", pod: "coredns-0", namespace: "kube-system")
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["net7"] == ["10.\(k.box.number).5.2/24"])
        #expect(try k.takeRequests() == [
            "GET /api/v1/namespaces/kube-system/pods/coredns-0",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/kube-system/network-attachment-definitions/cluster-net",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/kube-system/network-attachment-definitions/alt-cluster",
            "POST /api/v1/namespaces/kube-system/events", "POST /api/v1/namespaces/kube-system/events",
        ], "reads and events, and no status write")
        #expect(k.multus("DEL", pod: "coredns-0", namespace: "kube-system").exitCode == 0)
        #expect(try k.takeRequests().isEmpty, "DEL needs no API call at all")
        k.expectClean(["cluster-net", "alt-cluster"])
    }

    @Test("a missing NAD is a clear error naming it and the pod, and nothing is left behind")
    func missingNAD() throws {
        let k = try KubeSandbox()
        let add = k.multus("ADD", pod: "web-missing")
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("default/no-such-net") && error.msg.contains("not found"))
        #expect(error.details.contains("pod default/web-missing"))
        #expect(k.box.leases("cluster-net") == nil && k.box.leases("ptp-conf") == nil, "refused while resolving, before any IPAM ran")
        k.expectClean(["cluster-net", "ptp-conf"])
        #expect(k.multus("DEL", pod: "web-missing").exitCode == 0)
    }

    @Test("credentials refused (401), RBAC refusal (403) and an unreachable server: clear errors, nothing attached")
    func apiFailures() throws {
        let k = try KubeSandbox()
        let wrongToken = try k.server.kubeconfig(in: k.box.root, token: "not-a-token", fileName: "wrong-token")
        let unauthorized = try #require(k.multus("ADD", pod: "web-plain", config: k.config(kubeconfig: wrongToken)).error)
        #expect(unauthorized.code == .generic, "401 is not worth a retry: the credentials are wrong")
        #expect(unauthorized.msg.contains("401") && unauthorized.msg.contains("web-plain"))

        try k.server.addToken("narrow", user: "narrow", namespaces: ["kube-system"])
        let narrow = try k.server.kubeconfig(in: k.box.root, token: "narrow", fileName: "narrow")
        let forbidden = try #require(k.multus("ADD", pod: "web-plain", config: k.config(kubeconfig: narrow)).error)
        #expect(forbidden.code == .generic)
        #expect(forbidden.msg.contains("403") && forbidden.msg.contains("forbidden"))

        let away = k.box.root + "/away"
        try writeFile(away, Array(String(decoding: try readFile(k.kubeconfig), as: UTF8.self)
            .replacingPort(of: k.server.server, with: "127.0.0.1:1").utf8))
        let unreachable = try #require(k.multus("ADD", pod: "web-plain", config: k.config(kubeconfig: away)).error)
        #expect(unreachable.code == .tryAgainLater)
        #expect(unreachable.msg.contains("127.0.0.1:1"))
        k.expectClean(["cluster-net"])
    }

    @Test("a refused network-status write fails ADD, names the write, and rolls every network back")
    func statusWriteRefused() throws {
        let k = try KubeSandbox()
        try k.server.setFaults(["failNext": [["pathContains": "/pods/web-comma/status", "method": "PUT", "status": 403, "count": 1,
                                              "message": "pods \"web-comma\" is forbidden: cannot update resource \"pods/status\""]]])
        let add = k.multus("ADD", pod: "web-comma")
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.msg.contains("writing k8s.v1.cni.cncf.io/network-status of pod default/web-comma") && error.msg.contains("403"))
        k.expectClean(["cluster-net", "macvlan-conf", "ptp-conf"])
        #expect(directoryEntries(k.box.cniDir + "/attachments").isEmpty, "the cache entry is gone with the rollback")
        #expect(k.multus("DEL", pod: "web-comma").exitCode == 0)
    }

    @Test("a pod deleted between ADD and DEL still tears down cleanly")
    func podDeletedBeforeDel() throws {
        let k = try KubeSandbox()
        #expect(k.multus("ADD", pod: "web-comma").exitCode == 0)
        #expect(Set(k.box.podInterfaces().keys) == ["lo", "eth0", "net1", "net2"])
        #expect(k.box.leases("macvlan-conf") == ["10.\(k.box.number).1.2"])
        #expect(try k.server.delete(kind: "Pod", namespace: "default", name: "web-comma"), "the pod existed and is gone")
        let del = k.multus("DEL", pod: "web-comma")
        #expect(del.exitCode == 0, "\(del.stdout)")
        k.expectClean(["cluster-net", "macvlan-conf", "ptp-conf"])
    }

    @Test("kubeconfigs with a client certificate, with a tokenFile, and with the CA inline", arguments: ["cert", "tokenFile", "inline"])
    func credentials(kind: String) throws {
        let k = try KubeSandbox()
        let kubeconfig: String
        switch kind {
        case "cert":
            try k.server.addCertUser(cn: "system:multus-client")
            kubeconfig = try k.server.kubeconfig(in: k.box.root, clientCert: true, fileName: "cert")
        case "tokenFile":
            let tokenFile = k.box.root + "/token"
            try writeFile(tokenFile, Array("\(KubeSandbox.token)\n".utf8))
            kubeconfig = try k.server.kubeconfig(in: k.box.root, tokenFile: tokenFile, fileName: "tokenfile")
        default:
            kubeconfig = try k.server.kubeconfig(in: k.box.root, token: KubeSandbox.token, caInline: true, fileName: "inline")
        }
        let add = k.multus("ADD", pod: "web-comma", config: k.config(kubeconfig: kubeconfig))
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.networkStatus("web-comma")?.count == 3)
        #expect(k.multus("DEL", pod: "web-comma", config: k.config(kubeconfig: kubeconfig)).exitCode == 0)
        k.expectClean(["cluster-net", "macvlan-conf", "ptp-conf"])
    }
}

extension String {
    /// This kubeconfig text with the server's "host:port" replaced.
    func replacingPort(of server: String, with hostPort: String) -> String {
        replacing(String(server.dropFirst("https://".count)), with: hostPort)
    }
}
