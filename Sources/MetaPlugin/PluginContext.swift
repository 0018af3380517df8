import CNI
import CNIExec
import KubeClient
import Synchronization

/// What every command of one invocation shares. Built once by `MultusPlugin`; commands never
/// read the process environment themselves.
struct PluginContext: Sendable {
    let config: MultusConfig
    let invocation: Invocation
    let runner: DelegateRunner
    let cache: AttachmentCache
    let files: NetworkFiles
    /// binDir, then CNI_PATH (Multus's search order), without repeats.
    let pluginDirectories: [String]
    let passthroughEnvironment: [String]
    let diagnostics: Diagnostics
    /// The pod named in CNI_ARGS, if any.
    let pod: PodReference?
    let kube: KubeAccess
    let devices: DevicePaths

    /// The runtime conf of one attachment's delegate calls.
    /// - Parameter cachedArgs: CNI_ARGS as ADD had them; used when this call carries none
    ///   (a DEL from a runtime that forgot the pod's identity must still reach the same leases).
    func runtimeConf(for attachment: Attachment, netns: String, cachedArgs: CNIArgs? = nil) -> RuntimeConf {
        var args = invocation.args.isEmpty ? (cachedArgs ?? invocation.args) : invocation.args
        for (key, value) in attachment.extraArgs.pairs { args[key] = value }
        return RuntimeConf(containerID: invocation.containerID, netns: netns, ifName: attachment.ifName, args: args,
                           capabilityArgs: attachment.capabilityArgs, pluginDirectories: pluginDirectories,
                           passthroughEnvironment: passthroughEnvironment)
    }

    /// The conf for calls that concern no container (STATUS, GC).
    var containerlessRuntimeConf: RuntimeConf {
        RuntimeConf(pluginDirectories: pluginDirectories, passthroughEnvironment: passthroughEnvironment)
    }

    /// The resolver, with the API when the call is about a pod and Kubernetes is configured.
    func resolver(api: (any KubeAPI)?) -> NetworkResolver {
        NetworkResolver(config: config, files: files, api: api, devices: devices, containerID: invocation.containerID)
    }

    /// Reads the pod the runtime named, checking its UID when the runtime gave one.
    /// - Returns: nil without Kubernetes or without a pod in CNI_ARGS.
    func fetchPod(_ api: (any KubeAPI)?) throws(MetaError) -> Pod? {
        guard let api, let reference = pod else { return nil }
        let found: Pod
        do { found = try api.pod(namespace: reference.namespace, name: reference.name) } catch {
            throw .kube(error, context: "reading pod \(reference)")
        }
        if let uid = reference.uid, !found.metadata.uid.isEmpty, found.metadata.uid != uid {
            throw .invalidConfig("pod \(reference) has UID \(found.metadata.uid), the runtime asked for \(uid): it was deleted and recreated", source: "the Kubernetes API")
        }
        return found
    }

    /// Whether network-status is written for this pod (not in `systemNamespaces`, as Multus).
    var writesNetworkStatus: Bool {
        guard let pod else { return false }
        return !config.systemNamespaces.contains(pod.namespace)
    }
}

/// How a call reaches the API server. Created on first use: DEL from the cache needs no API to
/// tear down, and a broken kubeconfig must not stop it.
public typealias KubeAPIProvider = @Sendable (MultusConfig, [String: String]) throws(MetaError) -> (any KubeAPI)?

final class KubeAccess: Sendable {
    private let provider: KubeAPIProvider
    private let config: MultusConfig
    private let environment: [String: String]
    private let state = Mutex<(any KubeAPI)??>(nil)

    init(provider: @escaping KubeAPIProvider, config: MultusConfig, environment: [String: String]) {
        self.provider = provider
        self.config = config
        self.environment = environment
    }

    /// The API, or nil when no kubeconfig and no in-cluster service account is configured.
    /// Made under the lock: DEL's status clear runs on its own thread and may ask at the same time.
    func api() throws(MetaError) -> (any KubeAPI)? {
        try state.withLock { (made) throws(MetaError) -> (any KubeAPI)? in
            if let existing = made { return existing }
            let created = try provider(config, environment)
            made = .some(created)
            return created
        }
    }
}

/// Lines for stderr: what happened that did not fail the call but an operator should see.
public final class Diagnostics: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    func note(_ line: String) { lines.withLock { $0.append(line) } }

    public var all: [String] { lines.withLock { $0 } }
}

/// Where device-plugin state lives on the node; tests point these at fixtures.
public struct DevicePaths: Sendable {
    /// The kubelet's device-plugin checkpoint (which devices each pod was given).
    public var checkpoint: String
    /// The Network Plumbing WG device-info directory (`dp/` from device plugins, `cni/` ours).
    public var infoDirectory: String

    public init(checkpoint: String, infoDirectory: String) {
        self.checkpoint = checkpoint
        self.infoDirectory = infoDirectory
    }

    public static let live = DevicePaths(checkpoint: KubeletCheckpoint.defaultPath, infoDirectory: DeviceInfo.baseDirectory)
}
