import CNI
import Installer
import MetaPlugin
import Testing
import TestSupport

@Suite("multus install: the primary and the generated config")
struct GeneratedConfigTests {
    func primary(_ fixture: String) throws -> PrimaryConfig {
        let path = testdata("install/\(fixture)")
        return try PrimaryConfig(path: path, bytes: try readFile(path))
    }

    func options(_ arguments: [String] = []) throws -> InstallOptions {
        try InstallOptions.parse(arguments, executable: "/multus")
    }

    /// What a runtime hands the plugin: a conflist's plugins[0] with name and cniVersion
    /// injected (libcni's buildOneConfig), or the .conf as it is.
    func asRuntimePassesIt(_ config: GeneratedConfig) throws -> JSONValue {
        let top = try #require(config.json.objectValue)
        guard var plugin = top["plugins"]?.arrayValue?.first?.objectValue else { return config.json }
        plugin["name"] = top["name"]
        plugin["cniVersion"] = top["cniVersion"]
        return .object(plugin)
    }

    @Test("every flag's key, in Multus's names, and the plugin's parser reads the result", arguments: ["10-flannel.conflist", "10-bridge.conf"])
    func flagsBecomeKeys(fixture: String) throws {
        let config = try GeneratedConfig(primary: try primary(fixture), options: try options([
            "--namespace-isolation", "--global-namespaces=default,shared", "--multus-log-to-stderr=false", "--multus-log-level=DEBUG",
            "--multus-log-file=/var/log/multus.log", "--additional-bin-dir=/opt/multus/bin", "--readiness-indicator-file=/run/flannel/subnet.env",
            "--multus-kubeconfig-file-host=/etc/cni/net.d/multus.d/multus.kubeconfig", "--dra-device-status",
        ]))
        let json = try asRuntimePassesIt(config)
        let plugin = try #require(json.objectValue)
        #expect(plugin.keys.filter { !["cniVersion", "name", "capabilities", "delegates"].contains($0) } == [
            "type", "namespaceIsolation", "globalNamespaces", "logToStderr", "logLevel", "logFile", "binDir", "readinessindicatorfile", "draDeviceStatus",
            "kubeconfig",
        ])
        #expect(plugin["logLevel"] == "debug")
        #expect(plugin["logToStderr"] == false)

        let parsed = try MultusConfig(json: json)
        #expect(parsed.name == "multus-cni-network")
        #expect(parsed.namespaceIsolation)
        #expect(parsed.globalNamespaces == ["default", "shared"])
        #expect(parsed.binDir == "/opt/multus/bin")
        #expect(parsed.readinessIndicatorFile == "/run/flannel/subnet.env")
        #expect(parsed.kubeconfig == "/etc/cni/net.d/multus.d/multus.kubeconfig")
        #expect(parsed.draDeviceStatus)
        #expect(parsed.delegates.map(\.name) == [try primary(fixture).network.name])
    }

    @Test("no optional key without its flag: only type, capabilities, kubeconfig and delegates")
    func minimal() throws {
        let config = try GeneratedConfig(primary: try primary("10-bridge.conf"), options: try options())
        #expect(config.fileName == "00-multus.conf")
        #expect(config.json.objectValue?.keys == ["cniVersion", "name", "type", "capabilities", "kubeconfig", "delegates"])
        #expect(config.bytes.last == UInt8(ascii: "\n"))
    }

    @Test("the conflist form from cniVersion 1.0.0 on, as Multus writes it", arguments: [
        ("0.3.1", "00-multus.conf"), ("0.4.0", "00-multus.conf"), ("1.0.0", "00-multus.conflist"), ("1.1.0", "00-multus.conflist"),
    ])
    func fileName(version: String, expected: String) throws {
        let bytes = Array(#"{"cniVersion":"\#(version)","name":"n","type":"bridge"}"#.utf8)
        let config = try GeneratedConfig(primary: try PrimaryConfig(path: "/p.conf", bytes: bytes), options: try options())
        #expect(config.fileName == expected)
        #expect(config.json.objectValue?["cniVersion"] == .string(version))
    }

    @Test("capabilities: the union of those the primary's plugins enable; a disabled one is left out")
    func capabilities() throws {
        let config = try GeneratedConfig(primary: try primary("10-flannel.conflist"), options: try options())
        let plugin = config.json.objectValue?["plugins"]?.arrayValue?.first?.objectValue
        #expect(plugin?["capabilities"] == ["bandwidth": true, "portMappings": true])
    }

    @Test("--cni-version must match the primary unless forced; --override-network-name takes the primary's name")
    func versionAndName() throws {
        let bridge = try primary("10-bridge.conf")
        #expect(throws: InstallError.primary(path: bridge.path, reason: "its cniVersion \"0.4.0\" differs from --cni-version=1.0.0")) {
            try GeneratedConfig(primary: bridge, options: try options(["--cni-version=1.0.0"]))
        }
        let forced = try GeneratedConfig(primary: bridge, options: try options(["--cni-version=1.0.0", "--force-cni-version", "--override-network-name"]))
        #expect(forced.fileName == "00-multus.conflist")
        #expect(forced.json.objectValue?["name"] == "bridge-net")
        let delegate = forced.json.objectValue?["plugins"]?.arrayValue?.first?.objectValue?["delegates"]?.arrayValue?.first?.objectValue
        #expect(delegate?["cniVersion"] == "1.0.0")
    }

    @Test("a primary is validated: its errors name the file", arguments: [
        (#"{"cniVersion":"1.0.0","name":"x","type":"multus","delegates":[]}"#, InstallError.primaryIsMultus(path: "/p", type: "multus")),
        (#"{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"multus-shim"}]}"#, .primaryIsMultus(path: "/p", type: "multus-shim")),
        (#"{"name":"x","type":"bridge"}"#, .primary(path: "/p", reason: "has no cniVersion, so the generated config could not declare one")),
        (#"{"cniVersion":"1.0.0","name":"x","plugins":[]}"#, .primary(path: "/p", reason: "field plugins: must list at least one plugin")),
        (#"{"cniVersion":"9.0.0","name":"x","type":"bridge"}"#, .primary(path: "/p", reason: "field cniVersion: CNI version \"9.0.0\" is not supported (supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)")),
        (#"{"cniVersion":"1.0.0""#, .primary(path: "/p", reason: "invalid JSON at byte 21: expected ',' or '}' in object")),
    ])
    func invalidPrimary(text: String, expected: InstallError) {
        #expect(throws: expected) { try PrimaryConfig(path: "/p", bytes: Array(text.utf8)) }
    }
}
