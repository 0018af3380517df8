import KubeClient
import Logging
import Synchronization

/// Makes the API an invocation talks to, from the multus config and the process environment
/// (`MultusPlugin.liveKubeAPI`; tests pass a fake), or nil without Kubernetes. The `Duration` is
/// how long the whole invocation may spend on API calls, retries included (`MultusPlugin.apiBudget`).
public typealias KubeAPIProvider = @Sendable (MultusConfig, [String: String], Duration) throws(MetaError) -> (any KubeAPI)?

/// How a call reaches the API server. Created on first use: DEL from the cache needs no API to
/// tear down, and a broken kubeconfig must not stop it.
final class KubeAccess: Sendable {
    private let provider: KubeAPIProvider
    private let config: MultusConfig
    private let environment: [String: String]
    private let budget: Duration
    private let state = Mutex<(any KubeAPI)??>(nil)
    private let log: Logger

    init(provider: @escaping KubeAPIProvider, config: MultusConfig, environment: [String: String], budget: Duration, log: Logger) {
        self.provider = provider
        self.config = config
        self.environment = environment
        self.budget = budget
        self.log = log
    }

    /// The API, or nil when no kubeconfig and no in-cluster service account is configured.
    /// Made under the lock: the event and status threads of ADD share it with the main thread.
    func api() throws(MetaError) -> (any KubeAPI)? {
        try state.withLock { (made) throws(MetaError) -> (any KubeAPI)? in
            if let existing = made { return existing }
            let created = try provider(config, environment, budget)
            if let live = created as? LiveKubeAPI, log.enables(.verbose) { live.observeCalls(InvocationLog.apiCall(log)) }
            made = .some(created)
            return created
        }
    }
}
