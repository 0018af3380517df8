import CNI
import CNIExec
import KubeClient
import Testing
import TestSupport

/// A release of Multus whose thin plugin made fixtures in testdata/multus-cache.
enum MultusRelease: String, CaseIterable, CustomStringConvertible {
    case v4_0_2 = "v4.0.2"
    case v4_2_2 = "v4.2.2"
    case v4_3_0 = "v4.3.0"
    var description: String { rawValue }
}

/// The pod's main network as the node's 00-multus.conf names it (`clusterNetwork`, a file path).
enum ClusterNetworkShape: String, CaseIterable, CustomStringConvertible {
    /// `10-cluster.conflist`: ptp (host-local) then tuning, as Calico, Cilium and flannel install a list.
    case conflist
    /// `10-cluster.conf`: ptp (host-local) alone.
    case conf
    var description: String { rawValue }
    var fileName: String { "10-cluster.\(rawValue)" }
}

/// A pod that a real Multus attached before the node's binary was replaced by ours, rebuilt from
/// testdata/multus-cache/<release>/<shape>/ (made by that release itself: generate.sh there).
///
/// Why what DEL and CHECK then see is what that Multus left:
/// - Multus's files (its delegate list `<cniDir>/<containerID>` and libcni's
///   `<cniDir>/results/<network>-<containerID>-<ifname>`) are copied into this test's cniDir
///   byte for byte, except for the generation run's five names, replaced by this test's wherever
///   they occur, inside the base64 fields (`Bytes`, `Plugins[].Bytes`, libcni's `config`) too:
///   its scratch root, its netns path, its container ID, its macvlan parent and its `10.250.`
///   subnets. No field is added, dropped, reordered or re-encoded otherwise.
/// - The attachments those files describe are made again by the real reference plugins, run as
///   libcni runs a network (DelegateRunner, no meta-plugin of ours), from the inputs Multus was
///   given (testdata/multus-cache/inputs: the cluster network file and the NADs), with the
///   container ID, netns and interface names the files name. host-local then hands out the same
///   addresses (.2 of each fresh subnet), the firewall step writes the same rules. Only the
///   kernel's random picks differ: the pod-side MACs are set to those the results record, since
///   CHECK compares them; the host-side veth names (which no DEL or CHECK reads) stay as made.
/// So our binary learns what to undo from Multus's files alone, and no plugin's state was made
/// by our code.
struct MultusFixture {
    let k: KubeSandbox
    let release: MultusRelease
    let shape: ClusterNetworkShape
    /// The node's multus config: the one Multus ran with, pointing into this test's root.
    let config: JSONValue
    /// Multus's delegate list and libcni's result files, as placed in this test's cniDir.
    let cacheFile: String
    let resultFiles: [String]

    static let pod = "web-upgraded"
    static let podUID = "6b1d7a52-2f4e-4c36-9a51-7d0c3e5f9a10"
    /// The attachments, in Multus's order: network, interface, third octet of its subnet.
    static let networks: [(name: String, ifName: String, third: Int)] = [("cluster-net", "eth0", 0), ("macvlan-conf", "mv1", 1), ("ptp-chain", "net2", 2)]
    static let nads = ["macvlan-conf", "ptp-chain"]

