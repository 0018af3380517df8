import CNI
import CShims
import Glibc

/// Runs plugins with posix_spawn: CLOEXEC pipes, one poll loop feeding stdin and draining stdout
/// and stderr (so a plugin that writes before reading cannot deadlock us), a deadline, and a
/// bounded capture.
///
/// Each plugin runs in a process group of its own. One that overruns its deadline is killed with
/// its whole group: the IPAM plugin it started, the iptables it runs, whatever they started in
/// turn. The wait after the kill is bounded too (`killGrace`): a process stuck in the kernel (D
/// state, on a hung NFS mount say) does not die of SIGKILL until the kernel lets go of it, and
/// the call must not wait for that. Such a process is left behind, named in the error; once we
/// exit, init inherits and reaps it.
public struct PosixSpawnExecutor: PluginExecutor {
    /// More stdout than this is refused: no CNI result is that large, and memory is bounded.
    public var stdoutLimit = 16 << 20
    /// stderr is for humans; keep its tail-end within this.
    public var stderrLimit = 64 << 10
    /// How long a killed plugin may take to exit before it is left behind.
    public var killGrace = Duration.seconds(2)
    /// The signal sent to a plugin's process group at its deadline. Tests send one that does not
    /// end the plugin, to stand for a process stuck in the kernel, which SIGKILL does not end either.
    public var killSignal = SIGKILL

    public init() {
        // A plugin that exits before reading stdin must not kill us with SIGPIPE. This is the one
        // process-wide setting the executor makes; children get SIGPIPE back (setsigdefault).
        signal(SIGPIPE, SIG_IGN)
    }

    public func find(_ type: String, in directories: [String]) throws(ExecError) -> String {
        try ExecError.validatePluginType(type)
        for directory in directories where !directory.isEmpty {
            let candidate = directory.hasSuffix("/") ? directory + type : directory + "/" + type
            if Syscall.isExecutableFile(candidate) { return candidate }
        }
        throw .notFound(type: type, searched: directories.filter { !$0.isEmpty })
    }

    public func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput {
        let deadline = ContinuousClock.now + timeout
        var child = try spawnRetryingTextBusy(path, environment: environment)
        child.ending = ChildEnding(signal: killSignal, grace: killGrace)
        defer { child.closeAll() }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var written = 0
        if stdin.isEmpty { child.closeStdin() }

        // Until all three pipes are done: a plugin may close its outputs and still read stdin.
        while child.stdoutFD >= 0 || child.stderrFD >= 0 || child.stdinFD >= 0 {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw child.killAtDeadline(path: path, timeout: timeout) }
            var fds = [
                pollfd(fd: child.stdinFD, events: Int16(POLLOUT), revents: 0),
                pollfd(fd: child.stdoutFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: child.stderrFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = Syscall.retrying { Int(poll(&fds, 3, remaining.pollMilliseconds)) }
            if ready <= 0 { continue }

            if fds[0].revents != 0 {
                let n = stdin.withUnsafeBytes { buffer in
                    Syscall.retrying { buffer.baseAddress.map { write(child.stdinFD, $0 + written, buffer.count - written) } ?? 0 }
                }
                if n > 0 { written += n }
                // Done, or the plugin closed its stdin (EPIPE): either way we stop feeding it.
                if n < 0 && n != -Int(EAGAIN) || written == stdin.count { child.closeStdin() }
            }
            if fds[1].revents != 0, !drain(&child.stdoutFD, into: &stdout, limit: stdoutLimit, keepTail: false) {
                // No result is this large: stop it now rather than read garbage until the deadline.
                child.kill()
                throw .outputTooLarge(path: path, limit: stdoutLimit)
            }
            if fds[2].revents != 0 {
                _ = drain(&child.stderrFD, into: &stderr, limit: stderrLimit, keepTail: true)
            }
        }
        let termination = try child.wait(until: deadline, path: path, timeout: timeout)
        return ExecOutput(termination: termination, stdout: stdout, stderr: stderr)
    }

    /// Reads what is available; closes the descriptor at EOF. Returns false if `limit` was passed
    /// (excess is discarded; with `keepTail` the newest bytes are kept instead of the oldest).
    private func drain(_ fd: inout Int32, into buffer: inout [UInt8], limit: Int, keepTail: Bool) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var withinLimit = true
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in Syscall.retrying { read(fd, raw.baseAddress, raw.count) } }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                if buffer.count > limit {
                    withinLimit = false
                    if keepTail { buffer.removeFirst(buffer.count - limit) } else { buffer.removeLast(buffer.count - limit) }
                }
                continue
            }
            if n == 0 || n != -Int(EAGAIN) {
                Syscall.close(fd)
                fd = -1
            }
            return withinLimit
        }
    }

    /// A binary being replaced under us (an upgrade copying plugins in) fails with ETXTBSY for a
    /// moment; libcni retries, and so do we, with backoff for about a second in all.
    private func spawnRetryingTextBusy(_ path: String, environment: [String]) throws(ExecError) -> SpawnedChild {
        var delay: UInt32 = 5_000
        while true {
            do {
                return try SpawnedChild.spawn(path, environment: environment)
            } catch .spawnFailed(let p, let error) where error == ETXTBSY && delay <= 320_000 {
                _ = p
                usleep(delay)
                delay *= 2
            }
        }
    }
}

/// How a child is ended: which signal goes to its process group, and how long it then has to exit.
struct ChildEnding {
    var signal = SIGKILL
    var grace = Duration.seconds(2)
}

