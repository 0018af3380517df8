import CNI
import Glibc
import HTTPS
import KubeClient
import Testing
import TestSupport

/// `multus install` as the DaemonSet runs it: the built binary against a node's directories made
/// for the test, stopped with SIGTERM. Waits are bounded; no assertion is about time.
@Suite("multus install against a node's directories")
struct InstallProcessTests {
    /// The config's multus plugin object: `plugins[0]` of a conflist, the document of a .conf.
    func multusPlugin(_ config: JSONObject) -> JSONObject? {
        config["plugins"]?.arrayValue?.first?.objectValue ?? config
    }

    @Test("auto config around a conflist primary and a .conf primary", arguments: [
        ("10-flannel.conflist", "00-multus.conflist", "1.0.0", "cbr0", ["bandwidth", "portMappings"]),
        ("10-bridge.conf", "00-multus.conf", "0.4.0", "bridge-net", ["ips", "mac"]),
    ])
    func autoConfig(primary: String, generated: String, version: String, delegateName: String, capabilities: [String]) throws {
        let node = try InstallNode()
        try node.addPrimary(primary)
        let install = try node.start()
        let path = node.confDir + "/" + generated
        #expect(waitUntil { fileExists(path) }, "\(install.output)")
        let config = try node.generated(path)
        #expect(config["cniVersion"] == .string(version))
        #expect(config["name"] == "multus-cni-network")
        let plugin = try #require(multusPlugin(config))
        #expect(plugin["type"] == "multus")
        #expect(plugin["kubeconfig"] == .string(node.kubeconfig))
        #expect(plugin["capabilities"] == .object(JSONObject(capabilities.map { ($0, true) })), "the union of the primary's capabilities")
        let delegates = try #require(plugin["delegates"]?.arrayValue)
        #expect(delegates.count == 1)
        #expect(delegates.first == (try JSONValue.parse(try readFile(testdata("install/\(primary)")))), "the primary, unchanged")
        #expect(delegates.first?.objectValue?["name"] == .string(delegateName))
        #expect(directoryEntries(node.confDir).sorted() == [generated, primary, "multus.d"].sorted(), "nothing else written")
        #expect(install.stop() == .exited(0), "\(install.output)")
        #expect(fileExists(path), "without --cleanup-config-on-exit the config stays")
    }

    @Test("the binary is copied whole, executable, and the kubeconfig (0600 in a 0700 multus.d) loads with our client")
    func binaryAndKubeconfig() throws {
        let node = try InstallNode()
        try node.addPrimary("10-flannel.conflist")
        let install = try node.start()
        #expect(waitUntil { fileExists(node.conflist) }, "\(install.output)")
        #expect(try readFile(node.binDir + "/multus") == (try readFile(InstallNode.binary)))
        #expect(mode(node.binDir + "/multus") == 0o755)
        #expect(mode(node.confDir + "/multus.d") == 0o700)
        #expect(mode(node.kubeconfig) == 0o600)
        #expect(mode(node.tokenCopy) == 0o600)
        #expect(directoryEntries(node.binDir) == ["multus"], "no temporary file left")

        let kubeconfig = try Kubeconfig.load(path: node.kubeconfig)
        #expect(kubeconfig.server == ServerAddress(scheme: "https", host: "fd00:10:96::1", port: 443))
        #expect(kubeconfig.certificateAuthority == (try readFile(testdata("install/ca.crt"))))
        #expect(kubeconfig.credentials.token == nil, "the token is not embedded")
        #expect(kubeconfig.credentials.tokenFile == node.tokenCopy)
        #expect(try kubeconfig.credentials.bearerToken() == "token-1")
        #expect(kubeconfig.namespace == "kube-system")
        #expect(install.stop() == .exited(0))
    }

    @Test("--multus-conf-file copies a config as it is, beside a fresh kubeconfig; --skip-tls-verify and --skip-multus-binary-copy")
    func copiedConfig() throws {
        let node = try InstallNode()
        let source = try node.root.file("70-multus.conf", contents: try readFile(testdata("install/05-old-multus.conf")))
        let install = try node.start(["--multus-conf-file=\(source)", "--skip-tls-verify", "--skip-multus-binary-copy", "--cleanup-config-on-exit"])
        let copied = node.confDir + "/70-multus.conf"
        #expect(waitUntil { fileExists(copied) }, "\(install.output)")
        #expect(try readFile(copied) == (try readFile(source)))
        let kubeconfig = try Kubeconfig.load(path: node.kubeconfig)
        #expect(kubeconfig.insecureSkipTLSVerify && kubeconfig.certificateAuthority == nil)
        #expect(directoryEntries(node.binDir).isEmpty)
        #expect(install.stop() == .exited(0))
        #expect(directoryEntries(node.confDir) == ["multus.d"], "the copy is removed on exit")
    }

