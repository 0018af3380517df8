import CNI
import Logging

/// The meta-plugin's own config (`00-multus.conf`), decoded once. Only wire fields live here;
/// what is derived from them (which delegate is main, interface names) lives in `AttachmentPlan`.
public struct MultusConfig: Sendable {
    public var name: String
    public var cniVersion: SpecVersion
    /// Inline delegates, in order; the first is the main network. Ignored when `clusterNetwork`
    /// is set, as in Multus.
    public var delegates: [NetworkConfigList]
    /// The main network: a file, a directory (first config in lexical order) or a network name in `confDir`.
    public var clusterNetwork: String?
    /// Networks every pod gets after the main one, in the same forms.
    public var defaultNetworks: [String]
    public var kubeconfig: String?
    /// Where `clusterNetwork`/`defaultNetworks` NADs and default-network overrides live.
    public var multusNamespace: Namespace
    /// Pods here get no `defaultNetworks` and no network-status annotation.
    public var systemNamespaces: [String]
    /// Pods may only use NADs of their own namespace, or of `globalNamespaces`.
    public var namespaceIsolation: Bool
    public var globalNamespaces: [String]
    public var confDir: String
    public var cniDir: String
    public var binDir: String
    /// runtimeConfig the runtime passed us (port mappings, bandwidth, ...): offered to the main network.
    public var runtimeConfig: JSONObject
    public var readinessIndicatorFile: String?
    public var readinessIndicatorTimeout: Duration
    public var resultMode: ResultMode
    /// How long one delegate plugin may run before it is killed.
    public var delegateTimeout: Duration
    /// `auxiliaryCNIChainName` (Multus v4.2.1+): the plugins of `<the cluster network's directory>/<name>/`
    /// run for every pod, after all other networks, as a chain of their own.
    public var auxiliaryChainName: String?
    /// How many secondary networks ADD attaches (and teardown removes) at once, after the main
    /// network. 1, the default, is Multus's one at a time: raise it only for delegates that are
    /// safe side by side.
    public var attachConcurrency: Int
    /// Whether ADD records Kubernetes events on the pod (`AddedInterface`, `NoNetworkFound`).
    public var events: Bool
    /// `draDeviceStatus`: ADD writes `networkData` and a `Ready` condition into the ResourceClaim
    /// of each DRA device it attached (`status.devices`, KEP-4817), and DEL removes them. Off by
    /// default: it needs the optional role of deploy/rbac.yml, and makes DEL call the API.
    public var draDeviceStatus: Bool
    /// `logFile`, `logLevel`, `logToStderr`, `logOptions`, as Multus reads them.
    public var logging: LogSettings
    /// The result the runtime hands back on CHECK (and DEL), if any.
    public var prevResult: CNIResult?

    /// What ADD prints: the main network's result only (the default, safe with every runtime), or
    /// every network under the rules in `ResultMerge` (for containerd and for use by hand).
    public enum ResultMode: String, Sendable, CaseIterable {
        case main, merged
    }

    public static let defaultConfDir = "/etc/cni/multus/net.d"
    public static let defaultCNIDir = "/var/lib/cni/multus"
    public static let defaultBinDir = "/opt/cni/bin"

    /// Decodes the config on stdin.
    /// - Throws: `SpecError` naming the field; `MetaError.invalidConfig` for combinations that
    ///   cannot work (no delegates and no clusterNetwork).
    public init(json: JSONValue) throws(MetaError) {
        do throws(SpecError) {
            let f = try JSONFields(json, path: "")
            name = try f.string("name") ?? "multus-cni-network"
            cniVersion = try f.specVersion()
            clusterNetwork = try f.string("clusterNetwork").flatMap { $0.isEmpty ? nil : $0 }
            defaultNetworks = try f.strings("defaultNetworks")
            kubeconfig = try f.string("kubeconfig").flatMap { $0.isEmpty ? nil : $0 }
            // It goes into API paths: a namespace Kubernetes could not have never reaches a request line.
            let namespace = try f.string("multusNamespace").flatMap { $0.isEmpty ? nil : $0 } ?? "kube-system"
            do throws(NameError) { multusNamespace = try Namespace(namespace) } catch {
                throw SpecError.invalidField(path: "multusNamespace", reason: error.reason)
            }
            systemNamespaces = f.object["systemNamespaces"] == nil ? ["kube-system"] : try f.strings("systemNamespaces")
            namespaceIsolation = try f.bool("namespaceIsolation") ?? false
            // Multus reads this one as a comma-separated string.
            globalNamespaces = (try f.string("globalNamespaces") ?? "default").split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
            confDir = try f.string("confDir") ?? Self.defaultConfDir
            cniDir = try f.string("cniDir") ?? Self.defaultCNIDir
            binDir = try f.string("binDir") ?? Self.defaultBinDir
            runtimeConfig = try f.object("runtimeConfig") ?? JSONObject()
            readinessIndicatorFile = try f.string("readinessindicatorfile").flatMap { $0.isEmpty ? nil : $0 }
            readinessIndicatorTimeout = .seconds(try Self.positiveSeconds(f, "readinessindicatortimeout") ?? 45)
            delegateTimeout = .seconds(try Self.positiveSeconds(f, "delegateTimeout") ?? 120)
            attachConcurrency = try Self.positive(f, "attachConcurrency", unit: "networks at once") ?? 1
            events = try f.bool("events") ?? true
            draDeviceStatus = try f.bool("draDeviceStatus") ?? false
            auxiliaryChainName = try f.string("auxiliaryCNIChainName").flatMap { $0.isEmpty ? nil : $0 }
            if let name = auxiliaryChainName, let problem = NameRules.networkNameProblem(name) {
                throw SpecError.invalidField(path: "auxiliaryCNIChainName", reason: problem)
            }
            logging = try LogSettings(f)
            let mode = try f.string("resultMode") ?? ResultMode.main.rawValue
            guard let resultMode = ResultMode(rawValue: mode) else {
                throw SpecError.invalidField(path: "resultMode", reason: "\(Echo.quoted(mode)) is not one of \(ResultMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            self.resultMode = resultMode
            delegates = []
            if clusterNetwork == nil {
                for (i, delegate) in (try f.array("delegates") ?? []).enumerated() {
                    delegates.append(try NetworkConfigList(json: delegate, path: "delegates[\(i)]"))
                }
            }
            if let prev = f.object["prevResult"], prev != .null {
                prevResult = try CNIResult(json: prev, fallbackVersion: cniVersion, path: "prevResult")
            }
        } catch {
            throw .spec(error, source: "the multus config (stdin)")
        }
        if delegates.isEmpty && clusterNetwork == nil {
            throw .invalidConfig("the multus config needs \"delegates\" (at least one) or \"clusterNetwork\"", source: "the multus config (stdin)")
        }
    }

    private static func positiveSeconds(_ f: JSONFields, _ key: String) throws(SpecError) -> Int? {
        try positive(f, key, unit: "seconds")
    }

    private static func positive(_ f: JSONFields, _ key: String, unit: String) throws(SpecError) -> Int? {
        guard let value = try f.int(key) else { return nil }
        guard value > 0 else { throw .invalidField(path: key, reason: "must be a positive number of \(unit), found \(value)") }
        return value
    }
}
