import CNI
import CNIExec
import KubeClient
import Logging
import PodResources
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
    let log: Logger
    /// The running executable (`/proc/self/exe`): a NAD may not run it again as a delegate.
    let ownExecutable: String

    /// The runtime conf of one attachment's delegate calls.
    /// - Parameters:
    ///   - cachedArgs: CNI_ARGS as ADD had them; used when this call carries none (a DEL from a
    ///     runtime that forgot the pod's identity, or a GC, must still reach the same leases).
    ///   - containerID: the attachment's container, when it is not the call's (GC).
    func runtimeConf(for attachment: Attachment, netns: String, cachedArgs: CNIArgs? = nil, containerID: String? = nil) -> RuntimeConf {
        var args = invocation.args.isEmpty ? (cachedArgs ?? invocation.args) : invocation.args
        if attachment.role != .main { for key in Self.interfaceArgs { args[key] = nil } }
        for (key, value) in attachment.extraArgs.pairs { args[key] = value }
        return RuntimeConf(containerID: containerID ?? invocation.containerID, netns: netns, ifName: attachment.ifName, args: args,
                           capabilityArgs: attachment.capabilityArgs, pluginDirectories: pluginDirectories,
                           passthroughEnvironment: passthroughEnvironment)
    }

    /// CNI_ARGS the runtime sets for CNI_IFNAME alone (podman's `--ip`, `--mac-address` and
    /// `network reload`): handed to a secondary they would give it eth0's address or MAC.
    static let interfaceArgs = ["IP", "MAC"]

    /// The conf for calls that concern no container (STATUS, GC).
    var containerlessRuntimeConf: RuntimeConf {
        RuntimeConf(pluginDirectories: pluginDirectories, passthroughEnvironment: passthroughEnvironment)
    }

    /// The resolver, with the API when the call is about a pod and Kubernetes is configured.
    /// Only ADD insists on a device for each network that names a resource: DEL's plan (when the
    /// cache is lost) may come after the kubelet released the pod's devices.
    func resolver(api: (any KubeAPI)?, events: EventRecorder? = nil) -> NetworkResolver {
        NetworkResolver(config: config, files: files, api: api, devices: devices, containerID: invocation.containerID, events: events,
                        diagnostics: diagnostics,
                        metaPluginGuard: MetaPluginGuard(executor: runner.executor, pluginDirectories: pluginDirectories, ownExecutable: ownExecutable),
                        deviceNeed: invocation.command == .add ? .required : .bestEffort)
    }

    /// Reads the pod the runtime named, checking its UID when the runtime gave one.
    ///
    /// A static pod's mirror has a UID of its own (the runtime passes the one the kubelet derived
    /// from the manifest), so its UID is not compared, as in Multus. A pod the API does not know
    /// (a static pod before the kubelet has created its mirror) is attached from the config alone.
    func lookUpPod(_ api: (any KubeAPI)?) throws(MetaError) -> PodLookup {
        guard let api, let reference = pod else { return .notKubernetes }
        let found: Pod
        do { found = try api.pod(namespace: reference.namespace.text, name: reference.name.text) } catch where error.isNotFound {
            return .unknownToAPI(reference)
        } catch {
            throw .kube(error, context: "reading pod \(reference)")
        }
        if let uid = reference.uid?.text, !found.metadata.uid.isEmpty, found.metadata.uid != uid, !found.isStatic {
            throw .invalidConfig("pod \(reference) has UID \(found.metadata.uid), the runtime asked for \(uid): it was deleted and recreated", source: "the Kubernetes API")
        }
        return .found(found)
    }

    /// Whether ADD reports the DRA devices it attached in their ResourceClaims' `status.devices`
    /// (KEP-4817), and DEL takes the reports out again: `draDeviceStatus`, for a call about a pod.
    var writesDeviceStatus: Bool { config.draDeviceStatus && pod != nil }

    /// Whether network-status is written for this pod (not in `systemNamespaces`, as Multus).
    var writesNetworkStatus: Bool {
        guard let pod else { return false }
        return !config.systemNamespaces.contains(pod.namespace.text)
    }
}

