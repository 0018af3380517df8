import CNI
import System

/// The seam between the meta-plugin and the operating system: find a plugin binary, run it once.
/// Mirrors libcni's `invoke.Exec` (FindInPath + ExecPlugin); unit tests substitute a recorder.
public protocol PluginExecutor: Sendable {
    /// The path of plugin `type` in the first of `directories` that has it as an executable file.
    /// - Throws: `ExecError.invalidPluginType` before touching the file system if `type` could
    ///   name a file outside those directories; `.notFound` listing where it looked.
    func find(_ type: String, in directories: [String]) throws(ExecError) -> String

    /// Runs `path` with `stdin` and exactly `environment` (nothing inherited). A non-zero exit is
    /// a result, not a throw.
    /// - Throws: `ExecError` when the process could not be started or overran `timeout`.
    func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput
}

public struct ExecOutput: Sendable, Hashable {
    public enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)
    }

    public var termination: Termination
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(termination: Termination, stdout: [UInt8], stderr: [UInt8] = []) {
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { termination == .exited(0) }
}

public enum ExecError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidPluginType(String)
    case notFound(type: String, searched: [String])
    case spawnFailed(path: String, errno: Errno)
    case timedOut(path: String, after: Duration)
    /// Timed out, was killed with its process group, and had still not exited `grace` later
    /// (stuck in the kernel): left behind as `pid`.
    case notReaped(path: String, after: Duration, pid: Int32, grace: Duration)
    case outputTooLarge(path: String, limit: Int)

    public var description: String {
        switch self {
        case .invalidPluginType(let type):
            "plugin type \(Echo.quoted(type)) is not a plain file name (it must not be empty, contain '/', or be \".\" or \"..\")"
        case .notFound(let type, let searched):
            "plugin \(Echo.quoted(type)) not found in \(searched.isEmpty ? "(no directories: set binDir or CNI_PATH)" : searched.joined(separator: ", "))"
        case .spawnFailed(let path, let errno): "could not start \(path): \(errno) (errno \(errno.rawValue))"
        case .timedOut(let path, let after): "\(path) did not finish within \(after) and was killed"
        case .notReaped(let path, let after, let pid, let grace):
            "\(path) did not finish within \(after) and was killed with its process group, but had not exited \(grace) later (stuck in the kernel?): left behind as pid \(pid), for init to reap"
        case .outputTooLarge(let path, let limit): "\(path) wrote more than \(limit) bytes to stdout"
        }
    }

    /// Rejects names that could walk out of the plugin directories.
    public static func validatePluginType(_ type: String) throws(ExecError) {
        if type.isEmpty || type == "." || type == ".." || type.contains("/") || type.utf8.contains(0) {
            throw .invalidPluginType(type)
        }
    }
}
