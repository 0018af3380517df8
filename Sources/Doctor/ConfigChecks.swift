import CNI
import MetaPlugin
import System

/// A plugin binary a config asks for, at the version that config runs it at.
struct PluginUse: Sendable, Hashable {
    var type: String
    var version: SpecVersion
    /// Which config named it: `delegates[0]`, a file, `NAD blue/macvlan`.
    var source: String
}

/// The node's meta-plugin config as the runtime finds it, once it parsed.
struct FoundConfig: Sendable {
    var path: String
    var config: MultusConfig
    /// `clusterNetwork`/`defaultNetworks` entries not found as files: NAD names to ask the API about.
    var unresolved: [(key: String, reference: String)] = []
    var plugins: [PluginUse] = []
}

/// Group 1: the config the runtime runs, parsed as the plugin parses it.
enum ConfigChecks {
    static func run(confDir: String) -> (checks: [Check], found: FoundConfig?) {
        var checks: [Check] = []
        guard let (path, json) = firstConfig(confDir, &checks) else { return (checks, nil) }
        guard let stdin = multusPluginConfig(path, json, &checks) else { return (checks, nil) }
        let config: MultusConfig
        do { config = try MultusConfig(json: stdin) } catch {
            checks.append(.error("config.parse", "\(path): \(error.message)", fix: "correct the config; docs/configuration.md explains each key"))
            return (checks, nil)
        }
        checks.append(.ok("config.parse", "\(path): \(config.name), cniVersion \(config.cniVersion), \(config.clusterNetwork.map { "clusterNetwork \($0)" } ?? "\(config.delegates.count) delegate(s)")"))
        var found = FoundConfig(path: path, config: config)
        checks.append(unknownKeys(stdin, path: path))
        var pitfalls: [String] = []
        if let pitfall = versionPitfall(json) { pitfalls.append("\(path): \(pitfall)") }
        for (i, delegate) in (stdin.objectValue?["delegates"]?.arrayValue ?? []).enumerated() {
            if let pitfall = versionPitfall(delegate) { pitfalls.append("delegates[\(i)]: \(pitfall)") }
        }
        for (i, delegate) in config.delegates.enumerated() { found.plugins += uses(delegate, source: "delegates[\(i)]") }
        checks += resolveNetworks(config, &found, &pitfalls)
        checks.append(pitfalls.isEmpty
            ? .ok("config.cniVersion", "every list states its cniVersion at the top")
            : .error("config.cniVersion", pitfalls.joined(separator: "; "),
                     fix: "put \"cniVersion\" at the top of each conflist: libcni ignores it inside plugins and runs the list at 0.1.0"))
        return (checks, found)
    }

    /// The first config file in `confDir` by libcni's order (lexical), parsed as JSON.
    private static func firstConfig(_ confDir: String, _ checks: inout [Check]) -> (String, JSONValue)? {
        let names: [String]
        do { names = try Files.list(confDir).filter(NetworkConfigFiles.isConfigFile).sorted() } catch {
            checks.append(.error("config.file", "cannot list \(confDir): \(error.errno)", fix: "pass the runtime's CNI config directory with --conf-dir"))
            return nil
        }
        guard let first = names.first else {
            checks.append(.error("config.file", "no .conf, .conflist or .json file in \(confDir): the runtime has no network config",
                                 fix: "start the multus DaemonSet (multus install writes 00-multus.conf), or pass --conf-dir"))
            return nil
        }
        let path = Files.join(confDir, first)
        do {
            return (path, try JSONValue.parse(try Files.read(path, limit: 16 << 20)))
        } catch let error as SystemError {
            checks.append(.error("config.file", "cannot read \(path): \(error.errno)", fix: "check the file's permissions"))
        } catch {
            checks.append(.error("config.file", "\(path): \(error)", fix: "the runtime cannot parse it either: correct or remove it"))
        }
        return nil
    }

