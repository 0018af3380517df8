import Glibc

/// The few libc-level helpers every module needs, kept in one place: errno text, reading a whole
/// (bounded) file, trimming, poll timeouts.
public enum Platform {
    /// "No such file or directory".
    public static func describe(errno code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "errno \(code)"
    }

    /// Why a file could not be read: the failing call's errno (EFBIG when over the limit).
    public struct FileError: Error, Hashable, Sendable, CustomStringConvertible {
        public var operation: String
        public var errno: Int32
        /// The path the call failed on, when it is not the one the caller passed.
        public var path: String? = nil
        public var description: String {
            let what = path.map { "\(operation) \($0)" } ?? operation
            return errno == EFBIG ? "\(what): file too large" : "\(what): \(Platform.describe(errno: errno))"
        }
    }

    /// Whether a path's last component may be a symbolic link. Files the plugin keeps for
    /// itself (cache, tombstones, locks, TLS sessions) refuse one: nobody but us should place a
    /// file there, so a link is someone pointing our writes or reads elsewhere. Files others
    /// write (configs, kubeconfigs, a projected token, the kubelet's checkpoint) follow.
    public enum Symlinks: Sendable { case follow, refuse }

    /// The whole file at `path`. Files larger than `limit` are refused: everything we read
    /// (configs, kubeconfigs, certificates, caches) is small, and memory must stay bounded.
    /// - Throws: ELOOP for a symbolic link when `symlinks` is `.refuse`.
    public static func readFile(_ path: String, limit: Int, symlinks: Symlinks = .follow) throws(FileError) -> [UInt8] {
        let fd = try open(path, O_RDONLY | O_CLOEXEC | (symlinks == .refuse ? O_NOFOLLOW : 0))
        defer { close(fd) }
        return try readAll(fd, limit: limit)
    }

    /// The whole of a file only we may have written: a regular file (not a link), owned by this
    /// process's user, with no permission for group or others. What it holds decides whom we
    /// trust or who we are (a TLS session resumes a verified identity), so one another user
    /// could have written or read is not used.
    /// - Returns: its bytes and when it was last modified.
    /// - Throws: ELOOP for a link, EPERM for another owner, a mode open to others or not a file.
    public static func readOwnFile(_ path: String, limit: Int) throws(FileError) -> (bytes: [UInt8], modified: WallClockTime) {
        let fd = try open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(operation: "stat", errno: Glibc.errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw FileError(operation: "refuse (not a private file of this user)", errno: EPERM)
        }
        return (try readAll(fd, limit: limit), WallClockTime(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int32(info.st_mtim.tv_nsec)))
    }

    private static func open(_ path: String, _ flags: Int32) throws(FileError) -> Int32 {
        var fd: Int32
        repeat { fd = Glibc.open(path, flags) } while fd < 0 && Glibc.errno == EINTR
        guard fd >= 0 else { throw FileError(operation: "open", errno: Glibc.errno) }
        return fd
    }

    private static func readAll(_ fd: Int32, limit: Int) throws(FileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if Glibc.errno == EINTR { continue }
                throw FileError(operation: "read", errno: Glibc.errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= limit else { throw FileError(operation: "read", errno: EFBIG) }
        }
    }

    /// `mkdir -p`: `path` and its missing parents, each with `mode`.
    /// - Throws: the failing mkdir, with the directory it could not make.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(FileError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && Glibc.errno != EEXIST {
                throw FileError(operation: "create directory", errno: Glibc.errno, path: prefix)
            }
        }
    }
}

extension Platform {
    /// Blocks the calling thread for `duration` (a CNI call is one synchronous process: there is
    /// nothing else for the thread to do), resuming after a signal.
    public static func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        var request = timespec(tv_sec: Int(duration.components.seconds), tv_nsec: Int(duration.components.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && Glibc.errno == EINTR { request = remaining }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    public var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension Duration {
    /// Whole milliseconds rounded up, clamped for poll(2) (a huge duration must not overflow).
    public var pollMilliseconds: Int32 {
        let (millis, overflow) = components.seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow, millis < Int64(Int32.max) else { return Int32.max }
        return Int32(clamping: millis + (components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}

/// A moment on the wall clock (CLOCK_REALTIME), for what other machines read: timestamps in API
/// objects and log lines. Durations are measured with ContinuousClock instead.
public struct WallClockTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(unixNanoseconds: Int64) {
        seconds = unixNanoseconds / 1_000_000_000
        nanoseconds = Int32(unixNanoseconds % 1_000_000_000)
    }

    public static func now() -> WallClockTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return WallClockTime(seconds: Int64(now.tv_sec), nanoseconds: Int32(now.tv_nsec))
    }

    /// Nanoseconds since the epoch (what Go's `UnixNano` gives).
    public var unixNanoseconds: Int64 { seconds &* 1_000_000_000 &+ Int64(nanoseconds) }

    /// RFC 3339 in UTC with whole seconds, as Kubernetes writes `metav1.Time`: `2026-12-04T14:44:43Z`.
    public var rfc3339: String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00Z" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = Int(parts.tm_year) + 1900
        let paddedYear = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(paddedYear)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    public static func < (a: WallClockTime, b: WallClockTime) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}
