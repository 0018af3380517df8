import CNI
import Glibc

/// The file operations the meta-plugin needs, over libc, each failure carrying path and errno.
enum FileSystem {
    enum Kind { case file, directory, missing }

    static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Names in `directory`, without "." and "..".
    static func listDirectory(_ directory: String) throws(MetaError) -> [String] {
        do { return try Platform.listDirectory(directory) } catch {
            throw .io(path: directory, operation: error.operation, errno: error.errno)
        }
    }

    /// The whole file. Files larger than `limit` are refused: configs are small, and a runaway
    /// file must not exhaust memory. A symbolic link is refused unless the file is one another
    /// program or the operator writes (`.follow`): the plugin's own files (cache, tombstones,
    /// Multus's cache in cniDir) are never links.
    static func readFile(_ path: String, limit: Int = 16 << 20, symlinks: Platform.Symlinks = .refuse) throws(MetaError) -> [UInt8] {
        do { return try Platform.readFile(path, limit: limit, symlinks: symlinks) } catch {
            throw .io(path: path, operation: error.errno == EFBIG ? "read (file larger than \(limit) bytes)" : error.operation, errno: error.errno)
        }
    }

    /// Creates `path` and missing parents with `mode`.
    static func ensureDirectory(_ path: String, mode: mode_t = 0o700) throws(MetaError) {
        if kind(of: path) == .directory { return }
        do throws(Platform.FileError) {
            try Platform.makeDirectories(path, mode: mode)
        } catch {
            throw .io(path: error.path ?? path, operation: error.operation, errno: error.errno)
        }
    }

    /// Writes `path` in place, without fsync: for small records whose loss costs only time. A
    /// symbolic link there is refused, not written through.
    static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(MetaError) {
        do { try Platform.writeFile(bytes, to: path, mode: mode) } catch {
            throw .io(path: error.path ?? path, operation: error.operation, errno: error.errno)
        }
    }

    /// Replaces `path` atomically (see `Platform.writeFileAtomically`).
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(MetaError) {
        do { try Platform.writeFileAtomically(bytes, to: path, mode: mode) } catch {
            throw .io(path: error.path ?? path, operation: error.operation, errno: error.errno)
        }
    }

    /// Removes a file; a file already gone is fine.
    static func remove(_ path: String) throws(MetaError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io(path: path, operation: "remove", errno: errno) }
    }

    /// Time since `path` was last modified (zero if it cannot be read).
    static func age(_ path: String) -> Duration {
        var info = stat()
        guard stat(path, &info) == 0 else { return .zero }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = Int64(now.tv_sec) - Int64(info.st_mtim.tv_sec)
        return .seconds(max(0, seconds))
    }

    /// An exclusive flock on `path` (created if needed, never through a symbolic link); released
    /// by `unlock` or at exit.
    static func lock(_ path: String) throws(MetaError) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .io(path: path, operation: "open lock file", errno: errno) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let error = errno
            close(fd)
            throw .io(path: path, operation: "lock", errno: error)
        }
        return fd
    }

    static func unlock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }

    static func describe(_ errno: Int32) -> String { Platform.describe(errno: errno) }
}
