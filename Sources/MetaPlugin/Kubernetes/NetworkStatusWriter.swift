import CNI
import KubeClient
import System

/// Writes `k8s.v1.cni.cncf.io/network-status` with an `update` of `pods/status`.
///
/// Multus's ClusterRole grants `update` on pods/status but no `patch`, so a merge patch is
/// refused on every cluster installed from its manifests. An update sends the whole pod; its
/// `resourceVersion` makes the write conditional, and a 409 means someone else wrote in between:
/// re-read (from storage), set our annotation on what they wrote, try again. The pod ADD read may
/// come from the watch cache (`PodRead`) and be behind: its write then meets 409 the same way. Mirrors client-go's
/// RetryOnConflict with DefaultBackoff (5 tries, 10 ms apart), which Multus uses.
struct NetworkStatusWriter {
    let api: any KubeAPI
    var attempts = 5
    var backoff = Duration.milliseconds(10)

    enum Outcome: Equatable {
        case written
        /// The pod was deleted (or deleted and recreated under its name) before the write.
        case podGone
    }

    /// - Parameters:
    ///   - pod: the pod as ADD read it; its first write needs no second read.
    ///   - namespace, name: the pod the runtime named, which a conflict reads again.
    /// - Throws: the API's error for anything but a conflict (retried) or a missing pod.
    func write(_ value: String, to pod: Pod, namespace: Namespace, name: PodName) throws(KubeError) -> Outcome {
        var current = pod
        var attempt = 1
        while true {
            do {
                _ = try api.updatePodStatus(current.settingAnnotation(NetworkStatus.annotation, to: value))
                return .written
            } catch where error.isNotFound {
                return .podGone
            } catch where error.isConflict && attempt < attempts {
                Clock.sleep(for: backoff)
                attempt += 1
                do {
                    // From storage, never the watch cache: it could hand back the version
                    // that just lost, as often as we asked.
                    current = try api.pod(namespace: namespace, name: name, consistency: .quorum)
                } catch where error.isNotFound {
                    return .podGone
                }
                // Same name, another pod: these attachments are not its attachments.
                if !pod.metadata.uid.isEmpty && current.metadata.uid != pod.metadata.uid { return .podGone }
            }
        }
    }
}
