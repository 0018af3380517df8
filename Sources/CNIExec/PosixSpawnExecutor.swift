import CNI
import System

/// Runs plugins with posix_spawn (System's `PipedProcess`: CLOEXEC pipes, one poll loop feeding
/// stdin and draining stdout and stderr, so a plugin that writes before reading cannot deadlock
/// us), with libcni's semantics on top: a deadline, a bounded capture, ETXTBSY retried.
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
    public var killSignal = Signals.kill

    public init() {
        // A plugin that exits before reading stdin must not kill us with SIGPIPE. This is the one
        // process-wide setting the executor makes; children get SIGPIPE back (setsigdefault).
        Signals.ignoreBrokenPipe()
    }

    public func find(_ type: String, in directories: [String]) throws(ExecError) -> String {
        try ExecError.validatePluginType(type)
        for directory in directories where !directory.isEmpty {
            let candidate = directory.hasSuffix("/") ? directory + type : directory + "/" + type
            if Files.isExecutableFile(candidate) { return candidate }
        }
        throw .notFound(type: type, searched: directories.filter { !$0.isEmpty })
    }

    public func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput {
        let deadline = ContinuousClock.now + timeout
        var child = try spawnRetryingTextBusy(path, environment: environment)
        defer { child.end(signal: killSignal, grace: killGrace) }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        switch child.exchange(stdin: stdin, stdout: &stdout, stdoutLimit: stdoutLimit, stderr: &stderr, stderrLimit: stderrLimit,
                              until: deadline) {
        case .finished: break
        case .deadlinePassed: throw killAtDeadline(&child, path: path, timeout: timeout)
        case .stdoutOverLimit:
            // No result is this large: stop it now rather than read garbage until the deadline.
            child.kill(signal: killSignal, grace: killGrace)
            throw .outputTooLarge(path: path, limit: stdoutLimit)
        }
        guard let termination = child.wait(until: deadline) else { throw killAtDeadline(&child, path: path, timeout: timeout) }
        return ExecOutput(termination: ExecOutput.Termination(termination), stdout: stdout, stderr: stderr)
    }

    /// The error for a child that overran its deadline, after killing its process group: left
    /// behind (named by pid) if it had not exited `killGrace` later.
    private func killAtDeadline(_ child: inout PipedProcess, path: String, timeout: Duration) -> ExecError {
        child.kill(signal: killSignal, grace: killGrace)
            ? .timedOut(path: path, after: timeout) : .notReaped(path: path, after: timeout, pid: child.pid, grace: killGrace)
    }

    /// A binary being replaced under us (an upgrade copying plugins in) fails with ETXTBSY for a
    /// moment; libcni retries, and so do we, with backoff for about a second in all.
    private func spawnRetryingTextBusy(_ path: String, environment: [String]) throws(ExecError) -> PipedProcess {
        var delay = Duration.milliseconds(5)
        while true {
            do {
                return try PipedProcess.spawn(path, environment: environment)
            } catch where error.errno == .textFileBusy && delay <= .milliseconds(320) {
                Clock.sleep(for: delay)
                delay *= 2
            } catch {
                throw .spawnFailed(path: path, errno: error.errno)
            }
        }
    }
}

extension ExecOutput.Termination {
    init(_ termination: ProcessTermination) {
        switch termination {
        case .exited(let status): self = .exited(status)
        case .signaled(let signal): self = .signaled(signal)
        }
    }
}
