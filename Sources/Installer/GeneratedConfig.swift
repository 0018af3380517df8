import CNI

/// The `00-multus.conf` (or `.conflist`) written around the primary: the primary as the first
/// delegate, its cniVersion, the union of its plugins' capabilities, the kubeconfig's host path
/// and the options the flags ask for, under the keys Multus's entrypoint writes.
public struct GeneratedConfig: Sendable, Hashable {
    public var fileName: String
    public var json: JSONValue

    /// The names this can have; whichever is not current is removed.
    public static let fileNames = ["00-multus.conf", "00-multus.conflist"]
    public static let defaultNetworkName = "multus-cni-network"

    /// The file's bytes (compact JSON and a newline).
    public var bytes: [UInt8] { json.serializedBytes() + [UInt8(ascii: "\n")] }

    /// - Throws: `InstallError.primary` when `--cni-version` disagrees with the primary (unless
    ///   forced) or `--override-network-name` meets a primary without a name.
    public init(primary: PrimaryConfig, options: InstallOptions) throws(InstallError) {
        var delegate = primary.network.raw
        var version = primary.cniVersion
        let requested = options.text(.cniVersion)
        if options.isOn(.forceCNIVersion) {
            version = requested
            delegate["cniVersion"] = .string(requested)
        } else if !requested.isEmpty && requested != version {
            throw .primary(path: primary.path, reason: "its cniVersion \(Echo.quoted(version)) differs from --cni-version=\(requested)")
        }
        var name = Self.defaultNetworkName
        if options.isOn(.overrideNetworkName) {
            guard !primary.network.name.isEmpty else {
                throw .primary(path: primary.path, reason: "has no name for --override-network-name to take")
            }
            name = primary.network.name
        }
        var plugin = Self.pluginFields(options: options, capabilities: Self.capabilities(of: primary.network))
        plugin["delegates"] = [.object(delegate)]
        // Multus writes a list from 1.0.0 on: a single config's form is gone from the 1.x spec.
        let asList = (SpecVersion.fromConfigField(version) ?? .v0_1_0) >= .v1_0_0
        var top: JSONObject = ["cniVersion": .string(version), "name": .string(name)]
        if asList {
            top["plugins"] = [.object(plugin)]
        } else {
            for (key, value) in plugin { top[key] = value }
        }
        fileName = asList ? "00-multus.conflist" : "00-multus.conf"
        json = .object(top)
    }

    /// Every capability any of the primary's plugins enables, so the runtime hands multus the
    /// runtimeConfig (port mappings, bandwidth, ...) the primary's plugins expect.
    static func capabilities(of network: NetworkConfigList) -> [String] {
        Set(network.plugins.flatMap(\.capabilities)).sorted()
    }

    /// The multus plugin's own keys, in the order Multus's template writes them; each optional
    /// one only when its flag asks for it.
    static func pluginFields(options: InstallOptions, capabilities: [String]) -> JSONObject {
        var plugin: JSONObject = ["type": "multus"]
        if !capabilities.isEmpty { plugin["capabilities"] = .object(JSONObject(capabilities.map { ($0, true) })) }
        if options.isOn(.namespaceIsolation) { plugin["namespaceIsolation"] = true }
        /// The flag's text, or nil (which sets no key) when it is empty.
        func given(_ flag: InstallFlag) -> JSONValue? { options.text(flag).isEmpty ? nil : .string(options.text(flag)) }
        plugin["globalNamespaces"] = given(.globalNamespaces)
        if !options.isOn(.multusLogToStderr) { plugin["logToStderr"] = false }
        plugin["logLevel"] = given(.multusLogLevel).flatMap(\.stringValue).map { .string($0.lowercased()) }
        plugin["logFile"] = given(.multusLogFile)
        plugin["binDir"] = given(.additionalBinDir)
        plugin["readinessindicatorfile"] = given(.readinessIndicatorFile)
        if options.isOn(.draDeviceStatus) { plugin["draDeviceStatus"] = true }
        plugin["kubeconfig"] = .string(options.text(.multusKubeconfigFileHost))
        return plugin
    }
}
