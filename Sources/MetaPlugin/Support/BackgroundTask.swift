import Glibc

/// One piece of work on its own thread, joined before the call returns. Used where an API call
/// does not depend on the delegates (DEL's network-status clear): its TLS handshake and round
/// trip then overlap the delegates' teardown instead of adding to it.
final class BackgroundTask: @unchecked Sendable {
    private var thread: pthread_t?
    private var body: (@Sendable () -> Void)?
    private var joined = false

    /// Starts `body`; if no thread can be made, runs it at `join()` instead.
    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        var created = pthread_t()
        if pthread_create(&created, nil, { raw in
            guard let raw else { return nil }
            let task = Unmanaged<BackgroundTask>.fromOpaque(raw).takeRetainedValue()
            task.body?()
            return nil
        }, context) == 0 {
            thread = created
        } else {
            Unmanaged<BackgroundTask>.fromOpaque(context).release()
        }
    }

    func join() {
        guard !joined else { return }
        joined = true
        if let thread {
            pthread_join(thread, nil)
        } else {
            body?()
        }
    }

    deinit { join() }
}
