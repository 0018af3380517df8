import CNI
import Glibc

/// A device lookup or device-info file failed. `path` names the file (the kubelet checkpoint, a
/// device plugin's or a delegate's device-info file), `problem` what is wrong with it.
struct DeviceInfoError: Error, Sendable, Hashable, CustomStringConvertible {
    var path: String
    var problem: String

    var description: String { "\(path): \(problem)" }

    /// A failed file operation, worded like the rest of the meta-plugin's I/O errors.
    init(_ error: MetaError, path fallback: String) {
        if case .io(let path, let operation, let errno) = error {
            self.init(path: path, problem: "\(operation) failed: \(FileSystem.describe(errno))")
        } else {
            self.init(path: fallback, problem: "\(error)")
        }
    }

    init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
}

/// Where a pod's allocated devices are found. The kubelet's checkpoint file today; the
/// pod-resources gRPC socket can slot in as another conformer later.
protocol DeviceSource: Sendable {
    /// Device IDs allocated to pod `podUID` for `resourceName`, in the kubelet's order (all
    /// containers of the pod). Empty when the pod has none.
    /// - Throws: `DeviceInfoError` when the source exists but cannot be read or understood.
    func deviceIDs(podUID: String, resourceName: String) throws(DeviceInfoError) -> [String]
}

/// The kubelet's device manager checkpoint: every device allocated to every pod on this node.
///
/// Mirrors Multus's pkg/checkpoint (the fallback it uses when the pod-resources socket is
/// absent). Two deliberate differences: a missing file means "no devices" rather than an error
/// (a node without device plugins has none), and the pre-1.20 format, where `DeviceIDs` is a
/// plain list instead of a map from NUMA node to list, is read too.
struct KubeletCheckpoint: DeviceSource {
    static let defaultPath = "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"

    var path = KubeletCheckpoint.defaultPath

    /// One `PodDeviceEntries` element: what one container of one pod got of one resource.
    struct Entry: Sendable, Hashable {
        var podUID: String
        var containerName: String
        var resourceName: String
        /// In a stable order: NUMA nodes ascending (numerically), each node's list as written.
        var deviceIDs: [String]
    }

    func deviceIDs(podUID: String, resourceName: String) throws(DeviceInfoError) -> [String] {
        guard !podUID.isEmpty else {
            throw DeviceInfoError(path: path, problem: "cannot look up devices for a pod without a UID")
        }
        return try entries()
            .filter { $0.podUID == podUID && $0.resourceName == resourceName }
            .flatMap(\.deviceIDs)
    }

    /// Every entry, in file order; none when the file does not exist.
    /// - Throws: `DeviceInfoError` naming the file when it cannot be read or is not a checkpoint.
    func entries() throws(DeviceInfoError) -> [Entry] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch {
            if case .io(_, _, let errno) = error, errno == ENOENT { return [] }
            throw DeviceInfoError(error, path: path)
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
                    throw .invalidField(path: nodes.path(node), reason: "NUMA node \"\(node)\" is not an integer")
                }
                numbered.append((number, try nodes.strings(node)))
            }
            return numbered.sorted { $0.node < $1.node }.flatMap(\.ids)
        case let value?:
            throw .invalidField(path: entry.path(key), reason: "must be an object or an array, found \(value.kindName)")
        }
    }
}

/// Hands out each resource's device IDs in order, one per delegate, as Multus's resourceMap
/// index does: the first delegate asking for `intel.com/sriov` gets the first device, the next
/// the second, and one beyond the pod's allocation gets none.
///
/// The order is Multus's: all of the pod's IDs for the resource, sorted as strings
/// (`types.SortDeviceIDs`, which every Multus resource client applies), so it does not depend
/// on container or NUMA order. The source is read lazily, once per resource, so a pod whose
/// networks name no resource never touches it.
struct DeviceAllocator {
    let source: any DeviceSource
    let podUID: String
    private var remaining: [String: ArraySlice<String>] = [:]

    init(source: any DeviceSource, podUID: String) {
        self.source = source
        self.podUID = podUID
    }

    /// The next unassigned device of `resourceName`, nil when all are taken (or there are none).
    /// - Throws: `DeviceInfoError` from the source; nothing is consumed then.
    mutating func next(resourceName: String) throws(DeviceInfoError) -> String? {
        var ids: ArraySlice<String>
        if let known = remaining[resourceName] {
            ids = known
        } else {
            ids = ArraySlice(Self.multusOrder(try source.deviceIDs(podUID: podUID, resourceName: resourceName)))
        }
        let id = ids.popFirst()
        remaining[resourceName] = ids
        return id
    }

    /// Go's `sort.Strings`: byte-wise.
    static func multusOrder(_ ids: [String]) -> [String] {
        ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
