import CNI
import CNIExec
import System

/// Refuses a NetworkAttachmentDefinition's config that would run a meta-plugin: Multus itself,
/// its thick plugin's shim, or any name under which the plugin directories hold this very binary.
///
/// Why: a meta-plugin run as a delegate takes its own config from its stdin, which here is the
/// NAD's text. That config names its own `binDir`, `delegates`, `cniDir`, `logFile` and
/// `kubeconfig`, so whoever may write a NAD in some namespace could run any binary on the node as
/// root (one in a host path they can write, say), write files where they like, and talk to the
/// API with credentials of their choosing. Upstream Multus has the same hole.
///
/// Every `type` in the config counts, however deep and in whatever letter case: Go plugins match
/// keys case-insensitively, and a delegate runs the plugin its `ipam` names, flannel the one its
/// `delegate` names, each looked up in the CNI_PATH we give it (our plugin directories).
///
/// Not checked, because they are the operator's: `delegates`, and `clusterNetwork` and
/// `defaultNetworks` loaded from files on the node (a path, or a name in `confDir`).
struct MetaPluginGuard: Sendable {
    /// Types that are a meta-plugin whatever binary they resolve to.
    static let metaPluginTypes: Set<String> = ["multus", "multus-shim"]

    /// How delegates are found (the same lookup a delegate's run makes).
    let executor: any PluginExecutor
    /// binDir, then CNI_PATH: where a delegate, and the plugins it runs in turn, are looked up.
    let pluginDirectories: [String]
    /// The running executable: `/proc/self/exe` (tests point it at a fixture).
    let ownExecutable: String

    /// Why `config` may not come from a NAD; nil when it may.
    func refusal(_ config: JSONValue) -> String? {
        var types: [String] = []
        var seen: Set<String> = []
        Self.forEachType(in: config) { if seen.insert($0).inserted { types.append($0) } }
        if let meta = types.first(where: Self.metaPluginTypes.contains) {
            return "\(Self.location(of: meta, in: config)) is \(Echo.quoted(meta)), a meta-plugin: \(Self.consequence)"
        }
        guard let own = FileIdentity(path: ownExecutable) else { return nil }
        for type in types {
            // A type that cannot be found, or could name a file outside these directories, runs
            // nothing here; the plan refuses the latter on its own.
            guard let found = try? executor.find(type, in: pluginDirectories), FileIdentity(path: found) == own else { continue }
            return "\(Self.location(of: type, in: config)) is \(Echo.quoted(type)), which is \(found), this multus binary itself: \(Self.consequence)"
        }
        return nil
    }

    private static let consequence =
        "a NAD may not run a meta-plugin (it would run as root with the NAD's own binDir, delegates, kubeconfig and logFile)"

    /// Calls `body` with every string under a key that Go would read as `type`, in document order.
    private static func forEachType(in value: JSONValue, _ body: (String) -> Void) {
        switch value {
        case .object(let object):
            for (key, member) in object {
                if case .string(let type) = member, isTypeKey(key) { body(type) }
                forEachType(in: member, body)
            }
        case .array(let elements):
            for element in elements { forEachType(in: element, body) }
        default:
            return
        }
    }

    /// Where `type` first occurs, as a path like `plugins[1].ipam.type`, clipped. Built only for
    /// the one type refused: paths of every key of a deep document would cost its depth squared.
    private static func location(of type: String, in config: JSONValue) -> String {
        var components: [String] = []
        func search(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let object):
                for (key, member) in object {
                    components.append(components.isEmpty ? key : ".\(key)")
                    if case .string(type) = member, isTypeKey(key) { return true }
                    if search(member) { return true }
                    components.removeLast()
                }
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    components.append("[\(index)]")
                    if search(element) { return true }
                    components.removeLast()
                }
            default:
                break
            }
            return false
        }
        return search(config) ? Echo.clipped(components.joined(), limit: 128) : "type"
    }

    /// "type" as Go's encoding/json matches it: ASCII letters in any case.
    private static func isTypeKey(_ key: String) -> Bool {
        key.utf8.count == 4 && zip(key.utf8, "type".utf8).allSatisfy { $0 | 0x20 == $1 }
    }
}
