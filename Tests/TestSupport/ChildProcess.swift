// Long-running programs under test (`multus install`), run as children with their output in a
// file, waited for with deadlines and stopped with a signal.
import Glibc
import System

/// The path of an executable this package builds (`multus`), found beside the running test
/// bundle in the build directory.
public func builtExecutable(_ name: String) -> String {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { raw in raw.baseAddress.map { readlink("/proc/self/exe", $0, raw.count - 1) } ?? -1 }
    let exe = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
    return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]) + "/" + name
}

/// One child process: stdin from /dev/null, stdout and stderr into `logPath`.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let logPath: String
    private var status: Int32?

    /// How a child ended, as the tests compare it.
    public enum Ending: Hashable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        public var description: String {
            switch self {
            case .exited(let code): "exited \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    public init(_ arguments: [String], environment: [String], logPath: String) throws(FixtureError) {
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw FixtureError(call: "open", path: logPath, errno: errno) }
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(log); close(input) }
        let pid: Int32
        do {
            pid = try ProcessSpawner.spawn(arguments, environment: environment, standardStreams: [input, log, log].map(FileDescriptor.init))
        } catch {
            throw FixtureError(call: "posix_spawn", path: arguments.first ?? "", errno: error.errno.rawValue)
        }
        self.pid = pid
        self.logPath = logPath
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            _ = waitForExit(within: .seconds(5))
        }
    }

    /// Everything the child has written so far.
    public var output: String { readWholeFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// Whether the child is still running (reaps it if it has exited).
    public var isRunning: Bool { reap() == nil }

    /// Sends `signal` and waits for the child to end.
    public func stop(_ signal: Int32 = SIGTERM, within limit: Duration = .seconds(10)) -> Ending? {
        if status == nil { kill(pid, signal) }
        return waitForExit(within: limit)
    }

    /// How the child ended, or nil if it is still running after `limit`.
    public func waitForExit(within limit: Duration = .seconds(10)) -> Ending? {
        var ending: Ending? = nil
        _ = waitUntil(within: limit) {
            ending = reap()
            return ending != nil
        }
        return ending
    }

    private func reap() -> Ending? {
        if status == nil {
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        }
        guard let status else { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift cannot import as macros.
        return status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }
}

/// Checks `condition` every 10 ms until it holds or `limit` passes; returns whether it held.
/// The bound keeps a broken test from hanging; it is never what a test asserts.
public func waitUntil(within limit: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        if condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        usleep(10_000)
    }
}
