import CNI
import CNIExec
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// What NAD and pod authors (people who are not cluster admins) can and cannot make the plugin do
/// on the node. Real plugins and the real multus binary in a real netns, the test API server
/// enforcing Multus's ClusterRole.
@Suite("Security: what NAD and pod authors cannot do", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct SecurityTests {
    /// One test's cluster, with a plugin directory as a node has it plus `multus` (and `mycni`,
    /// another name for it) installed, and a directory a NAD author controls, holding `evil`: a
    /// plugin that records each call in `evil.log` and answers ADD with an empty result.
    final class Cluster: @unchecked Sendable {
        let k: KubeSandbox
        let nodeBin: String
        let authorBin: String
        let evilLog: String

        init() throws {
            k = try KubeSandbox()
            nodeBin = k.box.root + "/node-bin"
            authorBin = k.box.root + "/author-bin"
            evilLog = k.box.root + "/evil.log"
            sh("mkdir -p '\(nodeBin)' '\(authorBin)' && ln -s \(pluginDirectory)/* '\(nodeBin)/' && ln -s '\(BinaryTests.binary)' '\(nodeBin)/multus' && ln -s '\(BinaryTests.binary)' '\(nodeBin)/mycni'")
            try writeFile(authorBin + "/evil", Array("""
                #!/bin/sh
                cat >/dev/null
                echo "$CNI_COMMAND $CNI_IFNAME" >> '\(evilLog)'
                [ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0"}'
                exit 0

                """.utf8), mode: 0o755)
        }

        /// What the NAD author ran, one "COMMAND ifname" per call; empty when nothing ran.
        var evilCalls: [String] {
            String(decoding: readWholeFile(evilLog) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
        }

        /// A meta-plugin config of the author's: their own binDir and cache, their own delegate.
        func nestedConfig(type: String, extra: JSONObject = [:]) -> JSONObject {
            var config: JSONObject = ["cniVersion": "1.0.0", "name": "nested", "type": .string(type), "binDir": .string(authorBin),
                                      "cniDir": .string(k.box.root + "/author-cache"),
                                      "delegates": [["cniVersion": "1.0.0", "name": "evil", "type": "evil"]]]
            for (key, value) in extra { config[key] = value }
            return config
        }

        func putNAD(_ namespace: String, _ name: String, config: String) throws {
            try k.server.put(["apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                              "metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": ["config": .string(config)]])
        }

        func putPod(_ name: String, namespace: String = "default", annotations: JSONObject) throws {
            try k.server.put(["apiVersion": "v1", "kind": "Pod",
                              "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)"),
                                           "annotations": .object(annotations)],
                              "spec": ["nodeName": "node-1", "containers": [["name": "app", "image": "registry.k8s.io/pause:3.9"]]]])
        }

        /// The cluster's config with the node's plugin directory as binDir.
        func config(extra: JSONObject = [:]) -> JSONValue {
            var extra = extra
            if extra["binDir"] == nil { extra["binDir"] = .string(nodeBin) }
            return k.config(extra: extra)
        }

        func add(_ pod: String, config: JSONValue? = nil) -> Outcome {
            k.multus("ADD", pod: pod, config: config ?? self.config(), ownExecutable: BinaryTests.binary)
        }
    }

    struct NestedCase: Sendable, CustomTestStringConvertible {
        var name: String
        /// The NAD's config, for the author's meta-plugin config `nested` (see `Cluster.nestedConfig`).
        var config: @Sendable (Cluster) -> JSONObject
        var testDescription: String { name }
    }

    static let nested: [NestedCase] = [
        NestedCase(name: "type multus") { $0.nestedConfig(type: "multus") },
        NestedCase(name: "another name for the multus binary in binDir") { $0.nestedConfig(type: "mycni") },
        NestedCase(name: "multus as ptp's IPAM plugin (ptp runs it with the whole config)") { c in
            c.nestedConfig(type: "ptp", extra: ["ipam": ["type": "multus"]])
        },
        NestedCase(name: "multus in a plugin list") { c in
            var plugin = c.nestedConfig(type: "multus")
            plugin["name"] = nil
            plugin["cniVersion"] = nil
            return ["cniVersion": "1.0.0", "name": "nested", "plugins": [.object(plugin)]]
        },
    ]

    /// Before the guard, each of these ran the multus binary as a delegate, which ran the author's
    /// `evil` from the author's binDir, as root.
    @Test("a NAD that would run a meta-plugin is refused before anything runs", arguments: nested)
    func nestedMetaPlugin(_ c: NestedCase) throws {
        let cluster = try Cluster()
        try cluster.putNAD("default", "nested", config: JSONValue.object(c.config(cluster)).serialized())
        try cluster.putPod("web-nested", annotations: ["k8s.v1.cni.cncf.io/networks": "nested"])
        let add = cluster.add("web-nested")
        #expect(cluster.evilCalls == [], "the NAD author's plugin ran")
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("network-attachment-definition default/nested"), "\(error.msg)")
        #expect(error.msg.contains("a NAD may not run a meta-plugin"), "\(error.msg)")
        #expect(cluster.k.box.lastReserved("cluster-net") == nil, "nothing ran, not even the cluster network")
        cluster.k.expectClean(["cluster-net"])
    }

    /// The executable itself, with its real /proc/self/exe: `mycni` in binDir is a symlink to it.
    @Test("the multus executable recognises itself under another name through /proc/self/exe")
    func theBinaryKnowsItself() throws {
        let cluster = try Cluster()
        try cluster.putNAD("default", "nested", config: JSONValue.object(cluster.nestedConfig(type: "mycni")).serialized())
        try cluster.putPod("web-nested", annotations: ["k8s.v1.cni.cncf.io/networks": "nested"])
        let box = cluster.k.box
        let environment = ["CNI_COMMAND=ADD", "CNI_CONTAINERID=\(box.containerID)", "CNI_NETNS=\(box.netnsPath)", "CNI_IFNAME=eth0",
                           "CNI_PATH=\(pluginDirectory)", "CNI_ARGS=\(cluster.k.podArgs("web-nested"))", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        let output = try PosixSpawnExecutor().run(BinaryTests.binary, stdin: cluster.config().serializedBytes(), environment: environment,
                                                  timeout: .seconds(60))
        let error = try #require(CNIError(json: try JSONValue.parse(output.stdout)), "\(String(decoding: output.stdout, as: UTF8.self))")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains(#"type is "mycni", which is \#(cluster.nodeBin)/mycni, this multus binary itself"#), "\(error.msg)")
        #expect(cluster.evilCalls == [])
        cluster.k.expectClean(["cluster-net"])
    }

    /// The same for the other ways a NAD becomes a network: the default-network override, and
    /// `clusterNetwork`/`defaultNetworks` naming a NAD in multusNamespace.
    @Test("the guard holds for the default-network override and for clusterNetwork/defaultNetworks NADs")
    func nestedMetaPluginEveryWayIn() throws {
        let cluster = try Cluster()
        let nested = JSONValue.object(cluster.nestedConfig(type: "multus")).serialized()
        try cluster.putNAD("kube-system", "nested", config: nested)
        try cluster.putPod("web-nested-default", annotations: ["v1.multus-cni.io/default-network": "nested"])
        let ways: [(String, Outcome)] = [
            ("override", cluster.add("web-nested-default")),
            ("clusterNetwork", cluster.add("web-plain", config: cluster.config(extra: ["clusterNetwork": "nested"]))),
            ("defaultNetworks", cluster.add("web-plain", config: cluster.config(extra: ["defaultNetworks": ["nested"]]))),
        ]
        for (way, outcome) in ways {
            let error = try #require(outcome.error, "\(way): \(outcome.stdout)")
            #expect(error.code == .invalidNetworkConfig, "\(way)")
            #expect(error.msg.contains("network-attachment-definition kube-system/nested") && error.msg.contains("meta-plugin"), "\(way): \(error.msg)")
        }
        #expect(cluster.evilCalls == [])
        #expect(cluster.k.box.lastReserved("cluster-net") == nil)
        cluster.k.expectClean(["cluster-net"])
    }

    /// Config from the node's files is the operator's: a meta-plugin there still runs, as
    /// `delegates` always could. A NAD with an empty spec.config only picks such a file by name.
    @Test("the operator's files may still run a meta-plugin: clusterNetwork as a path, and a NAD's empty spec.config from confDir")
    func operatorFilesAreExempt() throws {
        let cluster = try Cluster()
        let file = cluster.k.box.root + "/operator-nested.conf"
        try writeFile(file, JSONValue.object(cluster.nestedConfig(type: "multus")).serializedBytes())
        let fromFile = cluster.add("web-plain", config: cluster.config(extra: ["clusterNetwork": .string(file)]))
        #expect(fromFile.exitCode == 0, "\(fromFile.stdout)")
        #expect(cluster.evilCalls == ["ADD eth0"])

        var confDirNetwork = cluster.nestedConfig(type: "multus")
        confDirNetwork["name"] = "operator-nested"
        try writeFile(cluster.k.confDir + "/20-operator-nested.conf", JSONValue.object(confDirNetwork).serializedBytes())
        try cluster.putNAD("default", "operator-nested", config: "")
        try cluster.putPod("web-operator-nested", annotations: ["k8s.v1.cni.cncf.io/networks": "operator-nested"])
        let fromConfDir = cluster.add("web-operator-nested")
        #expect(fromConfDir.exitCode == 0, "\(fromConfDir.stdout)")
        #expect(cluster.evilCalls == ["ADD eth0", "ADD net1"])
    }

    /// The exec lookup refuses these; the plan refuses them before the first delegate runs.
    @Test("a NAD whose type is a path or holds a NUL is refused before anything runs", arguments: ["../../../../bin/sh", "ptp\u{0}x", "/bin/true"])
    func pathLikeType(_ type: String) throws {
        let cluster = try Cluster()
        try cluster.putNAD("default", "pathlike", config: JSONValue.object(["cniVersion": "1.0.0", "name": "pathlike", "type": .string(type)]).serialized())
        try cluster.putPod("web-pathlike", annotations: ["k8s.v1.cni.cncf.io/networks": "pathlike"])
        let error = try #require(cluster.add("web-pathlike").error)
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("is not a plain file name") && error.msg.contains("network-attachment-definition default/pathlike"), "\(error.msg)")
        #expect(cluster.k.box.lastReserved("cluster-net") == nil)
        cluster.k.expectClean(["cluster-net"])
    }

    @Test("namespaceIsolation binds the default-network override: refused naming pod, NAD and rule; globalNamespaces lift it")
    func isolationBindsTheOverride() throws {
        let cluster = try Cluster()
        let k = cluster.k
        try cluster.putPod("web-takes-blue", annotations: ["v1.multus-cni.io/default-network": "blue/blue-net"])
        let isolated = k.config(extra: ["namespaceIsolation": true])
        let refused = k.multus("ADD", pod: "web-takes-blue", config: isolated)
        let error = try #require(refused.error, "\(refused.stdout)")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("blue/blue-net") && error.msg.contains("namespaceIsolation"), "\(error.msg)")
        #expect(error.msg.contains("annotation v1.multus-cni.io/default-network of pod default/web-takes-blue"), "\(error.msg)")
        #expect(error.details.contains("pod default/web-takes-blue"))
        #expect(k.box.lastReserved("blue-net") == nil && k.box.lastReserved("cluster-net") == nil, "no IPAM ran")
        k.expectClean(["blue-net", "cluster-net"])
        #expect(k.multus("DEL", pod: "web-takes-blue", config: isolated).exitCode == 0)

        let global = k.config(extra: ["namespaceIsolation": true, "globalNamespaces": "default,blue"])
        let allowed = k.multus("ADD", pod: "web-takes-blue", config: global)
        #expect(allowed.exitCode == 0, "\(allowed.stdout)")
        #expect(k.box.podInterfaces()["eth0"] == ["10.\(k.box.number).4.2/24"])
        #expect(k.multus("DEL", pod: "web-takes-blue", config: global).exitCode == 0)
        k.expectClean(["blue-net"])
    }

    /// Before the check, "eth0\0" passed, reached ptp as CNI_IFNAME=eth0, and ptp, failing on
    /// the main network's eth0, had its rollback DEL delete the main interface.
    @Test("an annotation asking for interface \"eth0\\0\" is refused, naming the field and the pod; nothing is attached")
    func interfaceWithNUL() throws {
        let cluster = try Cluster()
        let k = cluster.k
        try cluster.putPod("web-nul", annotations: ["k8s.v1.cni.cncf.io/networks": #"[{"name":"ptp-conf","interface":"eth0\u0000"}]"#])
        let add = k.multus("ADD", pod: "web-nul")
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("annotation k8s.v1.cni.cncf.io/networks of pod default/web-nul"), "\(error.msg)")
        #expect(error.msg.contains(#"interface name "eth0\u0000" contains a NUL byte"#), "\(error.msg)")
        #expect(k.box.lastReserved("cluster-net") == nil && k.box.lastReserved("ptp-conf") == nil, "no IPAM ran")
        k.expectClean(["cluster-net", "ptp-conf"])
    }

    enum Obstacle: String, Sendable, CaseIterable {
        case apiAway = "the API server is away"
        case nadDeleted = "a NAD was deleted"
    }

    /// A DEL with no cache entry tears down what it can reach. Before this, it left a tombstone
    /// anyway, and the runtime's next DEL (containerd's second one, a kubelet retry) did nothing:
    /// the rest leaked for good.
    @Test("a DEL that could not reach every network leaves no tombstone: the next DEL finishes the job", arguments: Obstacle.allCases)
    func partialDelLeavesNoTombstone(_ obstacle: Obstacle) throws {
        let k = try KubeSandbox()
        let n = k.box.number
        #expect(k.multus("ADD", pod: "web-comma").exitCode == 0)
        #expect(k.box.leases("macvlan-conf") == ["10.\(n).1.2"])
        removeTree(k.box.cniDir + "/attachments")
        let tombstone = k.box.cniDir + "/deleted/" + k.box.containerID

        let first: Outcome
        switch obstacle {
        case .apiAway:
            let away = k.box.root + "/away"
            try writeFile(away, Array(String(decoding: try readFile(k.kubeconfig), as: UTF8.self).replacingPort(of: k.server.server, with: "127.0.0.1:1").utf8))
            first = k.multus("DEL", pod: "web-comma", config: k.config(kubeconfig: away))
            #expect(k.box.leases("macvlan-conf") == ["10.\(n).1.2"], "nothing could be resolved")
        case .nadDeleted:
            let stored = try #require(try k.server.object(kind: "NetworkAttachmentDefinition", namespace: "default", name: "macvlan-conf"))
            #expect(try k.server.delete(kind: "NetworkAttachmentDefinition", namespace: "default", name: "macvlan-conf"))
            first = k.multus("DEL", pod: "web-comma")
            #expect(k.box.leases("macvlan-conf") == ["10.\(n).1.2"], "macvlan-conf was skipped")
            #expect(k.box.leases("ptp-conf") == [], "the others were torn down")
            try k.server.put(stored)
        }
        #expect(first.exitCode == 0, "\(first.stdout)")
        #expect(first.diagnostics.contains { $0.contains("a later DEL will try the rest again") }, "\(first.diagnostics)")
        #expect(!fileExists(tombstone))

        let second = k.multus("DEL", pod: "web-comma")
        #expect(second.exitCode == 0, "\(second.stdout)")
        k.expectClean(ClusterTests.networks)
        #expect(fileExists(tombstone), "a DEL that reached every network leaves its tombstone")
    }
}
