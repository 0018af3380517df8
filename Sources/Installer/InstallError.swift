import CNI
import System

/// Why `multus install` cannot go on. Each case names what to fix: the flag, the path, the file.
public enum InstallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `--help` or `-h`: not a failure, but nothing is installed.
    case helpRequested
    /// A flag is unknown, lacks a value or has a bad one.
    case usage(flag: String, reason: String)
    /// A directory or file a flag names is not there (`what` is the flag).
    case missing(what: String, path: String, reason: String)
    /// The pod's service account or the KUBERNETES_SERVICE_* variables cannot be used.
    case serviceAccount(String)
    /// A file operation failed.
    case file(path: String, operation: String, errno: Errno)
    /// The primary config (or the file given with --multus-conf-file) cannot be used as it is.
    case primary(path: String, reason: String)
    /// The primary config asked for is a Multus config: wrapping it would nest multus in multus.
    case primaryIsMultus(path: String, type: String)

    /// 2 for a bad command line, as pflag exits; 1 for everything else.
    public var exitCode: Int32 {
        switch self {
        case .helpRequested: 0
        case .usage: 2
        default: 1
        }
    }

    public var description: String {
        switch self {
        case .helpRequested: "help requested"
        case .usage(let flag, let reason): "\(flag): \(reason)"
        case .missing(let what, let path, let reason): "\(what) \(path): \(reason)"
        case .serviceAccount(let reason): "service account: \(reason)"
        case .file(let path, let operation, let errno): "\(operation) \(path): \(errno)"
        case .primary(let path, let reason): "primary CNI config \(path): \(reason)"
        case .primaryIsMultus(let path, let type): "primary CNI config \(path): is a \(type) config itself; wrapping it would nest multus inside multus"
        }
    }

    /// A file operation that failed on `path` (or the path the failure names).
    static func file(_ error: SystemError, path: String) -> InstallError {
        .file(path: error.path ?? path, operation: error.operation, errno: error.errno)
    }
}
