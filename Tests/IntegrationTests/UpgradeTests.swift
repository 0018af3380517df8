import CNI
import Glibc
import KubeClient
import MetaPlugin
import Testing
import TestSupport

/// A node upgraded in place: Multus attached a pod, then its binary was replaced by ours. The pod's
/// interfaces and leases are real (the reference plugins made them, on the interfaces Multus
/// names them); what is on disk is what Multus and its libcni leave: the delegate list in
/// `<cniDir>/<containerID>` (testdata/multus-cache) and libcni's cached results.
struct MultusAttachedPod {
    let k: KubeSandbox
    /// The three delegate configs Multus ran (cluster-net on eth0, macvlan-conf on net1, the
    /// ptp-chain conflist on net2), from the fixture's `Bytes`.
    let configs: [JSONValue]
    let cacheFile: String
    let resultFiles: [String]

    static let pod = "web-upgraded"
    static let networks = ["cluster-net", "macvlan-conf", "ptp-chain"]

    init(_ k: KubeSandbox) throws {
        self.k = k
        let box = k.box
        let fixture = try #require(try JSONValue.parse(k.substituted(String(decoding: readFile(testdata("multus-cache/v4-three-networks.json")), as: UTF8.self))).arrayValue)
        var written: [JSONValue] = []
        var configs: [JSONValue] = []
        for delegate in fixture {
            var fields = try #require(delegate.objectValue)
            let bytes = try #require(fields["Bytes"]?.stringValue.flatMap(Base64.decode))
            let config = k.substituted(String(decoding: bytes, as: UTF8.self))
            configs.append(try JSONValue.parse(Array(config.utf8)))
            fields["Bytes"] = .string(Base64.encode(Array(config.utf8)))
            written.append(.object(fields))
        }
        self.configs = configs

        // The real attachments, made by the real plugins on eth0, net1, net2 with the pod's args.
        let add = box.multus("ADD", box.multusConfig(delegates: configs), args: k.podArgs(Self.pod))
        try #require(add.exitCode == 0, "attaching as Multus did: \(add.stdout)")
        let ours = box.cniDir + "/attachments/\(box.containerID).json"
        let entry = try #require(try JSONValue.parse(readFile(ours)).objectValue?["attachments"]?.arrayValue)
        try #require(entry.count == 3)

        // What libcni (under Multus, cacheDir = Multus's cniDir) cached for each delegate.
        try makeDirectories(box.cniDir + "/results")
        var resultFiles: [String] = []
        for (attachment, ifName) in zip(entry, ["eth0", "net1", "net2"]) {
            let network = try #require(attachment["network"]?["name"]?.stringValue)
            let file = "\(box.cniDir)/results/\(network)-\(box.containerID)-\(ifName)"
            let record: JSONValue = [
                "kind": "cniCacheV1", "containerId": .string(box.containerID), "config": .string(Base64.encode(attachment["network"]?.serializedBytes() ?? [])),
                "ifName": .string(ifName), "networkName": .string(network), "netns": .string(box.netnsPath),
                "cniArgs": [["K8S_POD_NAMESPACE", "default"], ["K8S_POD_NAME", .string(Self.pod)]],
                "result": attachment["result"] ?? .null,
            ]
            try writeFile(file, record.serializedBytes())
            resultFiles.append(file)
        }
        self.resultFiles = resultFiles
        removeTree(ours)
        cacheFile = box.cniDir + "/" + box.containerID
        try writeFile(cacheFile, JSONValue.array(written).serializedBytes(), mode: 0o600)

        // The pod and its NADs as the API holds them.
        try k.server.put(["kind": "NetworkAttachmentDefinition", "metadata": ["name": "ptp-chain", "namespace": "default"],
                          "spec": ["config": .string(configs[2].serialized())]])
        try k.server.put(["kind": "Pod", "metadata": ["name": .string(Self.pod), "namespace": "default", "uid": .string("uid-\(Self.pod)"),
                                                      "annotations": ["k8s.v1.cni.cncf.io/networks": "macvlan-conf,ptp-chain"]]])
        _ = try k.takeRequests()
    }

    /// The leases and interfaces Multus's ADD left, before anything of ours ran.
    func expectAttached(sourceLocation: SourceLocation = #_sourceLocation) {
        let n = k.box.number
        #expect(k.box.podInterfaces() == ["lo": [], "eth0": ["10.\(n).0.2/24"], "net1": ["10.\(n).1.2/24"], "net2": ["10.\(n).2.2/24"]],
                sourceLocation: sourceLocation)
        #expect(Self.networks.map { k.box.leases($0) } == [["10.\(n).0.2"], ["10.\(n).1.2"], ["10.\(n).2.2"]], sourceLocation: sourceLocation)
    }
}

