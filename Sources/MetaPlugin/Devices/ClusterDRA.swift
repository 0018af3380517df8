import CNI
import KubeClient

/// A pod's DRA network devices as Multus v4.3.1 finds them (its pkg/draclient): through
/// `resource.k8s.io/v1`, not the kubelet. Each of the pod's ResourceClaims is read, and each
/// device its allocation names is looked up in the ResourceSlices its driver publishes for the
/// pod's node; a device's `k8s.cni.cncf.io/deviceID` attribute is its ID, and its
/// `k8s.cni.cncf.io/resourceName` attribute the name a NAD's resourceName matches.
///
/// Mirrors Multus v4.3.1: a device without a deviceID (a GPU in the same claim), without a
/// resourceName, or in no slice is skipped (and noted); a claim without an allocation fails; the
/// scheduler's claim for extended resources (`status.extendedResourceClaimStatus`) is taken
/// strictly, keyed by the extended resource. Differences: claims referenced by
/// `resourceClaimName` count too (Multus walks only `status.resourceClaimStatuses`, which lists
/// claims made from templates); only a pool's newest generation of slices counts (as the
/// scheduler); a claim's IDs of one name are sorted within the claim, claims in the pod's order.
struct ClusterDRA {
    static let deviceIDAttribute = "k8s.cni.cncf.io/deviceID"
    static let resourceNameAttribute = "k8s.cni.cncf.io/resourceName"

    let api: any KubeAPI
    /// Where skipped devices are noted.
    var diagnostics: Diagnostics?

    /// What the API answered.
    enum Answer {
        /// The devices, each claim (or extended-resource mapping) one unit, in order.
        case served([DeviceUnit])
        /// The server does not serve resource.k8s.io/v1, or the role does not allow reading it:
        /// the kubelet's claim names are the fallback (Multus v4.3.0).
        case unavailable(reason: String)
    }

    /// The devices of `claims`, for `pod`; each claim is read once, the ResourceSlices once per
    /// driver.
    /// - Throws: `DeviceInfoError` naming the claim when it is missing or not allocated, or its
    ///   devices contradict its extended-resource mapping; transient when the API is away.
    func devices(of pod: PodIdentity, claims: PodClaims) throws(DeviceInfoError) -> Answer {
        var lookup = Lookup(api: api, pod: pod)
        var units: [DeviceUnit] = []
        do throws(Unavailable) {
            for claim in claims.claims { units.append(try claimDevices(claim.claimName, lookup: &lookup)) }
            if let extended = claims.extended { units += try extendedDevices(extended, lookup: &lookup) }
        } catch {
            switch error {
            case .fallBack(let reason): return .unavailable(reason: reason)
            case .failed(let failure): throw failure
            }
        }
        return .served(units)
    }

    /// One claim's devices that carry both attributes, grouped by resourceName.
    private func claimDevices(_ name: String, lookup: inout Lookup) throws(Unavailable) -> DeviceUnit {
        let (claim, results) = try lookup.allocatedClaim(name)
        var devices: DeviceUnit = []
        for result in results {
            switch Self.attributes(try lookup.device(result), of: result, node: lookup.node) {
            case .success(let found):
                devices.append((found.resourceName, DeviceGrant(id: found.id, origin: .draAllocation(DRADevice(claim: claim, allocation: result)))))
            case .failure(let skipped):
                diagnostics?.note("DRA device \(result) of ResourceClaim \(claim) is skipped: \(skipped.reason)")
            }
        }
        return devices
    }

    /// The scheduler's claim for extended resources: each mapping's request (one container's
    /// extended resource) one unit, keyed by the extended resource, every device required to
    /// carry both attributes and that resource.
    private func extendedDevices(_ extended: ExtendedResourceClaim, lookup: inout Lookup) throws(Unavailable) -> [DeviceUnit] {
        let (claim, results) = try lookup.allocatedClaim(extended.claimName)
        var units: [DeviceUnit] = []
        for mapping in extended.mappings {
            let requested = results.filter { $0.request == mapping.requestName }
            guard !requested.isEmpty else {
                throw .failed(DeviceInfoError(path: "ResourceClaim \(claim)", problem: "its allocation has no device for request \(mapping.requestName), which backs \(mapping.resourceName) of container \(mapping.containerName)"))
            }
            var devices: DeviceUnit = []
            for result in requested {
                let problem: String
                switch Self.attributes(try lookup.device(result), of: result, node: lookup.node) {
                case .success(let found) where found.resourceName == mapping.resourceName:
                    devices.append((mapping.resourceName, DeviceGrant(id: found.id, origin: .draAllocation(DRADevice(claim: claim, allocation: result)))))
                    continue
                case .success(let found):
                    problem = "its \(Self.resourceNameAttribute) attribute is \(NetworkSelection.quoted(found.resourceName)), the extended resource is \(mapping.resourceName)"
                case .failure(let skipped):
                    problem = skipped.reason
                }
                throw .failed(DeviceInfoError(path: "ResourceClaim \(claim)", problem: "device \(result) (request \(mapping.requestName), extended resource \(mapping.resourceName)): \(problem)"))
            }
            units.append(devices)
        }
        return units
    }