    @Test("an explicit primary (--multus-master-cni-file-name) wins over the first in order")
    func explicitPrimary() throws {
        let node = try InstallNode()
        try node.addPrimary("10-flannel.conflist", as: "10-a.conflist")
        try node.addPrimary("10-bridge.conf", as: "20-b.conf")
        let install = try node.start(["--multus-master-cni-file-name=20-b.conf"])
        #expect(waitUntil { fileExists(node.conf) }, "\(install.output)")
        let delegate = multusPlugin(try node.generated(node.conf))?["delegates"]?.arrayValue?.first?.objectValue
        #expect(delegate?["name"] == "bridge-net")
        #expect(!fileExists(node.conflist))
        #expect(install.stop() == .exited(0))
    }

    @Test("a second run skips its own config and a multus-typed one: multus never wraps multus")
    func secondRunDoesNotNest() throws {
        let node = try InstallNode()
        try node.addPrimary("10-flannel.conflist")
        let first = try node.start()
        #expect(waitUntil { fileExists(node.conflist) }, "\(first.output)")
        let written = try readFile(node.conflist)
        #expect(first.stop() == .exited(0))

        try node.addPrimary("05-old-multus.conf")  // sorts first, and is a multus config
        let second = try node.start()
        #expect(waitUntil { second.output.contains("watching") }, "\(second.output)")
        #expect(try readFile(node.conflist) == written, "the same config: the primary is still flannel's")
        let delegate = multusPlugin(try node.generated(node.conflist))?["delegates"]?.arrayValue?.first?.objectValue
        #expect(delegate?["name"] == "cbr0")
        #expect(delegate?["type"] == nil && delegate?["plugins"] != nil, "the flannel conflist, not a multus config")
        #expect(second.stop() == .exited(0))
    }

    @Test("a rotated token reaches the host-side copy while install keeps running; the kubeconfig stays as it was")
    func tokenRotation() throws {
        let node = try InstallNode(token: "token-1")
        try node.addPrimary("10-flannel.conflist")
        let install = try node.start()
        #expect(waitUntil { node.text(node.tokenCopy) == "token-1" && fileExists(node.conflist) }, "\(install.output)")
        let kubeconfig = node.text(node.kubeconfig)
        try node.project(token: "token-2")
        #expect(waitUntil { node.text(node.tokenCopy) == "token-2" }, "\(install.output)")
        #expect(install.isRunning)
        #expect(node.text(node.kubeconfig) == kubeconfig)
        #expect(try Kubeconfig.load(path: node.kubeconfig).credentials.bearerToken() == "token-2")
        #expect(install.stop() == .exited(0))
    }

    @Test("a changed primary regenerates the config; a vanished one is waited for and the config kept")
    func primaryChanges() throws {
        let node = try InstallNode()
        let primary = try node.addPrimary("10-flannel.conflist")
        let install = try node.start()
        #expect(waitUntil { fileExists(node.conflist) }, "\(install.output)")

        var changed = try #require(try JSONValue.parse(try readFile(primary)).objectValue)
        changed["plugins"] = [["type": "flannel"], ["type": "tuning", "capabilities": ["mac": true]]]
        try writeFile(primary, JSONValue.object(changed).serializedBytes())
        #expect(waitUntil { (try? node.generated(node.conflist)).flatMap(multusPlugin)?["capabilities"] == ["mac": true] }, "\(install.output)")
        #expect(multusPlugin(try node.generated(node.conflist))?["delegates"] == [.object(changed)])

        let kept = try readFile(node.conflist)
        unlink(primary)
        #expect(waitUntil { install.output.contains("has gone; waiting for it") }, "\(install.output)")
        #expect(try readFile(node.conflist) == kept)
        try node.addPrimary("10-flannel.conflist")
        #expect(waitUntil { (try? readFile(node.conflist)) != kept }, "\(install.output)")
        #expect(install.stop() == .exited(0))
    }

    @Test("a primary sorting before 00-multus.conflist is warned about, unless --rename-conf-file moves it away", arguments: [false, true])
    func shadowingPrimary(rename: Bool) throws {
        let node = try InstallNode()
        try node.addPrimary("10-flannel.conflist", as: "00-calico.conflist")
        let install = try node.start(rename ? ["--rename-conf-file"] : [])
        #expect(waitUntil { install.output.contains("watching") }, "\(install.output)")
        let warning = "warning: 00-calico.conflist in \(node.confDir) sorts before 00-multus.conflist"
        #expect(install.output.contains(warning) == !rename, "\(install.output)")
        #expect(directoryEntries(node.confDir).sorted() == (rename ? ["00-calico.conflist.old"] : ["00-calico.conflist"]) + ["00-multus.conflist", "multus.d"])
        #expect(install.stop() == .exited(0))
    }

    @Test("no primary yet: install waits with a log line instead of exiting, then writes the config when one appears")
    func waitsForAPrimary() throws {
        let node = try InstallNode()
        let install = try node.start()
        #expect(waitUntil { install.output.contains("no CNI config in \(node.confDir) yet") }, "\(install.output)")
        #expect(install.isRunning)
        #expect(fileExists(node.kubeconfig) && !fileExists(node.conflist))
        try node.addPrimary("10-flannel.conflist")
        #expect(waitUntil { fileExists(node.conflist) }, "\(install.output)")
        #expect(install.stop() == .exited(0))
    }

