import CShims
import Glibc

/// posix_spawn as every child of ours needs it: the given descriptors as its stdin, stdout and
/// stderr, every other descriptor closed, an empty signal mask, SIGPIPE back to its default
/// (we ignore it; a child must not inherit that), and a process group of its own, led by the
/// child, so that `kill(-pid)` ends everything it started.
public enum ProcessSpawner {
    /// - Parameters:
    ///   - arguments: argv; `arguments[0]` is also the path run.
    ///   - standardStreams: the three descriptors that become the child's 0, 1 and 2.
    /// - Returns: the child's process ID.
    /// - Throws: `SystemError("posix_spawn", path:)` with posix_spawn's error number (ENOENT,
    ///   EACCES, ETXTBSY for a binary being written).
    public static func spawn(_ arguments: [String], environment: [String],
                             standardStreams: [FileDescriptor]) throws(SystemError) -> Int32 {
        guard let path = arguments.first, standardStreams.count == 3 else {
            throw SystemError("posix_spawn", errno: .invalidArgument, path: arguments.first)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, fd) in standardStreams.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd.rawValue, Int32(target)) }
        // Descriptors the runtime left open without CLOEXEC are none of a plugin's business.
        cshims_spawn_closefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in posix_spawn(&pid, path, &actions, &attributes, argv, envp) }
        }
        guard result == 0 else { throw SystemError("posix_spawn", errno: Errno(rawValue: result), path: path) }
        return pid
    }
}

/// A NULL-terminated `char *[]` for the duration of `body`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    // Never empty (the terminating nil is always there), so the base address exists.
    return pointers.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { preconditionFailure("a non-empty array has storage") }
        return body(base)
    }
}

/// How a process ended, from its wait status.
public enum ProcessTermination: Sendable, Hashable {
    case exited(Int32)
    case signaled(Int32)

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift cannot import as macros.
    public init(waitStatus status: Int32) {
        self = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }
}
