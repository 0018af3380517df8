import CNI

/// Building the exact stdin of one plugin. Mirrors libcni's `buildOneConfig` + `InjectConf` +
/// `injectRuntimeConfig`: the plugin's own object with the network's `name` and `cniVersion`,
/// `prevResult` when there is one, and `runtimeConfig` limited to declared capabilities.
public enum Injection {
    public static func pluginConfig(_ plugin: PluginConfig, of network: NetworkConfigList, prevResult: CNIResult?,
                                    capabilityArgs: JSONObject) -> JSONObject {
        var config = plugin.raw
        config["name"] = .string(network.name)
        config["cniVersion"] = .string(network.cniVersion.description)
        if let prevResult, network.cniVersion.supportsPrevResult,
           let converted = try? prevResult.converted(to: network.cniVersion) {
            config["prevResult"] = converted.json
        }
        var runtimeConfig = JSONObject()
        for (key, value) in capabilityArgs where plugin.capabilities.contains(key) {
            runtimeConfig[key] = value
        }
        if !runtimeConfig.isEmpty { config["runtimeConfig"] = .object(runtimeConfig) }
        return config
    }

    /// Merges `values` into `args.cni` of a plugin config (how Multus hands a network selection
    /// element's `cni-args` to the delegate); existing keys there are overwritten.
    public static func mergingCNIArgs(_ values: JSONObject, into config: JSONObject) -> JSONObject {
        guard !values.isEmpty else { return config }
        var config = config
        var args = config["args"]?.objectValue ?? JSONObject()
        var cni = args["cni"]?.objectValue ?? JSONObject()
        for (key, value) in values { cni[key] = value }
        args["cni"] = .object(cni)
        config["args"] = .object(args)
        return config
    }
}
