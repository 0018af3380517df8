import CNI
import KubeClient
import System

/// Writes our entries of one ResourceClaim's `status.devices` by server-side apply, never a
/// merge patch (which replaces the whole list, other drivers' entries with it).
///
/// The body holds every entry we still own (server-side apply removes what a manager stops
/// applying), so it is built from the claim as read, and carries its `resourceVersion`: a claim
/// written in between gets 409, is read again, and the body is built again. Mirrors client-go's
/// RetryOnConflict with DefaultBackoff (5 tries, 10 ms apart), as `NetworkStatusWriter`.
struct DeviceStatusWriter {
    let api: any KubeAPI
    var attempts = 5
    var backoff = Duration.milliseconds(10)

    /// What to apply, given the claim as it is now: the entries to set and the keys to take out.
    struct Change {
        var setting: [DeviceStatusEntry] = []
        var removing: Set<DeviceStatusKey> = []
    }

    enum Outcome: Equatable {
        case applied
        /// The change was nothing for this claim: no call was made.
        case unchanged
        /// The claim is gone (deleted with its pod): nothing to report on.
        case claimGone
    }

    /// - Parameters:
    ///   - asRead: the claim as this call already read it, if it did; the first try builds on it.
    ///   - change: what to apply on the claim as read; nil when there is nothing to do.
    /// - Throws: the API's error for anything but a stale read (retried) or a missing claim;
    ///   `KubeError.fieldConflict` when another field manager owns a field we set.
    func apply(to claim: ClaimName, asRead: ResourceClaim?, _ change: (ResourceClaim) -> Change?) throws(KubeError) -> Outcome {
        var current = asRead
        var attempt = 1
        while true {
            do throws(KubeError) {
                let read = if let current { current } else { try api.resourceClaim(namespace: claim.namespace, name: claim.name) }
                guard let wanted = change(read) else { return .unchanged }
                let body = read.statusApply(manager: ClaimDeviceStatus.fieldManager, setting: wanted.setting, removing: wanted.removing)
                _ = try api.applyResourceClaimStatus(body, namespace: claim.namespace, name: claim.name, fieldManager: ClaimDeviceStatus.fieldManager)
                return .applied
            } catch where error.isNotFound {
                return .claimGone
            } catch where error.isConflict && attempt < attempts {
                Clock.sleep(for: backoff)
                attempt += 1
                current = nil
            }
        }
    }
}
