import CNI
import System

/// The kubelet's device manager checkpoint: every device allocated to every pod on this node.
///
/// Mirrors Multus's pkg/checkpoint (the fallback it uses when the pod-resources socket is
/// absent). Two deliberate differences: a missing file means "no devices" rather than an error
/// (a node without device plugins has none), and the pre-1.20 format, where `DeviceIDs` is a
/// plain list instead of a map from NUMA node to list, is read too.
struct KubeletCheckpoint: DeviceSource {
    static let defaultPath = "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"

    var path = KubeletCheckpoint.defaultPath

    /// The pod's devices by resource, container by container in the pod's order (Multus takes
    /// the file's order, which the kubelet writes from a Go map, so it changes between writes;
    /// a container the spec does not name follows in file order), each container's IDs of a
    /// resource sorted, NUMA nodes merged, as Multus v4.3.1.
    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices {
        guard !pod.uid.isEmpty else {
            throw DeviceInfoError(path: path, problem: "cannot look up devices for a pod without a UID")
        }
        let entries = try entries().filter { $0.podUID == pod.uid }
        var containers = pod.containers.filter { name in entries.contains { $0.containerName == name } }
        for entry in entries where !containers.contains(entry.containerName) { containers.append(entry.containerName) }
        var devices = PodDevices(reporter: "the kubelet's checkpoint \(path)")
        let origin = DeviceOrigin.checkpoint(path: path)
        for container in containers {
            devices.append(entries.filter { $0.containerName == container }.flatMap { entry in
                entry.deviceIDs.map { (name: entry.resourceName, grant: DeviceGrant(id: $0, origin: origin)) }
            })
        }
        return devices
    }

    /// One `PodDeviceEntries` element: what one container of one pod got of one resource.
    struct Entry: Sendable, Hashable {
        var podUID: String
        var containerName: String
        var resourceName: String
        /// In a stable order: NUMA nodes ascending (numerically), each node's list as written.
        var deviceIDs: [String]
    }

    /// The IDs of one resource allocated to the pod `podUID`, in file order of containers.
    func deviceIDs(podUID: String, resourceName: String) throws(DeviceInfoError) -> [String] {
        (try devices(of: PodIdentity(name: "", namespace: "", uid: podUID)).grants[resourceName] ?? []).map(\.id)
    }

    /// Every entry, in file order; none when the file does not exist.
    /// - Throws: `DeviceInfoError` naming the file when it cannot be read or is not a checkpoint.
    func entries() throws(DeviceInfoError) -> [Entry] {
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: wholeFileLimit)
        } catch {
            if error.errno == .noSuchFileOrDirectory { return [] }
            throw DeviceInfoError(.file(error, path: path), path: path)
        }
        return try Self.parse(bytes, path: path)
    }

    /// Decodes checkpoint bytes; `path` is only for error messages.
    static func parse(_ bytes: [UInt8], path: String) throws(DeviceInfoError) -> [Entry] {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw DeviceInfoError(path: path, problem: "kubelet device checkpoint is not valid JSON: \(error)")
        }
        do {
            let root = try JSONFields(document, path: "")
            guard let data = try root.fields("Data") else { return [] }
            var entries: [Entry] = []
            for entry in try data.objects("PodDeviceEntries") {
                entries.append(Entry(
                    podUID: try entry.string("PodUID") ?? "",
                    containerName: try entry.string("ContainerName") ?? "",
                    resourceName: try entry.string("ResourceName") ?? "",
                    deviceIDs: try deviceIDs(entry)))
            }
            return entries
        } catch {
            throw DeviceInfoError(path: path, problem: "not a kubelet device checkpoint: \(error)")
        }
    }

    /// `DeviceIDs`: `{"<NUMA node>": [ids]}` (kubelet 1.20 and later) or `[ids]` (before).
    private static func deviceIDs(_ entry: JSONFields) throws(SpecError) -> [String] {
        let key = "DeviceIDs"
        switch entry.object[key] {
        case nil, .null?:
            return []
        case .array?:
            return try entry.strings(key)
        case .object(let byNode)?:
            let nodes = JSONFields(byNode, path: entry.path(key))
            var numbered: [(node: Int64, ids: [String])] = []
            for node in byNode.keys {
                guard let number = Int64(node) else {
                    throw .invalidField(path: nodes.path(node), reason: "NUMA node \(Echo.quoted(node)) is not an integer")
                }
                numbered.append((number, try nodes.strings(node)))
            }
            return numbered.sorted { $0.node < $1.node }.flatMap(\.ids)
        case let value?:
            throw .invalidField(path: entry.path(key), reason: "must be an object or an array, found \(value.kindName)")
        }
    }
}
