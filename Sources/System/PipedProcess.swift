import CShims
import Glibc

/// A child started with three pipes (close-on-exec, our ends non-blocking): one poll loop feeds
/// its stdin and drains its stdout and stderr, so a child that writes before it reads cannot
/// deadlock us; its exit is waited for under a deadline; its process group is killed with it.
/// What a deadline or a limit means for the caller (an error, a retry) is the caller's.
public struct PipedProcess {
    public let pid: Int32
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var state = State.running

    private enum State {
        case running
        case reaped
        /// Killed, and still there after the grace: not waited for again.
        case abandoned
    }

    /// Starts `path` with exactly `environment`, in a process group of its own (see `ProcessSpawner`).
    /// - Throws: `SystemError` "pipe2" or "posix_spawn" (posix_spawn's errno: ENOENT, EACCES, ETXTBSY).
    public static func spawn(_ path: String, environment: [String]) throws(SystemError) -> PipedProcess {
        var pipes: [[Int32]] = []
        for _ in 0..<3 {
            var fds: [Int32] = [-1, -1]
            guard cshims_pipe2_cloexec(&fds) == 0 else {
                let error = Errno.current
                pipes.joined().forEach { _ = Glibc.close($0) }
                throw SystemError("pipe2", errno: error, path: path)
            }
            pipes.append(fds)
        }
        // Child ends: stdin's read end, stdout's and stderr's write ends.
        let childEnds = [pipes[0][0], pipes[1][1], pipes[2][1]]
        defer { childEnds.forEach { _ = Glibc.close($0) } }
        let pid: Int32
        do {
            pid = try ProcessSpawner.spawn([path], environment: environment, standardStreams: childEnds.map(FileDescriptor.init))
        } catch {
            [pipes[0][1], pipes[1][0], pipes[2][0]].forEach { _ = Glibc.close($0) }
            throw error
        }
        let child = PipedProcess(pid: pid, stdinFD: pipes[0][1], stdoutFD: pipes[1][0], stderrFD: pipes[2][0])
        for fd in [child.stdinFD, child.stdoutFD, child.stderrFD] { FileDescriptor(rawValue: fd).setNonBlocking() }
        return child
    }

    /// How an exchange ended.
    public enum ExchangeEnd: Sendable, Hashable {
        /// The child closed its stdout and stderr and took (or refused) all of its stdin.
        case finished
        /// `deadline` passed first.
        case deadlinePassed
        /// stdout passed its limit: no answer is that large (what was read is cut to the limit).
        case stdoutOverLimit
    }