    init(_ k: KubeSandbox, release: MultusRelease, shape: ClusterNetworkShape) throws {
        self.k = k
        self.release = release
        self.shape = shape
        let box = k.box
        let rename = Renaming(k)
        let inputs = testdata("multus-cache/inputs")
        config = try JSONValue.parse(Array(try rename.input(inputs + "/\(shape)/00-multus.conf").utf8))
        try writeFile(k.confDir + "/" + shape.fileName, Array(try rename.input(inputs + "/\(shape)/\(shape.fileName)").utf8))

        let objects = try #require(try JSONValue.parse(Array(rename.input(inputs + "/objects.json").utf8))["items"]?.arrayValue)
        for object in objects { try k.server.put(object) }
        try Self.recreateAttachments(k, cluster: try JSONValue.parse(Array(rename.input(inputs + "/\(shape)/\(shape.fileName)").utf8)), objects: objects)

        let output = testdata("multus-cache/\(release)/\(shape)")
        try makeDirectories(box.cniDir + "/results")
        cacheFile = box.cniDir + "/" + box.containerID
        try writeFile(cacheFile, Array(try rename.output(output + "/delegates.json").utf8), mode: 0o600)
        var resultFiles: [String] = []
        for name in directoryEntries(output + "/results").sorted() {
            let file = box.cniDir + "/results/" + rename(name)
            try writeFile(file, Array(try rename.output(output + "/results/" + name).utf8), mode: 0o600)
            resultFiles.append(file)
        }
        self.resultFiles = resultFiles
        try adoptRecordedMACs()
        _ = try k.takeRequests()
    }

    /// The generation run's names (testdata/multus-cache/generate.py) replaced by this test's.
    struct Renaming {
        let pairs: [(String, String)]
        static let root = "/tmp/multus-fixture-root"
        static let parent = "mfxparent0"

        init(_ k: KubeSandbox) {
            let box = k.box
            pairs = [(Self.root, box.root), ("/var/run/netns/multus-fixture-ns", box.netnsPath),
                     ("5f1c0ffee0d15ea5e0ddba11c0de5eed5a1adba5eba11ade0fcab1e5caff01d0", box.containerID),
                     (Self.parent, k.substitutions["@PARENT@"] ?? ""), ("10.250.", "10.\(box.number).")]
        }

        func callAsFunction(_ text: String) -> String {
            pairs.reduce(text) { $0.replacing($1.0, with: $1.1) }
        }

        /// An input of the generation run, its `@ROOT@` and `@PARENT@` placeholders filled as then.
        func input(_ path: String) throws -> String {
            let text = String(decoding: try readFile(path), as: UTF8.self)
            return self(text.replacing("@ROOT@", with: Self.root).replacing("@PARENT@", with: Self.parent))
        }

        /// A file Multus or libcni wrote: each base64 field is decoded, renamed and encoded again
        /// in place; then the plain text is renamed. Nothing else of the file changes.
        func output(_ path: String) throws -> String {
            var text = String(decoding: try readFile(path), as: UTF8.self)
            for encoded in Self.base64Fields(try JSONValue.parse(Array(text.utf8))) {
                let decoded = try #require(Base64.decode(encoded), "base64 in \(path)")
                let renamed = self(String(decoding: decoded, as: UTF8.self))
                text = text.replacing("\"\(encoded)\"", with: "\"\(Base64.encode(Array(renamed.utf8)))\"")
            }
            return self(text)
        }

        /// Every string under a key Go fills from a `[]byte` in these files: `Bytes` (Multus's
        /// DelegateNetConf, libcni's NetworkConfigList and PluginConfig) and `config` (libcni's cache).
        private static func base64Fields(_ value: JSONValue) -> [String] {
            switch value {
            case .object(let object):
                object.flatMap { key, child -> [String] in
                    if key == "Bytes" || key == "config", let text = child.stringValue, !text.isEmpty { return [text] }
                    return base64Fields(child)
                }
            case .array(let items): items.flatMap(base64Fields)
            default: []
            }
        }
    }