/// What the API server says about the pod a call is for.
enum PodLookup {
    /// No kubeconfig, or no pod in CNI_ARGS: the config alone decides.
    case notKubernetes
    case found(Pod)
    /// The runtime named a pod the API answers 404 for.
    case unknownToAPI(PodReference)

    /// The pod the plan is made for. An unknown pod stands in with its name and namespace only:
    /// no annotations, so only the config's networks, and no `defaultNetworks` in `systemNamespaces`.
    var podForPlan: Pod? {
        switch self {
        case .notKubernetes: nil
        case .found(let pod): pod
        case .unknownToAPI(let reference): Pod(metadata: ObjectMeta(name: reference.name.text, namespace: reference.namespace.text))
        }
    }

    /// The pod as the API holds it, when it does.
    var apiPod: Pod? { if case .found(let pod) = self { pod } else { nil } }
}

/// How a call reaches the API server. Created on first use: DEL from the cache needs no API to
/// tear down, and a broken kubeconfig must not stop it. The `Duration` is how long the whole
/// invocation may spend on API calls, retries included (`MultusPlugin.apiBudget`).
public typealias KubeAPIProvider = @Sendable (MultusConfig, [String: String], Duration) throws(MetaError) -> (any KubeAPI)?

final class KubeAccess: Sendable {
    private let provider: KubeAPIProvider
    private let config: MultusConfig
    private let environment: [String: String]
    private let budget: Duration
    private let state = Mutex<(any KubeAPI)??>(nil)
    private let log: Logger

    init(provider: @escaping KubeAPIProvider, config: MultusConfig, environment: [String: String], budget: Duration, log: Logger) {
        self.provider = provider
        self.config = config
        self.environment = environment
        self.budget = budget
        self.log = log
    }

    /// The API, or nil when no kubeconfig and no in-cluster service account is configured.
    /// Made under the lock: the event and status threads of ADD share it with the main thread.
    func api() throws(MetaError) -> (any KubeAPI)? {
        try state.withLock { (made) throws(MetaError) -> (any KubeAPI)? in
            if let existing = made { return existing }
            let created = try provider(config, environment, budget)
            if let live = created as? LiveKubeAPI, log.enables(.verbose) { live.observeCalls(InvocationLog.apiCall(log)) }
            made = .some(created)
            return created
        }
    }
}

/// Lines for stderr: what happened that did not fail the call but an operator should see.
/// Redacted as log lines are: a note quotes delegates' errors, which may quote their config.
public final class Diagnostics: Sendable {
    private let lines = Mutex<[String]>([])
    private let log: Logger?

    /// - Parameter log: where notes are also logged (at `verbose`).
    public init(log: Logger? = nil) { self.log = log }

    func note(_ line: String) {
        lines.withLock { $0.append(Redaction.redact(line)) }
        log?.log(.verbose, line)
    }

    /// A failure the call survives but an operator must act on: on stderr, and logged at `error`.
    func error(_ line: String) {
        lines.withLock { $0.append(line) }
        log?.log(.error, line)
    }

    public var all: [String] { lines.withLock { $0 } }
}

/// Where device-plugin state lives on the node; tests point these at fixtures.
public struct DevicePaths: Sendable {
    /// The kubelet's device-plugin checkpoint (which devices each pod was given), read when the
    /// pod-resources socket is not there.
    public var checkpoint: String
    /// The Network Plumbing WG device-info directory (`dp/` from device plugins, `cni/` ours).
    public var infoDirectory: String
    /// The kubelet's pod-resources API socket, asked first.
    public var podResourcesSocket: String
    /// How long one pod-resources call may take (a kubelet that is restarting must not hang ADD).
    public var podResourcesDeadline: Duration

    public init(checkpoint: String, infoDirectory: String, podResourcesSocket: String = PodResourcesClient.defaultSocket,
                podResourcesDeadline: Duration = .seconds(2)) {
        self.checkpoint = checkpoint
        self.infoDirectory = infoDirectory
        self.podResourcesSocket = podResourcesSocket
        self.podResourcesDeadline = podResourcesDeadline
    }

    public static let live = DevicePaths(checkpoint: KubeletCheckpoint.defaultPath, infoDirectory: DeviceInfo.baseDirectory)
}