    /// Writes `stdin` to the child and reads its stdout and stderr until all three pipes are
    /// done (a child may close its outputs and still read stdin). stdout keeps at most
    /// `stdoutLimit` bytes and ends the exchange when it passes it; stderr, which is for
    /// people, keeps its newest `stderrLimit` bytes.
    public mutating func exchange(stdin: [UInt8], stdout: inout [UInt8], stdoutLimit: Int, stderr: inout [UInt8], stderrLimit: Int,
                                  until deadline: ContinuousClock.Instant) -> ExchangeEnd {
        var written = 0
        if stdin.isEmpty { closeStdin() }
        while stdoutFD >= 0 || stderrFD >= 0 || stdinFD >= 0 {
            guard ContinuousClock.now < deadline else { return .deadlinePassed }
            var fds = [
                pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0),
                pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
            ]
            // A failed poll (it does not fail for three valid pipes) is tried again to the deadline.
            guard (try? Poll.wait(&fds, until: deadline)) == true else { continue }
            if fds[0].revents != 0 { feed(stdin, written: &written) }
            if fds[1].revents != 0, !drain(&stdoutFD, into: &stdout, limit: stdoutLimit, keepTail: false) { return .stdoutOverLimit }
            if fds[2].revents != 0 { _ = drain(&stderrFD, into: &stderr, limit: stderrLimit, keepTail: true) }
        }
        return .finished
    }

    /// Writes what the pipe takes; closes stdin once all is written or the child closed its end
    /// (EPIPE): either way we stop feeding it.
    private mutating func feed(_ stdin: [UInt8], written: inout Int) {
        let fd = stdinFD
        let n = stdin.withUnsafeBytes { buffer in
            retryingInterrupts { buffer.baseAddress.map { Glibc.write(fd, $0 + written, buffer.count - written) } ?? 0 }
        }
        if n > 0 { written += n }
        if (n < 0 && Glibc.errno != EAGAIN) || written == stdin.count { closeStdin() }
    }

    /// Reads what is available; closes the descriptor at EOF. Returns false if `limit` was passed
    /// (excess is discarded; with `keepTail` the newest bytes are kept instead of the oldest).
    private func drain(_ fd: inout Int32, into buffer: inout [UInt8], limit: Int, keepTail: Bool) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var withinLimit = true
        while true {
            let descriptor = fd
            let n = chunk.withUnsafeMutableBytes { raw in retryingInterrupts { Glibc.read(descriptor, raw.baseAddress, raw.count) } }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                if buffer.count > limit {
                    withinLimit = false
                    if keepTail { buffer.removeFirst(buffer.count - limit) } else { buffer.removeLast(buffer.count - limit) }
                }
                continue
            }
            if n == 0 || Glibc.errno != EAGAIN {
                _ = Glibc.close(fd)
                fd = -1
            }
            return withinLimit
        }
    }

    private mutating func closeStdin() {
        if stdinFD >= 0 { _ = Glibc.close(stdinFD) }
        stdinFD = -1
    }

    /// Closes our ends of the pipes and, if the child is still running, kills its group (see
    /// `kill`): on any way out of a call, neither the child nor what it started outlives it.
    public mutating func end(signal: Int32, grace: Duration) {
        closeStdin()
        for fd in [stdoutFD, stderrFD] where fd >= 0 { _ = Glibc.close(fd) }
        stdoutFD = -1
        stderrFD = -1
        if state == .running { kill(signal: signal, grace: grace) }
    }

    /// Sends `signal` to the child's process group and reaps the child, waiting at most `grace`.
    /// A process stuck in the kernel (D state, on a hung NFS mount say) does not die of SIGKILL
    /// until the kernel lets go of it, and the caller must not wait for that.
    /// - Returns: false if the child had not exited by then (it is left behind; once we exit,
    ///   init inherits and reaps it).
    @discardableResult
    public mutating func kill(signal: Int32, grace: Duration) -> Bool {
        guard state == .running else { return state == .reaped }
        // The child leads its own group; if it has exited, its group may still hold what it
        // started, and the group kill reaches those too.
        if Glibc.kill(-pid, signal) != 0 { _ = Glibc.kill(pid, signal) }
        state = reap(until: ContinuousClock.now + grace) == nil ? .abandoned : .reaped
        return state == .reaped
    }

    /// Waits for the child to exit (its output is normally at EOF already, so this is normally
    /// immediate). nil when it had not by `deadline`.
    public mutating func wait(until deadline: ContinuousClock.Instant) -> ProcessTermination? {
        guard let status = reap(until: deadline) else { return nil }
        state = .reaped
        // ECHILD: reaped elsewhere; there is no status to report.
        return status == -1 ? .exited(-1) : ProcessTermination(waitStatus: status)
    }

    /// The child's wait status once it has exited (-1 when it is not ours to wait for any
    /// more), or nil if it had not by `deadline`. A pidfd wakes us the moment the child exits;
    /// without one (kernels before 5.3) we poll waitpid with a short, growing sleep.
    private func reap(until deadline: ContinuousClock.Instant) -> Int32? {
        let pidfd = cshims_pidfd_open(pid)
        defer { if pidfd >= 0 { _ = Glibc.close(pidfd) } }
        var status: Int32 = 0
        var backoff = Duration.microseconds(20)
        while true {
            let r = retryingInterrupts { waitpid(pid, &status, WNOHANG) }
            if r == pid { return status }
            if r < 0 { return -1 }
            guard ContinuousClock.now < deadline else { return nil }
            if pidfd >= 0 {
                _ = try? Poll.wait(FileDescriptor(rawValue: pidfd), for: .readable, until: deadline)
            } else {
                Clock.sleep(for: backoff)
                backoff = min(backoff * 2, .milliseconds(5))
            }
        }
    }
}
