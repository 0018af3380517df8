import CNI
import CNIExec
import Glibc
import Testing
import TestSupport

/// `multus install` end to end: it writes the config and kubeconfig from a service account made
/// for the test API server, and the runtime then runs the multus it copied, with that config,
/// for a pod with NetworkAttachmentDefinitions, through the real plugins.
@Suite("multus install, then a pod through what it wrote", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct InstallTests {
    static let token = "install-sa-token"

    /// The node's /etc/cni/net.d, /opt/cni/bin and the pod's service account, under the sandbox.
    struct Node {
        let confDir: String
        let binDir: String
        let serviceAccount: String
        let log: String

        init(_ k: KubeSandbox) throws {
            confDir = k.box.root + "/host/etc/cni/net.d"
            binDir = k.box.root + "/host/opt/cni/bin"
            serviceAccount = k.box.root + "/serviceaccount"
            log = k.box.root + "/install.log"
            for directory in [confDir, binDir, serviceAccount] { try makeDirectories(directory) }
            try writeFile(serviceAccount + "/token", Array(InstallTests.token.utf8))
            try writeFile(serviceAccount + "/ca.crt", try readFile(k.server.caPath))
            try writeFile(serviceAccount + "/namespace", Array("kube-system".utf8))
        }

        func install(_ k: KubeSandbox) throws -> ChildProcess {
            try ChildProcess([builtExecutable("multus"), "install", "--cni-conf-dir=\(confDir)", "--multus-autoconfig-dir=\(confDir)",
                              "--cni-bin-dir=\(binDir)", "--service-account-dir=\(serviceAccount)",
                              "--multus-kubeconfig-file-host=\(confDir)/multus.d/multus.kubeconfig", "--cleanup-config-on-exit"],
                             environment: ["KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=\(k.server.port)"], logPath: log)
        }
    }

    /// What libcni gives a conflist's first plugin: the list's name and cniVersion, and for
    /// CHECK and DEL the result ADD returned as prevResult.
    func pluginConfig(_ conflist: JSONObject, prevResult: JSONValue? = nil) throws -> [UInt8] {
        var plugin = try #require(conflist["plugins"]?.arrayValue?.first?.objectValue)
        plugin["name"] = conflist["name"]
        plugin["cniVersion"] = conflist["cniVersion"]
        if let prevResult { plugin["prevResult"] = prevResult }
        return JSONValue.object(plugin).serializedBytes()
    }

    /// The runtime running `<binDir>/multus` for the pod.
    func run(_ command: String, _ node: Node, _ k: KubeSandbox, pod: String, config: [UInt8]) throws -> (status: Int32, stdout: String) {
        let environment = [
            "CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(k.box.containerID)", "CNI_NETNS=\(k.box.netnsPath)", "CNI_IFNAME=eth0",
            "CNI_PATH=\(pluginDirectory)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod);K8S_POD_INFRA_CONTAINER_ID=\(k.box.containerID);K8S_POD_UID=uid-\(pod)",
        ]
        let output = try PosixSpawnExecutor().run(node.binDir + "/multus", stdin: config, environment: environment, timeout: .seconds(60))
        let status: Int32 = switch output.termination { case .exited(let code): code; case .signaled(let signal): 128 + signal }
        return (status, String(decoding: output.stdout, as: UTF8.self))
    }

    @Test("ADD, CHECK and DEL of a pod with two NADs through the generated conflist, kubeconfig and token file")
    func podThroughTheGeneratedConfig() throws {
        let k = try KubeSandbox()
        try k.server.addToken(Self.token, user: "system:serviceaccount:kube-system:multus")
        let node = try Node(k)
        var primary = try #require(k.box.bridgeNetwork("cbr0", third: 0).objectValue)
        primary["cniVersion"] = nil
        primary["name"] = nil
        let conflist: JSONValue = ["cniVersion": "1.0.0", "name": "cbr0", "plugins": [.object(primary), ["type": "portmap", "capabilities": ["portMappings": true]]]]
        try writeFile(node.confDir + "/10-cbr0.conflist", conflist.serializedBytes())

        let install = try node.install(k)
        let generatedPath = node.confDir + "/00-multus.conflist"
        #expect(waitUntil { fileExists(generatedPath) }, "\(install.output)")
        let generated = try #require(try JSONValue.parse(try readFile(generatedPath)).objectValue)
        try k.server.clearLog()

        let add = try run("ADD", node, k, pod: "web-comma", config: try pluginConfig(generated))
        #expect(add.status == 0, "\(add.stdout)")
        let n = k.box.number
        let interfaces = k.box.podInterfaces()
        #expect(interfaces["eth0"] == ["10.\(n).0.2/24"])
        #expect(interfaces["net1"] == ["10.\(n).1.2/24"])
        #expect(interfaces["net2"] == ["10.\(n).2.2/24"])
        let status = try #require(try k.networkStatus("web-comma"))
        #expect(status.map { $0["interface"]?.stringValue } == ["eth0", "net1", "net2"])
        #expect(status.dropFirst().map { $0["name"]?.stringValue } == ["default/macvlan-conf", "default/ptp-conf"])
        let requests = try k.server.requests()
        #expect(requests.count == 7, "a pod read, 2 NAD reads (the cluster network is the primary file), 3 events, the status update: \(requests)")
        #expect(requests.filter { $0.user != "system:serviceaccount:kube-system:multus" || $0.status >= 300 } == [],
                "every call made with the service account's token, and allowed")
        try k.server.clearLog()

        let result = try JSONValue.parse(add.stdout)
        let check = try run("CHECK", node, k, pod: "web-comma", config: try pluginConfig(generated, prevResult: result))
        #expect(check.status == 0, "\(check.stdout)")
        let del = try run("DEL", node, k, pod: "web-comma", config: try pluginConfig(generated, prevResult: result))
        #expect(del.status == 0, "\(del.stdout)")
        #expect(try k.takeRequests() == [], "CHECK and DEL need no API call")
        k.expectClean(["cbr0", "macvlan-conf", "ptp-conf"])
        #expect(install.stop() == .exited(0), "\(install.output)")
        #expect(!fileExists(generatedPath))
    }
}
