import System

/// `readinessindicatorfile`: the main network writes this file once it can serve pods (flannel's
/// subnet.env, for example). Attaching before that fails in confusing ways, so we wait for it.
enum Readiness {
    static func waitFor(_ path: String?, timeout: Duration) throws(MetaError) {
        guard let path else { return }
        let deadline = ContinuousClock.now + timeout
        while !Files.exists(path) {
            guard ContinuousClock.now < deadline else { throw .notReady(path: path, waited: timeout) }
            Clock.sleep(for: .milliseconds(50))
        }
    }
}
