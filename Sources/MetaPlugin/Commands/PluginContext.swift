import CNI
import CNIExec
import KubeClient
import Logging

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

    /// CNI_CONTAINERID, which `Invocation` requires for ADD, DEL and CHECK, the only verbs that ask.
    func containerID() throws(MetaError) -> ContainerID {
        guard let id = invocation.containerID else { throw missing("CNI_CONTAINERID") }
        return id
    }

    /// CNI_IFNAME, which `Invocation` requires for ADD, DEL and CHECK, the only verbs that ask.
    func mainIfName() throws(MetaError) -> InterfaceName {
        guard let ifName = invocation.ifName else { throw missing("CNI_IFNAME") }
        return ifName
    }

    private func missing(_ variable: String) -> MetaError {
        .spec(.missingEnvironment(command: invocation.command.rawValue, names: [variable]), source: "the CNI environment")
    }

    /// The runtime conf of one attachment's delegate calls.
    /// - Parameters:
    ///   - cachedArgs: CNI_ARGS as ADD had them; used when this call carries none (a DEL from a
    ///     runtime that forgot the pod's identity, or a GC, must still reach the same leases).
    ///   - containerID: the attachment's container, when it is not the call's (GC).
    func runtimeConf(for attachment: Attachment, netns: String, cachedArgs: CNIArgs? = nil, containerID: ContainerID? = nil) -> RuntimeConf {
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
        NetworkResolver(config: config, files: files, api: api, devices: devices, containerID: invocation.containerID?.text ?? "", events: events,
                        diagnostics: diagnostics,
                        metaPluginGuard: MetaPluginGuard(executor: runner.executor, pluginDirectories: pluginDirectories, ownExecutable: ownExecutable),
                        deviceNeed: invocation.command == .add ? .required : .bestEffort)
    }

    /// Reads the pod the runtime named (from the watch cache when it can be trusted: `PodRead`),
    /// checking its UID when the runtime gave one.
    ///
    /// A static pod's mirror has a UID of its own (the runtime passes the one the kubelet derived
    /// from the manifest), so its UID is not compared, as in Multus. A pod the API does not know
    /// (a static pod before the kubelet has created its mirror) is attached from the config alone.
    func lookUpPod(_ api: (any KubeAPI)?) throws(MetaError) -> PodLookup {
        guard let api, let reference = pod else { return .notKubernetes }
        let found: Pod
        let read = PodRead(api: api, reference: reference, runtimeAnnotations: PodRead.runtimeAnnotations(config.runtimeConfig)) { [log] reason in
            log.log(.verbose, "pod \(reference): \(reason); reading it from storage")
        }
        do { found = try read.read() } catch where error.isNotFound {
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