    @Test("SIGTERM with --cleanup-config-on-exit removes what install wrote and puts a renamed primary back")
    func cleanupOnExit() throws {
        let node = try InstallNode()
        let primary = try node.addPrimary("10-flannel.conflist")
        let install = try node.start(["--cleanup-config-on-exit", "--rename-conf-file"])
        #expect(waitUntil { fileExists(node.conflist) && fileExists(primary + ".old") }, "\(install.output)")
        #expect(!fileExists(primary), "renamed to .old, as Multus does")
        #expect(install.stop(SIGTERM) == .exited(0), "\(install.output)")
        #expect(directoryEntries(node.confDir).sorted() == ["10-flannel.conflist", "multus.d"])
        #expect(directoryEntries(node.confDir + "/multus.d").isEmpty)
        #expect(directoryEntries(node.binDir) == ["multus"], "the binary stays for pods still running")
    }

    @Test("bad flags and missing directories: a non-zero exit naming the flag or path", arguments: [
        (["--bogus"], 2, "--bogus: unknown flag"),
        (["--multus-log-level=loud"], 2, "--multus-log-level: \"loud\" is not one of debug, verbose, error, panic"),
        (["--namespace-isolation=maybe"], 2, "--namespace-isolation: \"maybe\" is not true or false"),
        (["--cni-version=0.9.9"], 2, "--cni-version: \"0.9.9\" is not a CNI version"),
        (["--cni-conf-dir"], 2, "--cni-conf-dir: needs a value"),
        (["--cni-conf-dir=@/missing"], 1, "--cni-conf-dir @/missing: no such directory"),
        (["--cni-bin-dir=@/missing"], 1, "--cni-bin-dir @/missing: no such directory"),
        (["--multus-autoconfig-dir=@/missing"], 1, "--multus-autoconfig-dir @/missing: no such directory"),
        (["--multus-conf-file=@/missing.conf"], 1, "--multus-conf-file @/missing.conf: no such file"),
        (["--service-account-dir=@/missing"], 1, "@/missing/ca.crt"),
    ])
    func failures(flags: [String], status: Int32, message: String) throws {
        let node = try InstallNode()
        let install = try node.start(flags.map { $0.replacing("@", with: node.root.path) })
        #expect(install.waitForExit() == .exited(status), "\(install.output)")
        #expect(install.output.contains(message.replacing("@", with: node.root.path)), "\(install.output)")
        #expect(!fileExists(node.kubeconfig) && directoryEntries(node.binDir).isEmpty, "nothing installed")
    }

    @Test("--help prints every flag and installs nothing")
    func help() throws {
        let node = try InstallNode()
        let install = try node.start(["--help"])
        #expect(install.waitForExit() == .exited(0))
        #expect(install.output.hasPrefix("usage: multus install"))
        #expect(install.output.contains("--service-account-dir  the pod's service account"), "\(install.output)")
        #expect(!fileExists(node.kubeconfig) && directoryEntries(node.binDir).isEmpty)
    }

    @Test("without the service environment install says which variables it needs")
    func noServiceEnvironment() throws {
        let node = try InstallNode()
        let install = try node.start(environment: ["PATH=/usr/bin:/bin"])
        #expect(install.waitForExit() == .exited(1))
        #expect(install.output.contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"), "\(install.output)")
    }

    /// Multus's entrypoint accepts http; our plugin would refuse the kubeconfig on every call.
    @Test("KUBERNETES_SERVICE_PROTOCOL=http is refused at install: the plugin speaks HTTPS only")
    func plainHTTPIsRefused() throws {
        let node = try InstallNode()
        try node.addPrimary("10-flannel.conflist")
        let install = try node.start(environment: InstallNode.environment + ["KUBERNETES_SERVICE_PROTOCOL=http"])
        #expect(install.waitForExit() == .exited(1))
        #expect(install.output.contains("KUBERNETES_SERVICE_PROTOCOL=http: the plugin talks to the API server over HTTPS only"), "\(install.output)")
        #expect(!fileExists(node.kubeconfig) && !fileExists(node.conflist), "nothing installed")
    }

    /// An install pod killed mid-write (deleted during a rollout) leaves its temporary file;
    /// the next install removes it, and an older version's `multus.tmp<pid>`, and nothing else.
    @Test("a killed install's temporary files are swept: ours and an older version's, nothing else")
    func leftoversAreSwept() throws {
        let node = try InstallNode()
        try node.addPrimary("10-flannel.conflist")
        let leftovers = [node.binDir + "/.multus.tmp-0123456789abcdef", node.binDir + "/multus.tmp1",
                         node.confDir + "/.00-multus.conflist.tmp-fedcba9876543210"]
        let others = [node.binDir + "/bridge.tmp1", node.confDir + "/notes.tmp-0123456789abcdef"]
        for path in leftovers + others {
            try writeFile(path, [0x7F, 0x45])
            var times = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        let install = try node.start()
        #expect(waitUntil { fileExists(node.conflist) && !leftovers.contains(where: fileExists) }, "\(install.output)")
        #expect(others.allSatisfy(fileExists))
        #expect(install.stop() == .exited(0))
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }
}