    /// What the runtime hands the multus plugin on stdin: the file itself, or the multus entry of
    /// a conflist with the list's name and cniVersion (libcni's buildOneConfig). A first file that
    /// is not multus is an error: the runtime runs it and never calls us.
    private static func multusPluginConfig(_ path: String, _ json: JSONValue, _ checks: inout [Check]) -> JSONValue? {
        guard let object = json.objectValue else {
            checks.append(.error("config.file", "\(path) is not a JSON object", fix: "correct or remove it"))
            return nil
        }
        let plugin: JSONObject
        if let plugins = object["plugins"]?.arrayValue {
            guard var first = plugins.first?.objectValue else {
                checks.append(.error("config.file", "\(path) lists no plugins", fix: "correct or remove it"))
                return nil
            }
            first["name"] = object["name"]
            first["cniVersion"] = object["cniVersion"]
            plugin = first
        } else {
            plugin = object
        }
        let type = plugin["type"]?.stringValue ?? ""
        guard type == "multus" || type == "multus-shim" else {
            checks.append(.error("config.file", "the first config in the directory, \(path), is \(Echo.quoted(type)), not multus: the runtime runs it and never calls multus",
                                 fix: "name multus's config to sort first (00-multus.conf), or remove \(path)"))
            return nil
        }
        checks.append(.ok("config.file", "\(path) is the first config: the runtime calls multus"))
        return .object(plugin)
    }

    /// A conflist whose `cniVersion` is only inside its plugins: libcni reads the list's own.
    static func versionPitfall(_ json: JSONValue) -> String? {
        guard let object = json.objectValue, let plugins = object["plugins"]?.arrayValue,
              (object["cniVersion"]?.stringValue ?? "").isEmpty else { return nil }
        let inside = plugins.compactMap { $0.objectValue?["cniVersion"]?.stringValue }.filter { !$0.isEmpty }
        guard let version = inside.first else { return nil }
        return "the list has no cniVersion, its plugins say \(Echo.quoted(version)): it runs at 0.1.0"
    }

    private static func unknownKeys(_ stdin: JSONValue, path: String) -> Check {
        let unknown = (stdin.objectValue?.keys ?? []).filter { !MultusConfig.knownKeys.contains($0) }
        guard !unknown.isEmpty else { return .ok("config.keys", "no unknown keys") }
        // Multus decodes its config with Go's encoding/json, which matches keys in any letter
        // case; the plugin matches them exactly, so a config written for Multus can lose one.
        let recased = unknown.compactMap { key in
            MultusConfig.knownKeys.first { $0.lowercased() == key.lowercased() }.map { "\(Echo.quoted(key, limit: 64)) -> \(Echo.quoted($0))" }
        }
        let fix = recased.isEmpty ? "remove or correct the spelling; docs/configuration.md lists the keys"
            : "spell \(recased.joined(separator: ", ")): Multus matched keys in any letter case, swift-multus matches them exactly"
        return .warning("config.keys", "\(path): unknown key\(unknown.count == 1 ? "" : "s") \(unknown.map { Echo.quoted($0, limit: 64) }.joined(separator: ", ")) (ignored)",
                        fix: fix)
    }

    /// `clusterNetwork` and `defaultNetworks` as files or names in confDir, as the plugin loads them.
    private static func resolveNetworks(_ config: MultusConfig, _ found: inout FoundConfig, _ pitfalls: inout [String]) -> [Check] {
        let references = (config.clusterNetwork.map { [("clusterNetwork", $0)] } ?? []) + config.defaultNetworks.map { ("defaultNetworks", $0) }
        guard !references.isEmpty else { return [] }
        var resolved: [String] = []
        var failed: [String] = []
        let files = NetworkFiles(confDir: config.confDir)
        for (key, reference) in references {
            do {
                let loaded = try files.load(reference, key: key)
                resolved.append("\(key) \(Echo.quoted(reference)) -> \(loaded.source)")
                found.plugins += uses(loaded.network, source: loaded.source)
                if let raw = try? JSONValue.parse(Files.read(loaded.source, limit: 16 << 20)), let pitfall = versionPitfall(raw) {
                    pitfalls.append("\(loaded.source): \(pitfall)")
                }
            } catch let error where !reference.contains("/") && isNotFound(error) {
                found.unresolved.append((key, reference))
            } catch {
                failed.append(error.message)
            }
        }
        if !failed.isEmpty {
            return [.error("config.networks", failed.joined(separator: "; "), fix: "correct the reference or the file it names")]
        }
        let pending = found.unresolved.isEmpty ? "" : "; \(found.unresolved.count) to look up as NADs in \(config.multusNamespace)"
        return [.ok("config.networks", resolved.joined(separator: "; ") + pending)]
    }

    private static func isNotFound(_ error: MetaError) -> Bool { if case .networkNotFound = error { true } else { false } }

    static func uses(_ network: NetworkConfigList, source: String) -> [PluginUse] {
        network.plugins.map { PluginUse(type: $0.type, version: network.cniVersion, source: source) }
    }
}
