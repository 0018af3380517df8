import CNI
import KubeClient
import System

/// A device lookup or device-info file failed. `path` names the file (the kubelet checkpoint, a
/// device plugin's or a delegate's device-info file) or the object (a ResourceClaim), `problem`
/// what is wrong with it.
struct DeviceInfoError: Error, Sendable, Hashable, CustomStringConvertible {
    var path: String
    var problem: String
    /// The source is away for now (a kubelet restarting, the API server busy): the runtime
    /// should retry the ADD.
    var isTransient = false

    var description: String { "\(path): \(problem)" }

    /// A failed file operation, worded like the rest of the meta-plugin's I/O errors.
    init(_ error: MetaError, path fallback: String) {
        if case .io(let path, let operation, let errno) = error {
            self.init(path: path, problem: "\(operation) failed: \(errno)")
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

/// Where a pod's allocated devices are found: the node (`NodeDevices`: the kubelet's
/// pod-resources API or its checkpoint), and the cluster's DRA objects (`PodDeviceSources`).
protocol DeviceSource: Sendable {
    /// Everything allocated to `pod`, read in one go.
    /// - Throws: `DeviceInfoError` when a source exists but cannot be read or understood.
    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices
}

/// The pod a device lookup is for: pod-resources knows it by name, the checkpoint by UID, DRA by
/// its claims and node.
struct PodIdentity: Sendable, Hashable {
    var name: String
    var namespace: String
    var uid: String
    /// Init containers then containers, as the spec lists them (the order the kubelet lists
    /// them in); empty when the pod is not known to the API.
    var containers: [String] = []
    /// `spec.nodeName`, whose ResourceSlices hold the pod's DRA devices.
    var nodeName = ""
    /// The pod's ResourceClaims, or why they could not be read from it.
    var claims: Result<PodClaims, SpecError> = .success(PodClaims())

    var description: String { "\(namespace)/\(name)" }
}

extension PodIdentity {
    /// What the API says of the pod, read without failing: a malformed claim list fails only a
    /// network that needs a device.
    init(_ pod: Pod) {
        self.init(name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid, containers: pod.containerNames,
                  nodeName: pod.nodeName, claims: Result { () throws(SpecError) in try pod.claims() })
    }
}

/// Which source handed out a device ID: said in the network's log line.
enum DeviceOrigin: Sendable, Hashable, CustomStringConvertible {
    /// A device plugin's resource, as the kubelet's pod-resources API lists it.
    case devicePlugin(socket: String)
    /// A DRA ResourceClaim's CDI device, keyed by claim name, as the kubelet's pod-resources API
    /// lists it (Multus v4.3.0).
    case draClaim(socket: String)
    /// A DRA device found through `resource.k8s.io/v1`, keyed by its resourceName attribute
    /// (Multus v4.3.1).
    case draAllocation(DRADevice)
    /// A device plugin's resource, as the kubelet's checkpoint file records it.
    case checkpoint(path: String)

    var description: String {
        switch self {
        case .devicePlugin(let socket): "device plugin, from the kubelet's pod-resources API (\(socket))"
        case .draClaim(let socket): "DRA claim, from the kubelet's pod-resources API (\(socket))"
        case .draAllocation(let device): "DRA device \(device.allocation) of ResourceClaim \(device.claim) request \(device.allocation.request), from resource.k8s.io/v1"
        case .checkpoint(let path): "device plugin, from the kubelet's checkpoint \(path)"
        }
    }
}

/// A DRA device as its claim's allocation names it: which claim, and the result's request,
/// driver, pool, device and shareID (the key of the claim's `status.devices` entry for it).
public struct DRADevice: Sendable, Hashable {
    /// `namespace/name` of the ResourceClaim.
    public var claim: String
    public var allocation: DeviceAllocation
}

/// What one container (or DRA claim) got: its devices with the names they are found by.
typealias DeviceUnit = [(name: String, grant: DeviceGrant)]

/// One allocated device ID and where it came from.
struct DeviceGrant: Sendable, Hashable {
    var id: String
    var origin: DeviceOrigin

    /// The claim and allocation result, for a device found through resource.k8s.io/v1.
    var draDevice: DRADevice? { if case .draAllocation(let device) = origin { device } else { nil } }
}

/// What one pod was allocated, by the name a NAD's `resourceName` gives: a device plugin's
/// resource name, a DRA device's resourceName attribute, or (Multus v4.3.0) a DRA claim's name.
///
/// The order is Multus v4.3.1's: the IDs one unit (a container, or a DRA claim) got of one name
/// are sorted, and units follow each other in the kubelet's container order (then the pod's
/// claims), so a network's device is its container's, as the container's `PCIDEVICE_*`
/// variables say. Multus v4.3.0 sorted the pod's IDs as a whole instead. An ID already listed
/// for a name is not listed again (a claim two containers share, a device an init container
/// handed on).
struct PodDevices: Sendable, Hashable {
    private(set) var grants: [String: [DeviceGrant]] = [:]
    /// Where they were read, for messages: "the kubelet's pod-resources API (<socket>)".
    var reporter: String
    /// CDI device names of a claim that hold no device ID (not exactly one "="), by claim.
    var unusableCDINames: [String: [String]] = [:]
    /// The pod's claim names, when DRA devices are keyed by their resourceName attribute
    /// rather than by claim (a NAD naming one is told so).
    var claimNamesNotKeys: [String] = []

    init(reporter: String) { self.reporter = reporter }

    /// Appends one unit's devices of `name`: sorted by ID as Go's sort.Strings sorts (byte-wise).
    mutating func append(unit: [DeviceGrant], to name: String) {
        for grant in unit.sorted(by: { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) })
        where !(grants[name]?.contains { $0.id == grant.id } ?? false) {
            grants[name, default: []].append(grant)
        }
    }

    /// Appends one unit's devices given as (name, grant) pairs, each name's sorted.
    mutating func append(_ pairs: DeviceUnit) {
        var names: [String] = []
        var byName: [String: [DeviceGrant]] = [:]
        for (name, grant) in pairs {
            if byName[name] == nil { names.append(name) }
            byName[name, default: []].append(grant)
        }
        for name in names { append(unit: byName[name] ?? [], to: name) }
    }

    /// Drops every grant `isRemoved` picks, and the names left without one.
    mutating func remove(where isRemoved: (DeviceGrant) -> Bool) {
        grants = grants.mapValues { $0.filter { !isRemoved($0) } }.filter { !$0.value.isEmpty }
    }
}
