import CNI
import KubeClient

/// With `draDeviceStatus`: the per-driver grant Kubernetes 1.36 asks for a `status.devices`
/// write (`associated-node:patch` on `resourceclaims/driver`, by driver name), for each driver
/// that publishes devices on this node, and the `DeviceStatusNotWritten` events the plugin
/// recorded for pods here (kept for the API server's `--event-ttl`, 1 h by default).
struct DeviceStatusChecks {
    let seams: DoctorSeams
    let kubeconfig: Kubeconfig
    /// The node the token is bound to: the one this plugin writes for.
    let node: String
    let who: String

    func driverGrants() -> Check {
        let name = "kubernetes.dra-drivers"
        let api = seams.connect(kubeconfig)
        do {
            let drivers = Set(try api.resourceSlices(nodeName: node).map(\.driver)).sorted()
            guard !drivers.isEmpty else { return .ok(name, "no ResourceSlice on node \(node): no driver's grant to check") }
            var missing: [String] = []
            for driver in drivers where try !api.review(PluginPermission.associatedNodePatch(driver: driver).question).allowed {
                missing.append(driver)
            }
            guard !missing.isEmpty else { return .ok(name, "\(who) may write device status for \(drivers.joined(separator: ", ")) from node \(node)") }
            return .error(name, "\(who) may not associated-node:patch resourceclaims/driver for \(missing.joined(separator: ", ")): from Kubernetes 1.36 their status.devices writes are refused",
                          fix: "add \(missing.map { Echo.quoted($0) }.joined(separator: ", ")) to resourceNames of the associated-node:patch rule (deploy/rbac.yml's multus-dra-device-status)")
        } catch where error.isForbidden {
            return .warning(name, "the role may not list ResourceSlices: the drivers of this node are not known here", fix: "grant list on resourceslices (Multus's role does)")
        } catch {
            return .error(name, "listing the ResourceSlices of node \(node) failed: \(error.description)", fix: "check the server and the token")
        }
    }

    func refusals() -> Check {
        let name = "kubernetes.dra-events"
        let api = seams.connect(kubeconfig)
        do {
            guard try api.review(AccessQuestion(verb: "list", group: "", resource: "events")).allowed else {
                return .warning(name, "\(who) may not list events: recent DeviceStatusNotWritten events are not checked",
                                fix: "kubectl get events -A --field-selector reason=DeviceStatusNotWritten (as a user who may)")
            }
            let pods = try api.pods(nodeName: node)
            let names = Set(pods.map { "\($0.namespace)/\($0.name)" })
            var found: [EventSummary] = []
            for namespace in Set(pods.map(\.namespace)).sorted() {
                guard let typed = try? Namespace(namespace) else { continue }
                found += try api.events(namespace: typed, reason: "DeviceStatusNotWritten").filter { names.contains("\($0.namespace)/\($0.involvedName)") }
            }
            guard !found.isEmpty else { return .ok(name, "no DeviceStatusNotWritten event for the \(pods.count) pods on node \(node)") }
            return .warning(name, "\(found.count) DeviceStatusNotWritten event\(found.count == 1 ? "" : "s") on node \(node): "
                            + NodeChecks.list(found.map { "\($0.namespace)/\($0.involvedName): \($0.message)" }),
                            fix: "the message says what was refused; docs/kubernetes.md (DRA device status) lists the grants")
        } catch {
            return .error(name, "reading the events of node \(node) failed: \(error.description)", fix: "check the server and the token")
        }
    }
}
