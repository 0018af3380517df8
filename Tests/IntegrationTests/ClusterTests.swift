import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// What a cluster installed from Multus's own manifests imposes: its ClusterRole (no `patch`),
/// static pods, pods the API does not know yet, concurrent writers, events, and runtimes that
/// DEL twice. Real plugins in a real netns, the test API server enforcing RBAC.
@Suite("A real Multus cluster: RBAC, static pods, events, DEL without the API", .tags(.privileged),
       .enabled(if: isRoot, "needs root for network namespaces"))
struct ClusterTests {
    static let networks = ["cluster-net", "macvlan-conf", "ptp-conf"]

    @Test("network-status goes in with a PUT of the pod as read: every other annotation, label and the spec kept")
    func statusByUpdate() throws {
        let k = try KubeSandbox()
        let before = try #require(try k.server.object(kind: "Pod", namespace: "default", name: "web-comma"))
        let add = k.multus("ADD", pod: "web-comma")
        #expect(add.exitCode == 0, "\(add.stdout)")
        let writes = try k.server.requests().filter { $0.method != "GET" && $0.method != "POST" }
        #expect(writes.map { "\($0.method) \($0.path) \($0.status)" } == ["PUT /api/v1/namespaces/default/pods/web-comma/status 200"])
        #expect(writes.first?.contentType == "application/json")

        let after = try #require(try k.server.object(kind: "Pod", namespace: "default", name: "web-comma"))
        #expect(after["spec"] == before["spec"])
        #expect(after["metadata"]?["labels"] == before["metadata"]?["labels"])
        #expect(after["metadata"]?["annotations"]?["k8s.v1.cni.cncf.io/networks"] == before["metadata"]?["annotations"]?["k8s.v1.cni.cncf.io/networks"])
        #expect(try k.networkStatus("web-comma")?.map { $0["interface"]?.stringValue } == ["eth0", "net1", "net2"])
        #expect(k.multus("DEL", pod: "web-comma").exitCode == 0)
        k.expectClean(Self.networks)
    }

