import CNI
import System

/// Loading network configs from disk: `clusterNetwork`/`defaultNetworks` given as a file, a
/// directory, or a network name looked up in `confDir`.
///
/// Mirrors Multus's getNetDelegate (a reference containing '/' is a path) and libcni's
/// ConfFiles/LoadConfList (extensions .conf, .conflist, .json; lexical order).
public struct NetworkFiles: Sendable {
    public let confDir: String

    public init(confDir: String) { self.confDir = confDir }

    /// Resolves `reference`, named by config key `key` in errors.
    /// - Throws: `MetaError.networkNotFound` saying where it looked, or the file's own error.
    public func load(_ reference: String, key: String) throws(MetaError) -> LoadedNetwork {
        if reference.contains("/") {
            switch Files.kind(of: reference) {
            case .directory?:
                guard let first = try Self.list(reference).filter(NetworkConfigFiles.isConfigFile).sorted().first else {
                    throw .networkNotFound(reference: reference, key: key, searched: "directory \(reference) has no .conf, .conflist or .json file")
                }
                return try loadFile(Files.join(reference, first))
            case nil:
                throw .networkNotFound(reference: reference, key: key, searched: "no such file or directory")
            case .some:
                return try loadFile(reference)
            }
        }
        return try findByName(reference, key: key)
    }

    /// The config in `confDir` whose `name` is `name`; conflists are preferred over single
    /// configs of the same name, as libcni's LoadConfList does.
    public func findByName(_ name: String, key: String) throws(MetaError) -> LoadedNetwork {
        let files: [String]
        guard Files.kind(of: confDir) == .directory else {
            throw .networkNotFound(reference: name, key: key, searched: "confDir \(confDir) is not a directory")
        }
        files = try Self.list(confDir).filter(NetworkConfigFiles.isConfigFile).sorted()
        let ordered = files.filter { $0.hasSuffix(".conflist") } + files.filter { !$0.hasSuffix(".conflist") }
        var unreadable: [String] = []
        for file in ordered {
            let path = Files.join(confDir, file)
            // A broken file must not stop the search, but if the name is not found it may be
            // the one that was meant, so it is named in the error.
            do {
                let loaded = try loadFile(path)
                if loaded.network.name == name { return loaded }
            } catch {
                unreadable.append("\(file) (\(ErrorMapping.cniError(error, context: nil).msg))")
            }
        }
        var searched = "no config named \(Echo.quoted(name)) in \(confDir) (\(files.count) config file\(files.count == 1 ? "" : "s"))"
        if !unreadable.isEmpty { searched += "; unreadable: " + unreadable.joined(separator: "; ") }
        throw .networkNotFound(reference: name, key: key, searched: searched)
    }

    /// Reads and decodes one config file. A `.conflist` also gets the plugins of its
    /// subdirectory (see `withSubdirectoryPlugins`).
    public func loadFile(_ path: String) throws(MetaError) -> LoadedNetwork {
        let bytes = try Self.read(path)
        do {
            var json = try JSONValue.parse(bytes)
            if path.hasSuffix(".conflist"), let list = json.objectValue { json = .object(try Self.withSubdirectoryPlugins(list, beside: path)) }
            return LoadedNetwork(network: try NetworkConfigList(json: json), source: path)
        } catch let error as MetaError {
            throw error
        } catch let error as JSONSyntaxError {
            throw .spec(.syntax(error), source: path)
        } catch let error as SpecError {
            throw .spec(error, source: path)
        } catch {
            throw .spec(.invalidField(path: "(document)", reason: "\(error)"), source: path)
        }
    }

    /// libcni v1.2+ (NetworkConfFromFile): a conflist read from a file gets every `*.conf` of
    /// `<its directory>/<its name>/`, in lexical order, appended to its `plugins`, unless it says
    /// `"loadOnlyInlinedPlugins": true`. The plugins are written into the list itself, so the
    /// cache keeps exactly what ADD ran and DEL never reads the directory again.
    /// - Throws: a subdirectory file that is not a plugin config (no `type`), naming the file;
    ///   a list that ends up with no plugin at all.
    /// - Parameter required: whether a list with no plugin at all is an error (it is for a file;
    ///   an empty auxiliary chain simply does not run).
    static func withSubdirectoryPlugins(_ list: JSONObject, beside path: String, required: Bool = true) throws(MetaError) -> JSONObject {
        let inlineOnly: Bool
        do { inlineOnly = try NetworkConfigList.flag("loadOnlyInlinedPlugins", of: list) } catch { throw .spec(error, source: path) }
        var plugins = list["plugins"]?.arrayValue ?? []
        if !inlineOnly, let name = list["name"]?.stringValue, !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") {
            let directory = Files.join(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]), name)
            let files = Files.kind(of: directory) == .directory ? try Self.list(directory) : []
            for file in files.filter({ $0.hasSuffix(".conf") }).sorted() {
                let pluginPath = Files.join(directory, file)
                // Whatever is there but a directory is read as a plugin config.
                guard let kind = Files.kind(of: pluginPath), kind != .directory else { continue }
                plugins.append(try pluginConfig(at: pluginPath))
            }
        }
        if required && (list["plugins"] == nil || list["plugins"]?.arrayValue?.isEmpty == true) && plugins.isEmpty {
            throw .invalidConfig(inlineOnly ? "\"loadOnlyInlinedPlugins\" is true and the list has no \"plugins\""
                                            : "the list has no \"plugins\" and its subdirectory none either", source: path)
        }
        var extended = list
        if !plugins.isEmpty { extended["plugins"] = .array(plugins) }
        return extended
    }

    /// One plugin config of a list's subdirectory (libcni's NetworkPluginConfFromBytes).
    private static func pluginConfig(at path: String) throws(MetaError) -> JSONValue {
        let bytes = try read(path)
        do {
            let json = try JSONValue.parse(bytes)
            guard let object = json.objectValue else { throw MetaError.invalidConfig("a plugin config must be a JSON object", source: path) }
            guard let type = object["type"]?.stringValue, !type.isEmpty else {
                throw MetaError.invalidConfig("a plugin config in a network's subdirectory needs a \"type\"", source: path)
            }
            return json
        } catch let error as MetaError {
            throw error
        } catch let error as JSONSyntaxError {
            throw .spec(.syntax(error), source: path)
        } catch {
            throw .invalidConfig("\(error)", source: path)
        }
    }
}

extension NetworkFiles {
    /// A config file's bytes. Configs are the operator's (or another plugin's): a symbolic link
    /// is followed.
    private static func read(_ path: String) throws(MetaError) -> [UInt8] {
        do { return try Files.read(path, limit: wholeFileLimit) } catch { throw .file(error, path: path) }
    }

    private static func list(_ directory: String) throws(MetaError) -> [String] {
        do { return try Files.list(directory) } catch { throw .file(error, path: directory) }
    }
}

/// A network and where it came from, for messages that name the file.
public struct LoadedNetwork: Sendable {
    public var network: NetworkConfigList
    public var source: String
}
