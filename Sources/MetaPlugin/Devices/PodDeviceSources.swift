import KubeClient

/// Every device of a pod: the node's (device plugins, and DRA claims by name, from the kubelet),
/// and, where the API serves `resource.k8s.io/v1` and the role allows reading it, DRA devices by
/// their resourceName attribute instead of the kubelet's claim names.
///
/// Which DRA path served is noted: Multus v4.3.1 uses only the API (and fails ADD where it is
/// not served), Multus v4.3.0 only the kubelet's claim names; a cluster moving from one to the
/// other keeps working, and never has both at once (one device under two names could go to two
/// networks).
struct PodDeviceSources: DeviceSource {
    let node: any DeviceSource
    /// nil without Kubernetes.
    let cluster: ClusterDRA?
    let diagnostics: Diagnostics?

    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices {
        var devices = try node.devices(of: pod)
        guard let cluster else { return devices }
        let claims: PodClaims
        do { claims = try pod.claims.get() } catch {
            throw DeviceInfoError(path: "pod \(pod.description)", problem: "its resource claims cannot be read: \(error)")
        }
        guard !claims.isEmpty else { return devices }
        let names = claims.claims.map(\.claimName) + (claims.extended.map { [$0.claimName] } ?? [])
        switch try cluster.devices(of: pod, claims: claims) {
        case .served(let units):
            devices.remove { if case .draClaim = $0.origin { true } else { false } }
            devices.unusableCDINames = [:]
            devices.claimNamesNotKeys = names + claims.claims.map(\.reference)
            for unit in units { devices.append(unit) }
            devices.reporter += " and resource.k8s.io/v1"
            diagnostics?.note("DRA devices of pod \(pod.description) (ResourceClaims \(names.joined(separator: ", "))): from resource.k8s.io/v1, by their \(ClusterDRA.resourceNameAttribute) attribute (as Multus v4.3.1)")
        case .unavailable(let reason):
            diagnostics?.note("DRA devices of pod \(pod.description) (ResourceClaims \(names.joined(separator: ", "))): by claim name from \(devices.reporter) (as Multus v4.3.0), because \(reason)")
        }
        return devices
    }
}
