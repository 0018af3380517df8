import Glibc

/// A libc call that failed: which call, on what, and the errno. What every System function
/// throws; each module maps it into its own error where it calls System, keeping its wording.
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done, worded for a message: "open", "create directory", "rename into place".
    public var operation: String
    public var errno: Errno
    /// The file the call was about, when it was about one (for atomic replacement, the temporary
    /// file when that is where it failed).
    public var path: String?

    public init(_ operation: String, errno: Errno, path: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.path = path
    }

    /// "open /etc/cni/net.d/x.conf: No such file or directory"; "…: file too large" for EFBIG,
    /// which a bounded read reports when a file is over its limit.
    public var description: String {
        let what = path.map { "\(operation) \($0)" } ?? operation
        return errno == .fileTooLarge ? "\(what): file too large" : "\(what): \(errno)"
    }
}

// MARK: - The EINTR policy

// One policy, applied by every call in this module: a call a signal interrupted (EINTR) is made
// again, and any other failure is reported with its errno. `close` is the exception: on Linux
// the descriptor is gone even when close reports EINTR, so it is never retried. Calls that wait
// with a timeout (poll, nanosleep) recompute what is left before they are made again.

/// `call` until it does not fail with EINTR; its result (-1 with `errno` set on failure).
@inline(__always)
func retryingInterrupts(_ call: () -> Int32) -> Int32 {
    while true {
        let result = call()
        if result != -1 || Glibc.errno != EINTR { return result }
    }
}

/// `call` until it does not fail with EINTR, for calls returning a count (read, write, send).
@inline(__always)
func retryingInterrupts(_ call: () -> Int) -> Int {
    while true {
        let result = call()
        if result != -1 || Glibc.errno != EINTR { return result }
    }
}
