import Glibc

/// Waits for something to change in a few directories, or for a stop descriptor (SIGTERM via
/// signalfd) to become readable. inotify when the kernel gives us one; otherwise, or as a
/// safety net for events inotify cannot see (a directory replaced under its mount), a timeout.
/// Never a busy loop: every wait blocks in poll(2).
public struct DirectoryWatcher: ~Copyable {
    /// -1 when inotify is unavailable (then `wait` is a plain one-second poll).
    private let inotify: Int32
    private let stop: FileDescriptor

    /// What ended a wait.
    public enum Wake: Equatable, Sendable { case changed, timeout, stop }

    /// Changes that matter: files created, written, renamed, removed, or their mode changed.
    /// Projected tokens and ConfigMaps change by a symlink renamed over `..data`.
    private static let events = UInt32(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF)

    /// - Parameter stop: a descriptor that polls readable when the watching must stop.
    public init(directories: [String], stop: FileDescriptor) {
        self.stop = stop
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        var watched = 0
        for directory in Set(directories) where fd >= 0 && inotify_add_watch(fd, directory, Self.events) >= 0 { watched += 1 }
        if fd >= 0 && watched == 0 { _ = Glibc.close(fd) }
        inotify = watched > 0 ? fd : -1
    }

    deinit { if inotify >= 0 { _ = Glibc.close(inotify) } }

    /// Whether changes are seen as they happen (else only on the one-second poll).
    public var isNotified: Bool { inotify >= 0 }

    /// Blocks until a watched directory changes, `stop` is readable, or `timeout` passes (one
    /// second at most without inotify). Pending events are drained: one wake covers a burst.
    public func wait(timeout: Duration) -> Wake {
        let limit = isNotified ? timeout : min(timeout, .seconds(1))
        var fds = [pollfd(fd: stop.rawValue, events: Int16(POLLIN), revents: 0), pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)]
        let ready = (try? Poll.wait(&fds, until: .now + limit)) ?? false
        if fds[0].revents != 0 { return .stop }
        guard ready, fds[1].revents != 0 else { return .timeout }
        drain()
        return .changed
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        let events = FileDescriptor(rawValue: inotify)
        while ((try? events.read(into: &buffer)) ?? 0) > 0 {}
    }
}
