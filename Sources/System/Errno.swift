import Glibc

/// An error number, as the kernel and libc report one. Shaped as swift-system's `Errno`: an
/// open struct (any number the kernel invents still fits) with named members for the numbers
/// code tests for, so a `catch` reads `where error.errno == .noSuchFileOrDirectory`.
public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno`, read right after the call that set it.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// strerror's text: "No such file or directory".
    public var description: String { strerror(rawValue).map { String(cString: $0) } ?? "errno \(rawValue)" }

    public static var notPermitted: Errno { Errno(rawValue: EPERM) }
    public static var noSuchFileOrDirectory: Errno { Errno(rawValue: ENOENT) }
    public static var noSuchProcess: Errno { Errno(rawValue: ESRCH) }
    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    public static var ioError: Errno { Errno(rawValue: EIO) }
    public static var badFileDescriptor: Errno { Errno(rawValue: EBADF) }
    public static var noChildProcess: Errno { Errno(rawValue: ECHILD) }
    /// EAGAIN, which is also EWOULDBLOCK on Linux.
    public static var resourceTemporarilyUnavailable: Errno { Errno(rawValue: EAGAIN) }
    public static var permissionDenied: Errno { Errno(rawValue: EACCES) }
    public static var fileExists: Errno { Errno(rawValue: EEXIST) }
    /// ENODEV: "No such device" (no interface of that name, for netlink).
    public static var noSuchDevice: Errno { Errno(rawValue: ENODEV) }
    public static var invalidArgument: Errno { Errno(rawValue: EINVAL) }
    public static var textFileBusy: Errno { Errno(rawValue: ETXTBSY) }
    public static var fileTooLarge: Errno { Errno(rawValue: EFBIG) }
    public static var brokenPipe: Errno { Errno(rawValue: EPIPE) }
    public static var tooManySymbolicLinkLevels: Errno { Errno(rawValue: ELOOP) }
    public static var protocolError: Errno { Errno(rawValue: EPROTO) }
    public static var messageTooLong: Errno { Errno(rawValue: EMSGSIZE) }
    public static var connectionReset: Errno { Errno(rawValue: ECONNRESET) }
    public static var connectionRefused: Errno { Errno(rawValue: ECONNREFUSED) }
    public static var nowInProgress: Errno { Errno(rawValue: EINPROGRESS) }
    public static var timedOut: Errno { Errno(rawValue: ETIMEDOUT) }
}
