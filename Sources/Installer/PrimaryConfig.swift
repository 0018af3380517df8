import CNI
import System

/// The node's primary CNI config (flannel's, calico's, ...): the network every pod gets first,
/// which the generated config wraps as its first delegate.
public struct PrimaryConfig: Sendable, Hashable {
    /// The file it was chosen as (after `--rename-conf-file`, the name it had before).
    public var path: String
    public var network: NetworkConfigList
    /// `cniVersion` as written in the file.
    public var cniVersion: String

    /// Plugin types that are Multus itself: wrapping one would nest multus inside multus.
    public static let multusTypes: Set<String> = ["multus", "multus-shim"]

    /// Decodes and validates `bytes`, read from `path`.
    /// - Throws: `InstallError.primary` saying what is wrong with it.
    public init(path: String, bytes: [UInt8]) throws(InstallError) {
        let network: NetworkConfigList
        do {
            network = try NetworkConfigList(json: try JSONValue.parse(bytes))
        } catch let error as JSONSyntaxError {
            throw .primary(path: path, reason: error.description)
        } catch {
            throw .primary(path: path, reason: "\(error)")
        }
        guard case .string(let version)? = network.raw["cniVersion"] else {
            throw .primary(path: path, reason: "has no cniVersion, so the generated config could not declare one")
        }
        if let own = network.plugins.first(where: { Self.multusTypes.contains($0.type) }) {
            throw .primaryIsMultus(path: path, type: own.type)
        }
        self.path = path
        self.network = network
        self.cniVersion = version
    }
}

/// Which file is the primary, as a runtime would choose it, minus everything that is ours.
struct PrimaryFinder: Sendable {
    var directory: String
    /// `--multus-master-cni-file-name`, if given.
    var explicitName: String?
    /// Names install writes in `directory` (when it is the conf dir): never a primary.
    var ownNames: Set<String>

    enum Outcome: Sendable, Equatable {
        case found(PrimaryConfig)
        /// Nothing to use yet; why, for the log.
        case waiting(String)
        /// A file is there but cannot be used.
        case unusable(InstallError)
    }

    /// The primary: the explicit file, else the first config in lexical (byte) order as libcni
    /// sorts, skipping our own files and any config of type multus.
    ///
    /// `pinned` is the primary chosen before: if it has disappeared, it is waited for rather
    /// than replaced by the next file (a CNI daemon rewriting its config must not switch the
    /// node's cluster network). `movedTo` is where install renamed it (`<pinned>.old` under
    /// `--rename-conf-file`), read while the original is absent.
    func find(pinned: String?, movedTo: String?) -> Outcome {
        if let pinned, !Files.exists(pinned) {
            if let movedTo, let bytes = try? Files.read(movedTo, limit: 1 << 20) {
                return load(pinned, bytes)
            }
            return .waiting("the primary CNI config \(pinned) has gone; waiting for it to come back")
        }
        if let explicitName { return read(join(explicitName)) }
        let names: [String]
        do { names = try Files.list(directory) } catch {
            return .unusable(.file(error, path: directory))
        }
        let candidates = names.filter { NetworkConfigFiles.isConfigFile($0) && !ownNames.contains($0) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in candidates {
            let outcome = read(join(name))
            // A config of Multus's own is skipped, as the runtime would never want it nested.
            if case .unusable(.primaryIsMultus) = outcome { continue }
            return outcome
        }
        return .waiting("no CNI config in \(directory) yet (looking for .conf, .conflist or .json); waiting for one")
    }

    private func read(_ path: String) -> Outcome {
        if let name = path.split(separator: "/").last, ownNames.contains(String(name)) {
            return .unusable(.primary(path: path, reason: "is the config multus install writes; name the primary instead"))
        }
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: 1 << 20) } catch {
            if error.errno == .noSuchFileOrDirectory { return .waiting("the primary CNI config \(path) does not exist yet; waiting for it") }
            return .unusable(.file(error, path: path))
        }
        return load(path, bytes)
    }

    private func load(_ path: String, _ bytes: [UInt8]) -> Outcome {
        do { return .found(try PrimaryConfig(path: path, bytes: bytes)) } catch { return .unusable(error) }
    }

    private func join(_ name: String) -> String { directory.hasSuffix("/") ? directory + name : directory + "/" + name }
}
