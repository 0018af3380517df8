/// One plugin's configuration: the few fields libcni itself reads, beside the whole object as the
/// operator wrote it. Injection edits a copy of `raw`; nothing else about it is ever rewritten.
/// Mirrors libcni's `PluginConfig{Network, Bytes}`.
public struct PluginConfig: Sendable, Hashable {
    public var raw: JSONObject
    public let type: String
    /// Capabilities the plugin declares (`"capabilities": {"portMappings": true}`); only these
    /// runtimeConfig keys are handed to it.
    public let capabilities: Set<String>

    public init(raw: JSONObject, path: String) throws(SpecError) {
        let fields = JSONFields(raw, path: path)
        let type = try fields.requiredString("type")
        guard !type.isEmpty else { throw .invalidField(path: fields.path("type"), reason: "must not be empty") }
        var capabilities = Set<String>()
        if let declared = try fields.object("capabilities") {
            for (name, value) in declared {
                guard let enabled = value.boolValue else {
                    throw .invalidField(path: fields.path("capabilities.\(name)"), reason: "must be true or false, found \(value.kindName)")
                }
                if enabled { capabilities.insert(name) }
            }
        }
        self.raw = raw
        self.type = type
        self.capabilities = capabilities
    }
}

/// A network: a conflist, or a single plugin config lifted into a one-plugin list as libcni's
/// `ConfListFromConf` does (so every delegate runs through one code path).
public struct NetworkConfigList: Sendable, Hashable {
    public let name: String
    public let cniVersion: SpecVersion
    public let disableCheck: Bool
    public let disableGC: Bool
    public let plugins: [PluginConfig]
    /// The document as read (list or single config), for the cache and for error messages.
    public let raw: JSONObject
    /// Whether the source was a single plugin config rather than a list.
    public let isSingleConfig: Bool

    /// Reads either form: an object with `plugins` is a list, one with `type` a single config.
    /// - Throws: `SpecError` naming the field (prefixed by `path`).
    public init(json: JSONValue, path: String = "") throws(SpecError) {
        let fields = try JSONFields(json, path: path)
        let version = try Self.negotiatedVersion(fields)
        let name = try fields.string("name") ?? ""
        if !name.isEmpty, let problem = NameRules.networkNameProblem(name) {
            throw .invalidField(path: fields.path("name"), reason: problem)
        }
        if fields.object["plugins"] != nil {
            var plugins: [PluginConfig] = []
            for plugin in try fields.objects("plugins") {
                plugins.append(try PluginConfig(raw: plugin.object, path: plugin.path))
            }
            guard !plugins.isEmpty else { throw .invalidField(path: fields.path("plugins"), reason: "must list at least one plugin") }
            self.init(name: name, cniVersion: version, disableCheck: try Self.flag(fields, "disableCheck"),
                      disableGC: try Self.flag(fields, "disableGC"), plugins: plugins, raw: fields.object, isSingleConfig: false)
        } else {
            // Without "plugins" it is a single plugin config, and PluginConfig names a missing `type`.
            let plugin = try PluginConfig(raw: fields.object, path: path)
            self.init(name: name, cniVersion: version, disableCheck: false, disableGC: false, plugins: [plugin], raw: fields.object, isSingleConfig: true)
        }
    }

    private init(name: String, cniVersion: SpecVersion, disableCheck: Bool, disableGC: Bool, plugins: [PluginConfig], raw: JSONObject, isSingleConfig: Bool) {
        self.name = name
        self.cniVersion = cniVersion
        self.disableCheck = disableCheck
        self.disableGC = disableGC
        self.plugins = plugins
        self.raw = raw
        self.isSingleConfig = isSingleConfig
    }

    /// The version to run a list at. With `cniVersions` (libcni v1.2+), the highest listed
    /// version we implement, `cniVersion` counted too; versions above ours are skipped, as libcni
    /// skips those above its own. Without it, `cniVersion` as always.
    /// - Throws: a `cniVersions` entry that is no version, naming its index.
    static func negotiatedVersion(_ fields: JSONFields) throws(SpecError) -> SpecVersion {
        guard let listed = fields.object["cniVersions"], listed != .null else { return try fields.specVersion() }
        guard let entries = listed.arrayValue else {
            throw .invalidField(path: fields.path("cniVersions"), reason: "must be a list of versions, found \(listed.kindName)")
        }
        var candidates: [SpecVersion] = []
        for (i, entry) in entries.enumerated() {
            guard let text = entry.stringValue, let version = SpecVersion(text) else {
                throw .invalidField(path: "\(fields.path("cniVersions"))[\(i)]", reason: "\(entry.serialized()) is not a version")
            }
            if version <= .latest { candidates.append(version) }
        }
        if let text = try fields.string("cniVersion"), !text.isEmpty {
            guard let version = SpecVersion(text) else { throw .unsupportedVersion(path: fields.path("cniVersion"), value: text) }
            if version <= .latest { candidates.append(version) }
        }
        guard let best = candidates.max() else { return try fields.specVersion() }
        guard best.isSupported else { throw .unsupportedVersion(path: fields.path("cniVersions"), value: best.description) }
        return best
    }

    /// A libcni boolean of a list (`disableCheck`, `loadOnlyInlinedPlugins`, ...): false when absent.
    public static func flag(_ key: String, of object: JSONObject) throws(SpecError) -> Bool {
        try flag(JSONFields(object, path: ""), key)
    }

    /// A list whose plugins each carry a `cniVersion` while the list itself has none: libcni reads
    /// such a list as 0.1.0, so chained plugins get no `prevResult` and DEL gets no cached result
    /// (IPAM leases stay). Almost always a config meant for a newer version.
    public var hasVersionOnlyInPlugins: Bool {
        !isSingleConfig && raw["cniVersion"] == nil && raw["cniVersions"] == nil && plugins.allSatisfy { $0.raw["cniVersion"] != nil }
    }

    /// libcni accepts `disableCheck` as a boolean or the strings "true"/"false".
    static func flag(_ fields: JSONFields, _ key: String) throws(SpecError) -> Bool {
        switch fields.object[key] {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case .string(let s)? where s.lowercased() == "true" || s.lowercased() == "false": return s.lowercased() == "true"
        case let v?: throw .invalidField(path: fields.path(key), reason: "must be true or false, found \(v.kindName)")
        }
    }

    /// The same network with every plugin's own object transformed (Multus injects `cni-args`
    /// into `args.cni`, and device IDs, into each plugin). Order and other keys are kept.
    public func updatingPlugins(_ transform: (JSONObject) -> JSONObject) -> NetworkConfigList {
        var raw = raw
        var plugins = plugins
        if isSingleConfig {
            raw = transform(raw)
        } else {
            raw["plugins"] = .array(plugins.map { .object(transform($0.raw)) })
        }
        for i in plugins.indices {
            plugins[i].raw = isSingleConfig ? raw : transform(plugins[i].raw)
        }
        return NetworkConfigList(name: name, cniVersion: cniVersion, disableCheck: disableCheck, disableGC: disableGC, plugins: plugins, raw: raw, isSingleConfig: isSingleConfig)
    }

    /// The same network under another name (a NAD without `name` takes the NAD's).
    public func renamed(_ newName: String) -> NetworkConfigList {
        var raw = raw
        raw["name"] = .string(newName)
        return NetworkConfigList(name: newName, cniVersion: cniVersion, disableCheck: disableCheck, disableGC: disableGC, plugins: plugins, raw: raw, isSingleConfig: isSingleConfig)
    }
}
