/// Hands out each name's device IDs one per network, as Multus's resourceMap index does: the
/// first network asking for `intel.com/sriov` gets the first device, the next the second. Unlike
/// Multus, a network left without one fails.
///
/// The order is the source's (`PodDevices`): Multus v4.3.1's, each container's (or claim's) IDs
/// sorted, containers in the kubelet's order.
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
        let answer = self.devices ?? Result { () throws(DeviceInfoError) in try source.devices(of: pod) }
        self.devices = answer
        let devices: PodDevices
        do { devices = try answer.get() } catch { throw .source(error) }
        let grants = devices.grants[resourceName] ?? []
        let taken = takers[resourceName] ?? []
        guard taken.count < grants.count else {
            throw .exhausted(DeviceShortage(network: network, resourceName: resourceName, reporter: devices.reporter,
                                            reported: grants.map(\.id), takenBy: taken,
                                            unusableCDINames: devices.unusableCDINames[resourceName] ?? [],
                                            otherNames: devices.grants.keys.filter { $0 != resourceName }.sorted(),
                                            namesAClaim: devices.claimNamesNotKeys.contains(resourceName)))
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
    /// The name is one of the pod's DRA claims, which resource.k8s.io/v1 does not key devices by.
    var namesAClaim = false

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
        if namesAClaim {
            text += "; \(resourceName) is a ResourceClaim of the pod: with resource.k8s.io/v1 a NAD's resourceName names its devices' "
                + "\(ClusterDRA.resourceNameAttribute) attribute, not the claim (as in Multus v4.3.1)"
        }
        return text
    }
}
