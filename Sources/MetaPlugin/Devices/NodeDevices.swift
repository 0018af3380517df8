import CNI
import PodResources

/// The devices of a pod on this node, from the best source there is, as Multus chooses: the
/// kubelet's pod-resources API when its socket is there, else the device-plugin checkpoint.
struct NodeDevices: DeviceSource {
    let podResources: PodResourcesClient
    let checkpoint: KubeletCheckpoint

    init(_ paths: DevicePaths) {
        podResources = PodResourcesClient(socket: paths.podResourcesSocket, deadline: paths.podResourcesDeadline)
        checkpoint = KubeletCheckpoint(path: paths.checkpoint)
    }

    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices {
        guard podResources.socketExists else { return try checkpoint.devices(of: pod) }
        // The API server checked these names when the pod was made; a pod not known to the API
        // has none, and pod-resources cannot be asked for it.
        guard let name = try? PodName(pod.name), let namespace = try? Namespace(pod.namespace) else {
            throw DeviceInfoError(path: podResources.socket, problem: "kubelet pod-resources API: the pod \(Echo.quoted(pod.description)) has no valid name to ask for", isTransient: false)
        }
        let resources: PodResources?
        do {
            resources = try podResources.podResources(pod: name, namespace: namespace)
        } catch where error.problem == .absent {
            // Gone between the look and the call: the node has no API after all.
            return try checkpoint.devices(of: pod)
        } catch {
            throw DeviceInfoError(path: podResources.socket, problem: "kubelet pod-resources API: \(error.reason)", isTransient: error.isTransient)
        }
        return Self.devices(resources ?? PodResources(name: pod.name, namespace: pod.namespace), socket: podResources.socket)
    }

    /// A pod's devices by resource name and by claim name, container by container in the
    /// kubelet's order: its device-plugin devices and its DRA claims (the part after "=" of each
    /// CDI device name), each container's IDs of one name sorted, as Multus v4.3.1 orders them.
    static func devices(_ pod: PodResources, socket: String) -> PodDevices {
        var devices = PodDevices(reporter: "the kubelet's pod-resources API (\(socket))")
        let plugin = DeviceOrigin.devicePlugin(socket: socket), claim = DeviceOrigin.draClaim(socket: socket)
        for container in pod.containers {
            devices.append(container.devices.flatMap { resource in
                resource.deviceIDs.map { (name: resource.resourceName, grant: DeviceGrant(id: $0, origin: plugin)) }
            } + container.dynamicResources.flatMap { resource in
                resource.claimResources.flatMap(\.cdiDevices).compactMap(cdiDeviceID).map { (name: resource.claimName, grant: DeviceGrant(id: $0, origin: claim)) }
            })
            for resource in container.dynamicResources {
                let unusable = resource.claimResources.flatMap(\.cdiDevices).filter { cdiDeviceID($0) == nil }
                if !unusable.isEmpty { devices.unusableCDINames[resource.claimName, default: []] += unusable }
            }
        }
        return devices
    }

    /// The device ID in a fully qualified CDI device name, `vendor.com/class=ID`; nil unless the
    /// name has exactly one "=" with something after it.
    static func cdiDeviceID(_ name: String) -> String? {
        let parts = name.split(separator: "=", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        return String(parts[1])
    }
}