    @Test("a 409 on the status write: the pod is read again, only our annotation is set on what the other writer stored, and the retry lands")
    func conflictIsRetried() throws {
        let k = try KubeSandbox()
        try k.server.setFaults(["concurrentWrite": [["pathContains": "/pods/web-comma/status", "method": "PUT", "annotations": ["kubelet.test/seen": "yes"]]]])
        let add = k.multus("ADD", pod: "web-comma")
        #expect(add.exitCode == 0, "\(add.stdout)")
        let calls = try k.server.requests().filter { $0.method != "POST" }.map { "\($0.method) \($0.path) \($0.status)" }
        #expect(Array(calls.suffix(3)) == [
            "PUT /api/v1/namespaces/default/pods/web-comma/status 409",
            "GET /api/v1/namespaces/default/pods/web-comma 200",
            "PUT /api/v1/namespaces/default/pods/web-comma/status 200",
        ])
        let stored = try #require(try k.server.object(kind: "Pod", namespace: "default", name: "web-comma"))
        #expect(stored["metadata"]?["annotations"]?["kubelet.test/seen"] == "yes", "the other writer's change survives")
        #expect(try k.networkStatus("web-comma")?.count == 3)
        #expect(k.multus("DEL", pod: "web-comma").exitCode == 0)
        k.expectClean(Self.networks)
    }

    @Test("a pod deleted between ADD's read and its status write: ADD succeeds and says so")
    func podGoneBeforeStatusWrite() throws {
        let k = try KubeSandbox()
        try k.server.setFaults(["failNext": [["pathContains": "/pods/web-comma/status", "method": "PUT", "status": 404, "count": 1,
                                              "message": "pods \"web-comma\" not found"]]])
        let add = k.multus("ADD", pod: "web-comma")
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(add.diagnostics.contains { $0.contains("pod default/web-comma was deleted before its k8s.v1.cni.cncf.io/network-status could be written") },
                "\(add.diagnostics)")
        #expect(Set(k.box.podInterfaces().keys) == ["lo", "eth0", "net1", "net2"])
        #expect(k.multus("DEL", pod: "web-comma").exitCode == 0)
        k.expectClean(Self.networks)
    }

    @Test("a static pod's mirror, whose API UID is not the runtime's, attaches and gets its network-status")
    func staticPod() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let add = k.multus("ADD", pod: "etcd-node-1", uid: "9d3c2b1a0f8e7d6c5b4a39281706f5e4")
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["net1"] == ["10.\(n).1.2/24"])
        #expect(try k.networkStatus("etcd-node-1")?.map { $0["name"]?.stringValue } == ["kube-system/cluster-net", "default/macvlan-conf"])
        #expect(k.multus("DEL", pod: "etcd-node-1", uid: "9d3c2b1a0f8e7d6c5b4a39281706f5e4").exitCode == 0)
        k.expectClean(["cluster-net", "macvlan-conf"])

        // Any other pod whose UID differs was deleted and recreated: refused before anything is attached.
        let recreated = try #require(k.multus("ADD", pod: "web-comma", uid: "uid-of-an-older-web-comma").error)
        #expect(recreated.code == .invalidNetworkConfig)
        #expect(recreated.msg.contains("deleted and recreated"))
        #expect(k.box.lastReserved("cluster-net") == "10.\(n).0.2", "refused before any IPAM ran (the mirror pod's ADD reserved .2)")
        #expect(Set(k.box.podInterfaces().keys) == ["lo"])
    }

    @Test("a pod the API does not know: the cluster network and defaultNetworks from the config, no status write, a warning")
    func podUnknownToTheAPI() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let config = k.config(extra: ["defaultNetworks": ["alt-cluster"]])
        let add = k.multus("ADD", pod: "static-web", config: config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces() == ["lo": [], "eth0": ["10.\(n).0.2/24"], "net1": ["10.\(n).5.2/24"]])
        #expect(add.diagnostics.contains { $0.contains("pod default/static-web is not in the Kubernetes API") }, "\(add.diagnostics)")
        let calls = try k.takeRequests()
        // The watch cache's 404 is read again from storage before the pod counts as unknown.
        #expect(calls == [
            "GET /api/v1/namespaces/default/pods/static-web",
            "GET /api/v1/namespaces/default/pods/static-web",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/kube-system/network-attachment-definitions/cluster-net",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/kube-system/network-attachment-definitions/alt-cluster",
        ], "no status write, no event about a pod that is not there")
        #expect(k.multus("DEL", pod: "static-web", config: config).exitCode == 0)
        #expect(try k.takeRequests() == [])
        k.expectClean(["cluster-net", "alt-cluster"])
    }

    @Test("events: a NoNetworkFound warning for a missing NAD; none at all with \"events\": false")
    func eventsAndTheirSwitch() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        #expect(k.multus("ADD", pod: "web-missing").exitCode != 0)
        #expect(try k.events("web-missing") == [
            #"Warning NoNetworkFound: cannot find a network-attachment-definition (no-such-net) in namespace (default): network-attachment-definitions.k8s.cni.cncf.io "no-such-net" not found"#,
        ])
        k.expectClean(["cluster-net", "ptp-conf"])

        let quiet = k.config(extra: ["events": false])
        #expect(k.multus("ADD", pod: "web-comma", config: quiet).exitCode == 0)
        #expect(k.box.podInterfaces()["net2"] == ["10.\(n).2.2/24"])
        #expect(try k.takeRequests().filter { $0.hasPrefix("POST") } == [])
        #expect(try k.events("web-comma") == [])
        #expect(k.multus("DEL", pod: "web-comma", config: quiet).exitCode == 0)
        k.expectClean(Self.networks)
    }

    /// A host-local lease planted after the first DEL is released only if a delegate's DEL runs:
    /// the second DEL must leave it.
    @Test("DEL makes no API call; a second DEL, with or without CNI_NETNS, makes none and runs no delegate")
    func repeatedDelIsFree() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        #expect(k.multus("ADD", pod: "web-comma").exitCode == 0)
        #expect(k.box.leases("cluster-net") == ["10.\(n).0.2"])
        _ = try k.takeRequests()

        #expect(k.multus("DEL", pod: "web-comma").exitCode == 0)
        #expect(try k.takeRequests() == [])
        #expect(k.box.leases("cluster-net") == [])

        let planted = k.box.ipamDir + "/cluster-net/10.\(n).0.2"
        try writeFile(planted, Array("\(k.box.containerID)\r\neth0".utf8))
        for netns in [k.box.netnsPath, ""] {
            let repeated = k.multus("DEL", pod: "web-comma", netns: netns)
            #expect(repeated.exitCode == 0, "\(repeated.stdout)")
            #expect(try k.takeRequests() == [], "CNI_NETNS=\(netns)")
            #expect(k.box.leases("cluster-net") == ["10.\(n).0.2"], "no delegate ran (CNI_NETNS=\(netns))")
        }
        removeTree(planted)
        k.expectClean(Self.networks)
    }

    @Test("swift-multus's own, narrower ClusterRole (deploy/) is enough for ADD, CHECK and DEL with events")
    func ownClusterRoleSuffices() throws {
        let k = try KubeSandbox()
        try k.server.addToken("narrow-role", role: .swiftMultus)
        let kubeconfig = try k.server.kubeconfig(in: k.box.root, token: "narrow-role", fileName: "narrow")
        let config = k.config(kubeconfig: kubeconfig)
        let add = k.multus("ADD", pod: "web-comma", config: config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(add.diagnostics == [], "no event or write was refused")
        #expect(try k.events("web-comma").count == 3)
        #expect(try k.networkStatus("web-comma")?.count == 3)
        #expect(try k.server.requests().map(\.status).filter { $0 >= 300 } == [])
        #expect(k.multus("CHECK", pod: "web-comma", config: config).exitCode == 0)
        #expect(k.multus("DEL", pod: "web-comma", config: config).exitCode == 0)
        k.expectClean(Self.networks)
    }
}
