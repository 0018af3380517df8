import Glibc

/// An open file descriptor, as swift-system's: a plain value, closed explicitly. Every descriptor
/// this module opens is close-on-exec, so none leaks into a plugin spawned meanwhile by another
/// thread.
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static var standardInput: FileDescriptor { FileDescriptor(rawValue: 0) }
    public static var standardOutput: FileDescriptor { FileDescriptor(rawValue: 1) }
    public static var standardError: FileDescriptor { FileDescriptor(rawValue: 2) }

    public enum Access: Sendable {
        case readOnly, writeOnly, readWrite

        var flags: Int32 {
            switch self {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        }
    }

    /// open(2) flags beside the access mode; O_CLOEXEC is always added.
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static var create: Options { Options(rawValue: O_CREAT) }
        /// With `create`: fail (EEXIST) when the file exists.
        public static var exclusive: Options { Options(rawValue: O_EXCL) }
        public static var truncate: Options { Options(rawValue: O_TRUNC) }
        public static var append: Options { Options(rawValue: O_APPEND) }
        /// Fail (ELOOP) when the last component is a symbolic link.
        public static var noFollow: Options { Options(rawValue: O_NOFOLLOW) }
        public static var nonBlocking: Options { Options(rawValue: O_NONBLOCK) }
    }

    /// Opens `path`; `permissions` apply when it is created (and the umask to them).
    /// - Throws: `SystemError("open", path:)`.
    public static func open(_ path: String, _ access: Access, options: Options = [], permissions: UInt32 = 0o600,
                            operation: String = "open") throws(SystemError) -> FileDescriptor {
        let flags = access.flags | options.rawValue | O_CLOEXEC
        let fd = retryingInterrupts { Glibc.open(path, flags, mode_t(permissions)) }
        guard fd >= 0 else { throw SystemError(operation, errno: .current, path: path) }
        return FileDescriptor(rawValue: fd)
    }

    /// Closes the descriptor; never retried (on Linux it is gone even when close says EINTR).
    public func close() { _ = Glibc.close(rawValue) }

    /// Up to `buffer.count` bytes into the front of `buffer`; 0 at the end of the file.
    /// - Throws: `SystemError("read")`, EAGAIN included for a non-blocking descriptor with nothing to read.
    public func read(into buffer: inout [UInt8]) throws(SystemError) -> Int {
        let count = buffer.withUnsafeMutableBytes { raw in retryingInterrupts { Glibc.read(rawValue, raw.baseAddress, raw.count) } }
        guard count >= 0 else { throw SystemError("read", errno: .current) }
        return count
    }

    /// Reads until the end of the file, or until more than `maximum` bytes have arrived: the
    /// bytes then hold more than `maximum`, and the caller decides what that means (a file
    /// over its limit is refused: `Files.read`). Memory stays bounded either way.
    ///
    /// Sized to need: what is read goes straight into the result, which starts at 4 KB (a CNI
    /// config, a cache entry) and doubles while more arrives, so a small input is never a large
    /// zeroed buffer and a copy.
    public func readToEnd(maximum: Int) throws(SystemError) -> [UInt8] {
        let ceiling = maximum < Int.max ? maximum + 1 : maximum
        var bytes = [UInt8](repeating: 0, count: Swift.min(4096, ceiling))
        var filled = 0
        while filled <= maximum {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: Swift.min(bytes.count, ceiling - filled))) }
            let count = bytes.withUnsafeMutableBytes { raw in
                retryingInterrupts { Glibc.read(rawValue, raw.baseAddress.map { $0 + filled }, raw.count - filled) }
            }
            guard count >= 0 else { throw SystemError("read", errno: .current) }
            if count == 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    /// One write(2): what it wrote, which may be less than all of `bytes` (a log line is one
    /// write on an O_APPEND descriptor, so that lines of several processes never interleave).
    public func writeOnce(_ bytes: [UInt8]) throws(SystemError) -> Int {
        let count = bytes.withUnsafeBytes { raw in retryingInterrupts { Glibc.write(rawValue, raw.baseAddress, raw.count) } }
        guard count >= 0 else { throw SystemError("write", errno: .current) }
        return count
    }

    /// Writes all of `bytes`, however many calls it takes.
    /// - Throws: `SystemError("write")`; EIO for a write that made no progress.
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                retryingInterrupts { Glibc.write(rawValue, raw.baseAddress.map { $0 + written }, raw.count - written) }
            }
            guard count >= 0 else { throw SystemError("write", errno: .current) }
            guard count > 0 else { throw SystemError("write", errno: .ioError) }
            written += count
        }
    }

    /// fsync(2): the data is on disk before this returns.
    public func sync() throws(SystemError) {
        guard retryingInterrupts({ fsync(rawValue) }) == 0 else { throw SystemError("fsync", errno: .current) }
    }

    /// fchmod(2): the permission bits exactly (the umask does not apply).
    public func setPermissions(_ permissions: UInt32) throws(SystemError) {
        guard fchmod(rawValue, mode_t(permissions)) == 0 else { throw SystemError("chmod", errno: .current) }
    }

    public enum LockKind: Sendable {
        case shared, exclusive

        var operation: Int32 { self == .shared ? LOCK_SH : LOCK_EX }
    }

    /// flock(2), waiting for the lock: shared with other shared holders, or exclusive.
    public func lock(_ kind: LockKind) throws(SystemError) {
        guard retryingInterrupts({ flock(rawValue, kind.operation) }) == 0 else { throw SystemError("lock", errno: .current) }
    }

    public func unlock() { _ = flock(rawValue, LOCK_UN) }

    /// What fstat(2) says about the open file.
    public func status() throws(SystemError) -> FileStatus {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw SystemError("stat", errno: .current) }
        return FileStatus(info)
    }

    /// Makes reads and writes return EAGAIN instead of blocking.
    public func setNonBlocking() {
        let flags = fcntl(rawValue, F_GETFL)
        if flags >= 0 { _ = fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Whether the descriptor is a terminal (a person typing, not a runtime's pipe).
    public var isTerminal: Bool { isatty(rawValue) == 1 }
}
