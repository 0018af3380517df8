import CNI
import KubeClient
import Synchronization
import System

/// Kubernetes events about the pod, as Multus records them: `AddedInterface` for each network
/// attached and a `NoNetworkFound` warning for a NAD that cannot be read. Operators read them in
/// `kubectl describe pod`.
///
/// Sending is best effort and off the ADD's critical path: events go out on a background thread
/// while the next delegate runs, and a failed write is only noted. `finish()` waits for what is
/// queued, so the process does not exit with an event half sent.
final class EventRecorder: Sendable {
    static let component = "multus"

    private let api: (any KubeAPI)?
    private let pod: ObjectMeta?
    private let diagnostics: Diagnostics
    private let state = Mutex(State())

    private struct State {
        var queue: [KubeEvent] = []
        var draining = false
        var workers: [Thread] = []
        var lastTime = WallClockTime(seconds: 0)
    }

    /// A recorder that records nothing: no API, no pod in the API, or `"events": false`.
    static func disabled(_ diagnostics: Diagnostics) -> EventRecorder { EventRecorder(api: nil, pod: nil, diagnostics: diagnostics) }

    init(api: (any KubeAPI)?, pod: ObjectMeta?, diagnostics: Diagnostics) {
        self.api = api
        self.pod = pod
        self.diagnostics = diagnostics
    }

    /// `Add <ifname> [<ip/prefix> ...] from <network>`: Multus's message, IPs as Go prints a
    /// string slice. Like Multus, nothing for a result that names no interface and no IP.
    func addedInterface(_ attachment: Attachment, result: CNIResult) {
        guard !result.interfaces.isEmpty || !result.ips.isEmpty else { return }
        let ips = result.ips.map(\.address.text).joined(separator: " ")
        record(.normal, reason: "AddedInterface", message: "Add \(attachment.ifName) [\(ips)] from \(attachment.statusName)")
    }

    /// Multus's wording, with the API server's own message as the cause.
    func noNetworkFound(namespace: Namespace, name: NetworkName, error: KubeError) {
        let cause: String = if case .http(_, _, _, let message) = error { message } else { error.description }
        record(.warning, reason: "NoNetworkFound",
               message: "cannot find a network-attachment-definition (\(name)) in namespace (\(namespace)): \(cause)")
    }

    /// A DRA device's `status.devices` entry that could not be written (ADD) or removed (DEL):
    /// the network is attached (or detached) all the same.
    func deviceStatusNotWritten(_ message: String) {
        record(.warning, reason: "DeviceStatusNotWritten", message: message)
    }

    /// Waits for every queued event to be sent (or to fail).
    func finish() {
        let workers = state.withLock { state in
            defer { state.workers = [] }
            return state.workers
        }
        workers.forEach { $0.join() }
    }

    private func record(_ kind: KubeEvent.Kind, reason: String, message: String) {
        guard api != nil, let pod else { return }
        let startWorker = state.withLock { state -> Bool in
            // Names are <pod>.<nanoseconds>: two events of one call must never share one.
            var time = WallClockTime.now()
            if time <= state.lastTime { time = WallClockTime(unixNanoseconds: state.lastTime.unixNanoseconds + 1) }
            state.lastTime = time
            state.queue.append(KubeEvent(about: pod, kind: kind, reason: reason, message: message, component: Self.component, time: time))
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        guard startWorker else { return }
        let worker = Thread { [self] in drain() }
        state.withLock { $0.workers.append(worker) }
    }

    private func drain() {
        while let event = state.withLock({ state -> KubeEvent? in
            guard !state.queue.isEmpty else {
                state.draining = false
                return nil
            }
            return state.queue.removeFirst()
        }) {
            do {
                try api?.createEvent(event)
            } catch {
                diagnostics.note("event \(event.reason) for pod \(event.namespace)/\(event.pod.name) not recorded: \(error)")
            }
        }
    }
}