    /// A device's two Multus attributes, or why it has none to give a NAD.
    private static func attributes(_ found: SliceDevice?, of result: DeviceAllocation, node: String) -> Result<(id: String, resourceName: String), NotANetworkDevice> {
        guard let found else { return .failure(NotANetworkDevice(reason: "no ResourceSlice of driver \(result.driver) on node \(node) lists it")) }
        guard let id = found.string(deviceIDAttribute), !id.isEmpty else {
            return .failure(NotANetworkDevice(reason: "it has no \(deviceIDAttribute) attribute (not a network device)"))
        }
        guard let resourceName = found.string(resourceNameAttribute), !resourceName.isEmpty else {
            return .failure(NotANetworkDevice(reason: "it has no \(resourceNameAttribute) attribute for a NAD to name"))
        }
        return .success((id, resourceName))
    }
}

/// Why an allocated device gives no NAD a device.
private struct NotANetworkDevice: Error {
    var reason: String
}

/// Why the v1 path gave up: the API cannot serve it (fall back), or it failed.
private enum Unavailable: Error {
    case fallBack(String)
    case failed(DeviceInfoError)
}

/// The API calls of one lookup, each made once: a claim per name, the slices per driver.
private struct Lookup {
    let api: any KubeAPI
    let pod: PodIdentity
    /// Devices by driver, then by pool and name, from the newest generation of each pool.
    private var slices: [String: [PoolDevice: SliceDevice]] = [:]

    init(api: any KubeAPI, pod: PodIdentity) {
        self.api = api
        self.pod = pod
    }

    var node: String { pod.nodeName.isEmpty ? "(the pod has no spec.nodeName)" : pod.nodeName }

    /// The claim `name` in the pod's namespace (`namespace/name`) and its allocation results.
    func allocatedClaim(_ name: String) throws(Unavailable) -> (String, [DeviceAllocation]) {
        let id = "\(pod.namespace)/\(name)"
        let claim: ResourceClaim
        guard let namespace = try? Namespace(pod.namespace) else {
            throw .failed(DeviceInfoError(path: "ResourceClaim \(id)", problem: "the pod's namespace is no Kubernetes namespace", isTransient: false))
        }
        do { claim = try api.resourceClaim(namespace: namespace, name: name) } catch {
            throw Self.classify(error, object: "ResourceClaim \(id)")
        }
        guard let results = claim.results else {
            throw .failed(DeviceInfoError(path: "ResourceClaim \(id)", problem: "has no device allocation (status.allocation) yet", isTransient: true))
        }
        return (id, results)
    }

    /// The slice device an allocation result names; nil when no slice of its driver on the
    /// pod's node lists it.
    mutating func device(_ result: DeviceAllocation) throws(Unavailable) -> SliceDevice? {
        if slices[result.driver] == nil {
            let listed: [ResourceSlice]
            do { listed = try api.resourceSlices(driver: result.driver, nodeName: pod.nodeName) } catch {
                throw Self.classify(error, object: "the ResourceSlices of driver \(result.driver) on node \(node)")
            }
            slices[result.driver] = Self.newestDevices(listed.filter { $0.driver == result.driver })
        }
        return slices[result.driver]?[PoolDevice(pool: result.pool, device: result.device)]
    }

    /// Each pool's devices from its slices of the highest generation ("consumers should only
    /// consider resources from the pool with the highest generation number").
    static func newestDevices(_ slices: [ResourceSlice]) -> [PoolDevice: SliceDevice] {
        var newest: [String: Int] = [:]
        for slice in slices { newest[slice.pool] = max(newest[slice.pool] ?? .min, slice.poolGeneration) }
        var devices: [PoolDevice: SliceDevice] = [:]
        for slice in slices where slice.poolGeneration == newest[slice.pool] {
            for device in slice.devices { devices[PoolDevice(pool: slice.pool, device: device.name)] = device }
        }
        return devices
    }

    /// 404 for the whole API and 403 fall back to the kubelet's claim names; anything else fails.
    static func classify(_ error: KubeError, object: String) -> Unavailable {
        if error.isNotServed { return .fallBack("the API server does not serve resource.k8s.io/v1 (\(error))") }
        if error.isForbidden { return .fallBack("the role does not allow reading \(object) (\(error))") }
        return .failed(DeviceInfoError(path: object, problem: "\(error)", isTransient: error.isTransient))
    }
}

/// A device's key within one driver's slices.
private struct PoolDevice: Hashable {
    var pool: String
    var device: String
}