@Suite("Taking over from Multus in place", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct UpgradeTests {
    @Test("DEL of a pod Multus attached: every interface and lease gone, from Multus's cache alone, with its NADs in the API or deleted",
          arguments: [false, true])
    func delFromMultusCache(nadsDeleted: Bool) throws {
        let k = try KubeSandbox()
        let pod = try MultusAttachedPod(k)
        pod.expectAttached()
        if nadsDeleted {
            for (namespace, name) in [("kube-system", "cluster-net"), ("default", "macvlan-conf"), ("default", "ptp-chain")] {
                #expect(try k.server.delete(kind: "NetworkAttachmentDefinition", namespace: namespace, name: name))
            }
            #expect(try k.server.delete(kind: "Pod", namespace: "default", name: MultusAttachedPod.pod))
        }

        let del = k.multus("DEL", pod: MultusAttachedPod.pod)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(try k.takeRequests() == [], "no API call, no NAD needed")
        #expect(k.box.podInterfaces() == ["lo": []])
        #expect(MultusAttachedPod.networks.map { k.box.leases($0) } == [[], [], []], "no lease left")
        #expect(!fileExists(pod.cacheFile), "Multus's record is gone")
        #expect(pod.resultFiles.filter(fileExists) == [], "libcni's cached results are gone")
        #expect(directoryEntries(k.box.cniDir + "/attachments").filter { !$0.hasPrefix(".") } == [])
        #expect(del.diagnostics == [])

        let again = k.multus("DEL", pod: MultusAttachedPod.pod)
        #expect(again.exitCode == 0)
        #expect(try k.takeRequests() == [], "the repeated DEL is free too")
    }

    @Test("CHECK of a pod Multus attached runs every delegate's CHECK against libcni's cached result, and finds a missing interface")
    func checkFromMultusCache() throws {
        let k = try KubeSandbox()
        let pod = try MultusAttachedPod(k)
        pod.expectAttached()
        let check = k.multus("CHECK", pod: MultusAttachedPod.pod)
        #expect(check.exitCode == 0, "\(check.stdout)")
        #expect(try k.takeRequests() == [])

        sh("ip -n \(k.box.netnsName) link del net1")
        let broken = try #require(k.multus("CHECK", pod: MultusAttachedPod.pod).error)
        #expect(broken.details.contains("network \"default/macvlan-conf\" (interface net1, from Multus's cache \(pod.cacheFile))"), "\(broken.details)")

        #expect(k.multus("DEL", pod: MultusAttachedPod.pod).exitCode == 0)
        #expect(MultusAttachedPod.networks.map { k.box.leases($0) } == [[], [], []])
    }

    /// The cache was lost (or never written) and one NAD has since been deleted: DEL still tears
    /// down the two networks it can resolve, and names the one it cannot.
    @Test("DEL with no record at all: every network that can be resolved is torn down; a deleted NAD is skipped and named")
    func fallbackSkipsWhatCannotBeResolved() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        #expect(k.multus("ADD", pod: "web-comma").exitCode == 0)
        #expect([k.box.leases("cluster-net"), k.box.leases("macvlan-conf"), k.box.leases("ptp-conf")] == [["10.\(n).0.2"], ["10.\(n).1.2"], ["10.\(n).2.2"]])
        removeTree(k.box.cniDir + "/attachments/\(k.box.containerID).json")
        #expect(try k.server.delete(kind: "NetworkAttachmentDefinition", namespace: "default", name: "macvlan-conf"))

        let del = k.multus("DEL", pod: "web-comma")
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(k.box.leases("cluster-net") == [] && k.box.leases("ptp-conf") == [], "the two resolvable networks are torn down")
        #expect(k.box.leases("macvlan-conf") == ["10.\(n).1.2"], "the deleted NAD's network could not be")
        #expect(Set(k.box.podInterfaces().keys) == ["lo", "net1"])
        let skipped = del.diagnostics.filter { $0.contains("skipped") }
        #expect(skipped.count == 1)
        #expect(skipped.first?.contains("default/macvlan-conf") == true, "\(del.diagnostics)")
        // Clean up what nobody could resolve any more.
        sh("ip -n \(k.box.netnsName) link del net1")
        removeTree(k.box.ipamDir + "/macvlan-conf")
    }
}
