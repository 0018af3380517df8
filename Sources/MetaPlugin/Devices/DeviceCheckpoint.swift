import CNI
import Glibc

/// A device lookup or device-info file failed. `path` names the file (the kubelet checkpoint, a
/// device plugin's or a delegate's device-info file), `problem` what is wrong with it.
struct DeviceInfoError: Error, Sendable, Hashable, CustomStringConvertible {
    var path: String
    var problem: String
    /// The source is away for now (a kubelet restarting): the runtime should retry the ADD.
    var isTransient = false

    var description: String { "\(path): \(problem)" }

    /// A failed file operation, worded like the rest of the meta-plugin's I/O errors.
    init(_ error: MetaError, path fallback: String) {
        if case .io(let path, let operation, let errno) = error {
            self.init(path: path, problem: "\(operation) failed: \(FileSystem.describe(errno))")
        } else {
            self.init(path: fallback, problem: "\(error)")
        }
    }

    init(path: String, problem: String, isTransient: Bool = false) {
        self.path = path
        self.problem = problem
        self.isTransient = isTransient
    }
}

/// Where a pod's allocated devices are found: the kubelet's pod-resources API, or its checkpoint
/// file where the node serves no API (`NodeDevices`).
protocol DeviceSource: Sendable {
    /// Everything the kubelet allocated to `pod`, read in one go.
    /// - Throws: `DeviceInfoError` when the source exists but cannot be read or understood.
    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices
}

/// The pod a device lookup is for: pod-resources knows it by name, the checkpoint by UID.
struct PodIdentity: Sendable, Hashable {
    var name: String
    var namespace: String
    var uid: String
}

/// Which source handed out a device ID: said in the network's log line.
enum DeviceOrigin: Sendable, Hashable, CustomStringConvertible {
    /// A device plugin's resource, as the kubelet's pod-resources API lists it.
    case devicePlugin(socket: String)
    /// A DRA ResourceClaim's CDI device, as the kubelet's pod-resources API lists it.
    case draClaim(socket: String)
    /// A device plugin's resource, as the kubelet's checkpoint file records it.
    case checkpoint(path: String)

    var description: String {
        switch self {
        case .devicePlugin(let socket): "device plugin, from the kubelet's pod-resources API (\(socket))"
        case .draClaim(let socket): "DRA claim, from the kubelet's pod-resources API (\(socket))"
        case .checkpoint(let path): "device plugin, from the kubelet's checkpoint \(path)"
        }
    }
}

/// One allocated device ID and where it came from.
struct DeviceGrant: Sendable, Hashable {
    var id: String
    var origin: DeviceOrigin
}

/// What one pod was allocated, by the name a NAD's `resourceName` gives: a device plugin's
/// resource name or a DRA claim's name. Each list is in the kubelet's order (containers as it
/// lists them, then each container's device-plugin devices before its claims).
struct PodDevices: Sendable, Hashable {
    var grants: [String: [DeviceGrant]] = [:]
    /// Where they were read, for messages: "the kubelet's pod-resources API (<socket>)".
    var reporter: String
    /// CDI device names of a claim that hold no device ID (not exactly one "="), by claim.
    var unusableCDINames: [String: [String]] = [:]

    mutating func add(_ ids: [String], to name: String, origin: DeviceOrigin) {
        grants[name, default: []] += ids.map { DeviceGrant(id: $0, origin: origin) }
    }
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

