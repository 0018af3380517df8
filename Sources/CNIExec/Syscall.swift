import CNI
import Glibc

/// Thin wrappers over the few libc calls we make, with the EINTR policy in one place.
enum Syscall {
    static func describe(_ errno: Int32) -> String { "\(Platform.describe(errno: errno)) (errno \(errno))" }

    /// Retries while the call fails with EINTR; returns the result or -errno.
    @inline(__always)
    static func retrying(_ body: () -> Int) -> Int {
        while true {
            let result = body()
            if result >= 0 { return result }
            let error = errno
            if error != EINTR { return -Int(error) }
        }
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// The executable regular file at `path`, if any.
    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
