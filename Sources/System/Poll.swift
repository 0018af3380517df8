import Glibc

/// What to wait for on a descriptor.
public enum Readiness: Sendable {
    case readable, writable

    var events: Int16 { Int16(self == .readable ? POLLIN : POLLOUT) }
}

/// poll(2) under a deadline, the one way this module waits on descriptors.
enum Poll {
    /// Waits until one of `descriptors` is ready (their `revents` say which) or `deadline`
    /// passes; a signal only makes it wait again for what is left. Entries with a negative
    /// descriptor are skipped, as poll(2) skips them.
    /// - Returns: false when the deadline passed first.
    /// - Throws: `SystemError("poll")` for anything but EINTR.
    static func wait(_ descriptors: inout [pollfd], until deadline: ContinuousClock.Instant) throws(SystemError) -> Bool {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            let ready = poll(&descriptors, nfds_t(descriptors.count), remaining.pollMilliseconds)
            if ready > 0 { return true }
            if ready < 0 && Glibc.errno != EINTR { throw SystemError("poll", errno: .current) }
        }
    }

    /// One descriptor: whether it became ready (errors and hang-ups count: the next call on it
    /// reports them) before `deadline`.
    static func wait(_ fd: FileDescriptor, for readiness: Readiness, until deadline: ContinuousClock.Instant) throws(SystemError) -> Bool {
        var descriptors = [pollfd(fd: fd.rawValue, events: readiness.events, revents: 0)]
        return try wait(&descriptors, until: deadline)
    }
}
