import Glibc

/// One piece of work on an OS thread of its own (pthread), joined before the caller goes on: a
/// delegate run beside another, an API call overlapping the delegates, a thread that enters a
/// pod's network namespace and ends with the call. Never a pooled thread: a CNI call is one
/// synchronous process, and a thread that changed namespace must die with its work.
public final class Thread: @unchecked Sendable {
    private var thread: pthread_t?
    private var body: (@Sendable () -> Void)?
    private var joined = false

    /// Starts `body` on a new thread. When no thread can be made (the process is at its thread
    /// limit), `body` runs at `join()`, on the joining thread: for work that may run anywhere
    /// and is only sooner on a thread of its own.
    public init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        thread = try? start()
    }

    /// Starts `body` on a new thread, or throws: for work that must not run on the caller's
    /// thread (it changes the thread's namespace).
    /// - Throws: `SystemError("pthread_create")`.
    public static func dedicated(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> Thread {
        let thread = Thread(unstarted: body)
        do { thread.thread = try thread.start() } catch {
            thread.joined = true
            throw error
        }
        return thread
    }

    private init(unstarted body: @escaping @Sendable () -> Void) { self.body = body }

    private func start() throws(SystemError) -> pthread_t {
        let context = Unmanaged.passRetained(self).toOpaque()
        var created = pthread_t()
        let result = pthread_create(&created, nil, { raw in
            guard let raw else { return nil }
            let thread = Unmanaged<Thread>.fromOpaque(raw).takeRetainedValue()
            thread.body?()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Thread>.fromOpaque(context).release()
            throw SystemError("pthread_create", errno: Errno(rawValue: result))
        }
        return created
    }

    /// Waits for the work to finish (runs it here if it never got a thread). Once is enough;
    /// later calls return at once.
    public func join() {
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