/// A started child and our ends of its three pipes.
struct SpawnedChild {
    var pid: pid_t
    var stdinFD: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    var ending = ChildEnding()
    private var state = State.running

    private enum State {
        case running
        case reaped
        /// Killed, and still there after the grace: not waited for again.
        case abandoned
    }

    static func spawn(_ path: String, environment: [String]) throws(ExecError) -> SpawnedChild {
        var pipes: [[Int32]] = []
        for _ in 0..<3 {
            var fds: [Int32] = [-1, -1]
            guard cshims_pipe2_cloexec(&fds) == 0 else {
                let error = errno
                pipes.joined().forEach(Syscall.close)
                throw .spawnFailed(path: path, errno: error)
            }
            pipes.append(fds)
        }
        // Child ends: stdin's read end, stdout's and stderr's write ends.
        let childEnds = [pipes[0][0], pipes[1][1], pipes[2][1]]
        let result = ProcessSpawner.spawn([path], environment: environment, standardStreams: childEnds)
        childEnds.forEach(Syscall.close)
        let pid: pid_t
        switch result {
        case .success(let spawned): pid = spawned
        case .failure(let error):
            [pipes[0][1], pipes[1][0], pipes[2][0]].forEach(Syscall.close)
            throw .spawnFailed(path: path, errno: error)
        }
        let child = SpawnedChild(pid: pid, stdinFD: pipes[0][1], stdoutFD: pipes[1][0], stderrFD: pipes[2][0])
        [child.stdinFD, child.stdoutFD, child.stderrFD].forEach(Syscall.setNonBlocking)
        return child
    }

    mutating func closeStdin() {
        Syscall.close(stdinFD)
        stdinFD = -1
    }

    mutating func closeAll() {
        closeStdin()
        Syscall.close(stdoutFD)
        Syscall.close(stderrFD)
        stdoutFD = -1
        stderrFD = -1
        if state == .running { kill() }
    }

    /// Kills the child's process group and reaps the child, waiting at most `ending.grace`; used on
    /// any early exit, so that neither the child nor what it started outlives the call. Returns
    /// false if the child had not exited by then (it is left behind).
    @discardableResult
    mutating func kill() -> Bool {
        guard state == .running else { return state == .reaped }
        // The child leads its own group (ProcessSpawner); if it has exited, its group may still
        // hold what it started, and the group kill reaches those too.
        if Glibc.kill(-pid, ending.signal) != 0 { _ = Glibc.kill(pid, ending.signal) }
        state = reap(until: ContinuousClock.now + ending.grace) == nil ? .abandoned : .reaped
        return state == .reaped
    }

    /// The error for a child that overran its deadline, after killing it.
    mutating func killAtDeadline(path: String, timeout: Duration) -> ExecError {
        kill() ? .timedOut(path: path, after: timeout) : .notReaped(path: path, after: timeout, pid: pid, grace: ending.grace)
    }

    /// The child's wait status once it has exited, or nil if it had not by `deadline`. A pidfd
    /// wakes us the moment the child exits; without one (kernels before 5.3) we poll waitpid with
    /// a short, growing sleep.
    private func reap(until deadline: ContinuousClock.Instant) -> Int32? {
        let pidfd = cshims_pidfd_open(pid)
        defer { Syscall.close(pidfd) }
        var status: Int32 = 0
        var backoff: UInt32 = 20
        while true {
            let r = Syscall.retrying { Int(waitpid(pid, &status, WNOHANG)) }
            if r == Int(pid) { return status }
            // ECHILD: not ours to wait for any more (reaped elsewhere); nothing is left to wait on.
            if r < 0 { return -1 }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return nil }
            if pidfd >= 0 {
                var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
                _ = Syscall.retrying { Int(poll(&fds, 1, remaining.pollMilliseconds)) }
            } else {
                usleep(backoff)
                backoff = min(backoff * 2, 5_000)
            }
        }
    }

    /// Waits for exit (output is already at EOF, so this is normally immediate), honouring the deadline.
    mutating func wait(until deadline: ContinuousClock.Instant, path: String, timeout: Duration) throws(ExecError) -> ExecOutput.Termination {
        guard let status = reap(until: deadline) else { throw killAtDeadline(path: path, timeout: timeout) }
        state = .reaped
        if status == -1 { return .exited(-1) }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift cannot import as macros.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}


/// posix_spawn as every child of ours needs it: the given descriptors as its stdin, stdout and
/// stderr, every other descriptor closed, an empty signal mask, SIGPIPE back to its default
/// (we ignore it; a child must not inherit that), and a process group of its own, led by the
/// child, so that `kill(-pid)` ends everything it started.
public enum ProcessSpawner {
    public enum Outcome: Sendable {
        case success(pid_t)
        /// posix_spawn's error number.
        case failure(Int32)
    }

    /// - Parameters:
    ///   - arguments: argv; `arguments[0]` is also the path run.
    ///   - standardStreams: the three descriptors that become the child's 0, 1 and 2.
    public static func spawn(_ arguments: [String], environment: [String], standardStreams: [Int32]) -> Outcome {
        guard let path = arguments.first, standardStreams.count == 3 else { return .failure(EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, fd) in standardStreams.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(target)) }
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
        return result == 0 ? .success(pid) : .failure(result)
    }
}

/// A NULL-terminated `char *[]` for the duration of `body`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    // Never empty (the terminating nil is always there), so the base address exists.
    return pointers.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { preconditionFailure("a non-empty array has storage") }
        return body(base)
    }
}
