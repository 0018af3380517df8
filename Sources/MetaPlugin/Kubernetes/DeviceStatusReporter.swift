import CNI
import KubeClient
import Synchronization
import System

/// `draDeviceStatus`: after ADD, our entry in each ResourceClaim for each DRA device attached;
/// after DEL (or a rollback), those entries taken out again.
///
/// Never fails the call: the network is attached (or detached) whatever the API says. A write
/// that fails (403, 422 from the API server's per-driver check, a conflict that persists, the
/// API away) is logged at error level, noted on stderr and recorded as a `DeviceStatusNotWritten`
/// event on the pod.
struct DeviceStatusReporter {
    let api: any KubeAPI
    /// `namespace/name`, for the `Ready` condition's message.
    let pod: String
    let containerID: String
    let events: EventRecorder
    let diagnostics: Diagnostics
    /// The claims ADD's planning read, so the first write needs no read of its own.
    var claimsAsRead: ClaimsAsRead? = nil
    var now: @Sendable () -> WallClockTime = { WallClockTime.now() }

    /// ADD: our entries, one apply per claim.
    func publish(_ attachments: [CachedAttachment]) {
        for (claim, devices) in ClaimDeviceStatus.byClaim(attachments) {
            let labels = devices.map(\.label).joined(separator: ", ")
            do throws(KubeError) {
                let outcome = try publish(devices, to: claim)
                if outcome == .applied { diagnostics.note("ResourceClaim \(claim): status.devices written for \(labels), as field manager \(ClaimDeviceStatus.fieldManager)") }
                if outcome == .claimGone { diagnostics.note("ResourceClaim \(claim) was deleted before its status.devices could be written for \(labels)") }
            } catch {
                failed("ResourceClaim \(claim): status.devices not written for \(labels) (the network is attached)", error)
            }
        }
    }

    /// DEL: the entries this container's ADD wrote, one apply per claim that still has any.
    func withdraw(_ attachments: [CachedAttachment]) {
        for (claim, devices) in ClaimDeviceStatus.byClaim(attachments) {
            let labels = devices.map(\.label).joined(separator: ", ")
            do throws(KubeError) {
                let outcome = try DeviceStatusWriter(api: api).apply(to: claim, asRead: nil) { read in
                    let owned = Set(read.appliedDeviceFields(manager: ClaimDeviceStatus.fieldManager).map(\.key))
                    let ours = devices.filter { owned.contains(DeviceStatusKey($0.dra.allocation)) && ClaimDeviceStatus.isWritten(by: containerID, $0, in: read) }
                    return ours.isEmpty ? nil : DeviceStatusWriter.Change(removing: Set(ours.map { DeviceStatusKey($0.dra.allocation) }))
                }
                if outcome == .applied { diagnostics.note("ResourceClaim \(claim): status.devices of \(labels) removed") }
            } catch {
                failed("ResourceClaim \(claim): status.devices of \(labels) not removed (the network is detached)", error)
            }
        }
    }

    /// With our `Ready` condition; where another field manager owns that condition with other
    /// values, without it: the networkData still goes in, and its condition stays its owner's.
    private func publish(_ devices: [AttachedDRADevice], to claim: ClaimName) throws(KubeError) -> DeviceStatusWriter.Outcome {
        func entries(withCondition: Bool) -> (ResourceClaim) -> DeviceStatusWriter.Change? {
            { [self] read in
                DeviceStatusWriter.Change(setting: devices.map {
                    ClaimDeviceStatus.entry(for: $0, in: read, pod: pod, containerID: containerID, now: now(), withCondition: withCondition)
                })
            }
        }
        let writer = DeviceStatusWriter(api: api)
        do {
            return try writer.apply(to: claim, asRead: claimsAsRead?.claim(claim), entries(withCondition: true))
        } catch where error.isFieldConflict {
            diagnostics.note("ResourceClaim \(claim): \(error); writing networkData without our Ready condition")
            return try writer.apply(to: claim, asRead: nil, entries(withCondition: false))
        }
    }

    private func failed(_ what: String, _ error: KubeError) {
        let message = "\(what): \(error)\(Self.hint(error))"
        diagnostics.error(message)
        events.deviceStatusNotWritten(String(message.prefix(Self.eventMessageLimit)))
    }

    /// Events keep their message short (events.k8s.io's `note` takes 1 kB).
    static let eventMessageLimit = 1024

    /// What to grant, for the refusals a missing permission gives.
    static func hint(_ error: KubeError) -> String {
        switch error.httpStatus {
        case 403: "; the role needs patch on resourceclaims/status (the optional ClusterRole in deploy/rbac.yml)"
        case 422: "; from Kubernetes 1.36 on, a status.devices write also needs associated-node:patch on resourceclaims/driver for the device's driver (the optional ClusterRole in deploy/rbac.yml)"
        default: ""
        }
    }
}

/// The API, with every ResourceClaim it answered kept: ADD's status write starts from the claim
/// its planning read, and reads it again only when it has changed since.
final class ClaimsAsRead: KubeAPI, Sendable {
    private let base: any KubeAPI
    private let claims = Mutex<[ClaimName: ResourceClaim]>([:])

    init(_ base: any KubeAPI) { self.base = base }

    func claim(_ name: ClaimName) -> ResourceClaim? { claims.withLock { $0[name] } }

    func resourceClaim(namespace: Namespace, name: String) throws(KubeError) -> ResourceClaim {
        let claim = try base.resourceClaim(namespace: namespace, name: name)
        if let key = ClaimName("\(namespace)/\(name)") { claims.withLock { $0[key] = claim } }
        return claim
    }

    func pod(namespace: Namespace, name: PodName, consistency: ReadConsistency) throws(KubeError) -> Pod {
        try base.pod(namespace: namespace, name: name, consistency: consistency)
    }
    func networkAttachmentDefinition(namespace: Namespace, name: NetworkName, consistency: ReadConsistency) throws(KubeError) -> NetworkAttachmentDefinition {
        try base.networkAttachmentDefinition(namespace: namespace, name: name, consistency: consistency)
    }
    func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod { try base.updatePodStatus(pod) }
    func createEvent(_ event: KubeEvent) throws(KubeError) { try base.createEvent(event) }
    func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice] {
        try base.resourceSlices(driver: driver, nodeName: nodeName)
    }
    func applyResourceClaimStatus(_ body: JSONValue, namespace: Namespace, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim {
        try base.applyResourceClaimStatus(body, namespace: namespace, name: name, fieldManager: fieldManager)
    }
}