    /// The cluster network and the pod's NADs attached by the reference plugins, as Multus's ADD did.
    private static func recreateAttachments(_ k: KubeSandbox, cluster: JSONValue, objects: [JSONValue]) throws {
        let box = k.box
        var configs = ["cluster-net": cluster]
        for object in objects where object["kind"] == "NetworkAttachmentDefinition" {
            let name = try #require(object["metadata"]?["name"]?.stringValue)
            configs[name] = try JSONValue.parse(Array(try #require(object["spec"]?["config"]?.stringValue).utf8))
        }
        let runner = DelegateRunner(executor: PosixSpawnExecutor())
        let args = try CNIArgs(parsing: k.podArgs(pod, uid: podUID))
        for network in networks {
            let list = try NetworkConfigList(json: try #require(configs[network.name]))
            _ = try runner.add(list, RuntimeConf(containerID: .make(box.containerID), netns: box.netnsPath, ifName: .make(network.ifName), args: args,
                                                 pluginDirectories: [pluginDirectory], passthroughEnvironment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]))
        }
    }

    /// The pod-side interfaces take the MACs Multus's results recorded.
    private func adoptRecordedMACs() throws {
        for file in resultFiles {
            let result = try #require(try JSONValue.parse(readFile(file))["result"])
            for interface in result["interfaces"]?.arrayValue ?? [] where interface["sandbox"]?.stringValue == k.box.netnsPath {
                let name = try #require(interface["name"]?.stringValue), mac = try #require(interface["mac"]?.stringValue)
                let set = sh("ip -n \(k.box.netnsName) link set dev \(name) address \(mac)")
                try #require(set.status == 0, "\(set.output)")
            }
        }
    }

    /// A CNI call of our binary on this node: Multus's config, the runtime's arguments for the pod.
    func multus(_ command: String) -> Outcome {
        k.multus(command, pod: Self.pod, uid: Self.podUID, config: config)
    }

    /// The firewall step's rules for the ptp-chain address.
    func firewallRules() -> [String] { IntegrationTests.firewallRules(k.box.address(2, 2)) }

    /// What Multus's ADD left, before anything of ours ran.
    func expectAttached(sourceLocation: SourceLocation = #_sourceLocation) {
        let box = k.box
        let interfaces = box.podInterfaces()
        for network in Self.networks {
            #expect(interfaces[network.ifName] == [box.address(network.third, 2) + "/24"], "\(network.name)", sourceLocation: sourceLocation)
            #expect(box.leases(network.name) == [box.address(network.third, 2)], "\(network.name)", sourceLocation: sourceLocation)
        }
        #expect(firewallRules().count == 2, "the firewall step's two rules", sourceLocation: sourceLocation)
    }

    /// Nothing left of the pod: interfaces, leases, firewall rules, Multus's files, our cache.
    func expectGone(sourceLocation: SourceLocation = #_sourceLocation) {
        let box = k.box
        #expect(box.podInterfaces() == ["lo": []], sourceLocation: sourceLocation)
        #expect(Self.networks.map { box.leases($0.name) } == [[], [], []], "no lease left", sourceLocation: sourceLocation)
        #expect(firewallRules() == [], "the firewall step's DEL had its prevResult", sourceLocation: sourceLocation)
        #expect(!fileExists(cacheFile), "Multus's record is gone", sourceLocation: sourceLocation)
        #expect(resultFiles.filter(fileExists) == [], "libcni's cached results are gone", sourceLocation: sourceLocation)
        #expect(directoryEntries(box.cniDir + "/attachments").filter { !$0.hasPrefix(".") } == [], sourceLocation: sourceLocation)
    }

    /// Removes firewall rules a test leaves on purpose (a DEL without prevResult cannot find them).
    func removeFirewallRules() { IntegrationTests.removeFirewallRules(k.box.address(2, 2)) }
}

/// The firewall plugin's rules for `address` (iptables -S CNI-FORWARD): its DEL removes those of
/// the addresses its prevResult names, so they show whether a DEL had its prevResult.
func firewallRules(_ address: String) -> [String] {
    sh("iptables -S CNI-FORWARD 2>/dev/null").output.split(separator: "\n").map(String.init).filter { $0.contains(address + "/32") }
}

func removeFirewallRules(_ address: String) {
    for rule in firewallRules(address) { sh("iptables " + rule.replacing("-A ", with: "-D ", maxReplacements: 1)) }
}
