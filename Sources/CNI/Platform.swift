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
