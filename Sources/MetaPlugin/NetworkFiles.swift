import CNI
import Glibc

/// Loading network configs from disk: `clusterNetwork`/`defaultNetworks` given as a file, a
/// directory, or a network name looked up in `confDir`.
///
/// Mirrors Multus's getNetDelegate (a reference containing '/' is a path) and libcni's
/// ConfFiles/LoadConfList (extensions .conf, .conflist, .json; lexical order).
public struct NetworkFiles: Sendable {
    public static let extensions = [".conf", ".conflist", ".json"]

    public let confDir: String

    public init(confDir: String) { self.confDir = confDir }

    /// Resolves `reference`, named by config key `key` in errors.
    /// - Throws: `MetaError.networkNotFound` saying where it looked, or the file's own error.
    public func load(_ reference: String, key: String) throws(MetaError) -> LoadedNetwork {
        if reference.contains("/") {
            switch FileSystem.kind(of: reference) {
            case .directory:
                guard let first = try FileSystem.listDirectory(reference).filter(Self.hasConfigExtension).sorted().first else {
                    throw .networkNotFound(reference: reference, key: key, searched: "directory \(reference) has no .conf, .conflist or .json file")
                }
                return try loadFile(FileSystem.join(reference, first))
            case .file:
                return try loadFile(reference)
            case .missing:
                throw .networkNotFound(reference: reference, key: key, searched: "no such file or directory")
            }
        }
        return try findByName(reference, key: key)
    }

    /// The config in `confDir` whose `name` is `name`; conflists are preferred over single
    /// configs of the same name, as libcni's LoadConfList does.
    public func findByName(_ name: String, key: String) throws(MetaError) -> LoadedNetwork {
        let files: [String]
        switch FileSystem.kind(of: confDir) {
        case .directory: files = try FileSystem.listDirectory(confDir).filter(Self.hasConfigExtension).sorted()
        case .file, .missing: throw .networkNotFound(reference: name, key: key, searched: "confDir \(confDir) is not a directory")
        }
        let ordered = files.filter { $0.hasSuffix(".conflist") } + files.filter { !$0.hasSuffix(".conflist") }
        var unreadable: [String] = []
        for file in ordered {
            let path = FileSystem.join(confDir, file)
            // A broken file must not stop the search, but if the name is not found it may be
            // the one that was meant, so it is named in the error.
            do {
                let loaded = try loadFile(path)
                if loaded.network.name == name { return loaded }
            } catch {
                unreadable.append("\(file) (\(ErrorMapping.cniError(error, context: nil).msg))")
            }
        }
        var searched = "no config named \"\(name)\" in \(confDir) (\(files.count) config file\(files.count == 1 ? "" : "s"))"
        if !unreadable.isEmpty { searched += "; unreadable: " + unreadable.joined(separator: "; ") }
        throw .networkNotFound(reference: name, key: key, searched: searched)
    }

    /// Reads and decodes one config file.
    public func loadFile(_ path: String) throws(MetaError) -> LoadedNetwork {
        let bytes = try FileSystem.readFile(path)
        do {
            let json = try JSONValue.parse(bytes)
            return LoadedNetwork(network: try NetworkConfigList(json: json), source: path)
        } catch let error as JSONSyntaxError {
            throw .spec(.syntax(error), source: path)
        } catch let error as SpecError {
            throw .spec(error, source: path)
        } catch {
            throw .spec(.invalidField(path: "(document)", reason: "\(error)"), source: path)
        }
    }

    /// A name libcni would load: a .conf, .conflist or .json file that is not hidden.
    public static func hasConfigExtension(_ file: String) -> Bool {
        !file.hasPrefix(".") && extensions.contains { file.hasSuffix($0) }
    }
}

/// A network and where it came from, for messages that name the file.
public struct LoadedNetwork: Sendable {
    public var network: NetworkConfigList
    public var source: String
}