    /// The pod's entries, by resource, in file order.
    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices {
        guard !pod.uid.isEmpty else {
            throw DeviceInfoError(path: path, problem: "cannot look up devices for a pod without a UID")
        }
        var devices = PodDevices(reporter: "the kubelet's checkpoint \(path)")
        for entry in try entries() where entry.podUID == pod.uid {
            devices.add(entry.deviceIDs, to: entry.resourceName, origin: .checkpoint(path: path))
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

    /// The IDs of one resource allocated to the pod `podUID`, in file order.
    func deviceIDs(podUID: String, resourceName: String) throws(DeviceInfoError) -> [String] {
        (try devices(of: PodIdentity(name: "", namespace: "", uid: podUID)).grants[resourceName] ?? []).map(\.id)
    }

    /// Every entry, in file order; none when the file does not exist.
    /// - Throws: `DeviceInfoError` naming the file when it cannot be read or is not a checkpoint.
    func entries() throws(DeviceInfoError) -> [Entry] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, symlinks: .follow)
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

/// Hands out each resource's (or claim's) device IDs one per network, as Multus's resourceMap
/// index does: the first network asking for `intel.com/sriov` gets the first device, the next
/// the second. Unlike Multus, a network left without one fails.
///
/// The order is Multus's: all of the pod's IDs for the name, sorted as strings
/// (`types.SortDeviceIDs`, which Multus 4.3 applies to every source), so it does not depend on
/// container or NUMA order. Multus 4.2 and older took them as the kubelet lists them, which is
/// the same order whenever the kubelet lists them sorted.
///
/// The source is read once, when the first network asks, so a pod whose networks name no
/// resource never touches it and one with eight such networks makes one call.
struct DeviceAllocator {
    let source: any DeviceSource
    let pod: PodIdentity
    /// The source's answer, kept whether it succeeded or not, so it is asked once.
    private var devices: Result<PodDevices, DeviceInfoError>?
    /// The networks that took each resource's devices, in order.
    private var takers: [String: [String]] = [:]

    init(source: any DeviceSource, pod: PodIdentity) {
        self.source = source
        self.pod = pod
    }

    /// The next unassigned device of `resourceName`, for `network` (a NAD's namespace/name).
    /// - Throws: `DeviceAllocationError` when the source fails, or none is left.
    mutating func next(resourceName: String, for network: String) throws(DeviceAllocationError) -> DeviceGrant {
        let answer = self.devices ?? Result { () throws(DeviceInfoError) in
            var devices = try source.devices(of: pod)
            devices.grants = devices.grants.mapValues(Self.multusOrder)
            return devices
        }
        self.devices = answer
        let devices: PodDevices
        do { devices = try answer.get() } catch { throw .source(error) }
        let grants = devices.grants[resourceName] ?? []
        let taken = takers[resourceName] ?? []
        guard taken.count < grants.count else {
            throw .exhausted(DeviceShortage(network: network, resourceName: resourceName, reporter: devices.reporter,
                                            reported: grants.map(\.id), takenBy: taken,
                                            unusableCDINames: devices.unusableCDINames[resourceName] ?? [],
                                            otherNames: devices.grants.keys.filter { $0 != resourceName }.sorted()))
        }
        takers[resourceName, default: []].append(network)
        return grants[taken.count]
    }
}

/// Why a network got no device.
enum DeviceAllocationError: Error, Sendable, Hashable, CustomStringConvertible {
    case source(DeviceInfoError)
    case exhausted(DeviceShortage)

    var isShortage: Bool { if case .exhausted = self { true } else { false } }

    var description: String {
        switch self {
        case .source(let error): "\(error)"
        case .exhausted(let shortage): "\(shortage)"
        }
    }
}

/// A network whose resource has no device left, and what the kubelet reported for it.
struct DeviceShortage: Sendable, Hashable, CustomStringConvertible {
    var network: String
    var resourceName: String
    var reporter: String
    var reported: [String]
    var takenBy: [String]
    var unusableCDINames: [String]
    /// The pod's other resources and claims, for a misspelt name.
    var otherNames: [String]

    var description: String {
        var text = "no device of resource \(resourceName) is left for network \(network): \(reporter) reports "
        if reported.isEmpty {
            text += "no device of \(resourceName) for this pod"
            text += otherNames.isEmpty ? " (nor of anything else)" : " (it reports \(otherNames.joined(separator: ", ")))"
        } else {
            text += "\(reported.count) (\(reported.joined(separator: ", "))), all taken by earlier networks (\(takenBy.joined(separator: ", ")))"
        }
        if !unusableCDINames.isEmpty {
            text += "; CDI devices without a device ID after \"=\": \(unusableCDINames.joined(separator: ", "))"
        }
        return text
    }
}

extension DeviceAllocator {
    /// Go's `sort.Strings` of the IDs: byte-wise.
    static func multusOrder(_ grants: [DeviceGrant]) -> [DeviceGrant] {
        grants.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
    }
}
