import CNI
import Glibc

/// The installer's file operations over `Platform`, each failure an `InstallError` naming the path.
enum InstallFiles {
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether two paths are the same file (the binary asked to be copied onto itself).
    static func isSameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        return stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// The file's bytes, or nil if it does not exist.
    static func read(_ path: String, limit: Int = 4 << 20) throws(InstallError) -> [UInt8]? {
        do { return try Platform.readFile(path, limit: limit) } catch where error.errno == ENOENT {
            return nil
        } catch {
            throw .file(error, path: path)
        }
    }

    /// Writes `bytes` atomically unless the file already holds exactly them: nothing changes
    /// on disk (and no watcher wakes) when nothing changed. Returns whether it wrote.
    @discardableResult
    static func update(_ path: String, with bytes: [UInt8], mode: mode_t) throws(InstallError) -> Bool {
        defer { sweepLeftovers(beside: path) }
        if try read(path) == bytes { return false }
        do { try Platform.writeFileAtomically(bytes, to: path, mode: mode) } catch { throw .file(error, path: path) }
        return true
    }

    static func copy(_ source: String, to destination: String, mode: mode_t) throws(InstallError) {
        defer { sweepLeftovers(beside: destination) }
        do { try Platform.copyFileAtomically(from: source, to: destination, mode: mode) } catch { throw .file(error, path: destination) }
    }

    /// What an install killed mid-write (a pod deleted during a rollout) left beside `path`;
    /// after the write, so that an older version's `<name>.tmp<pid>` is beside its `<name>`.
    private static func sweepLeftovers(beside path: String) {
        TemporaryFile.sweep(InstallPaths.parent(of: path))
    }

    /// Creates `path` if missing and makes its mode exactly `mode` (a 0755 multus.d left by
    /// Multus becomes 0700).
    static func ensureDirectory(_ path: String, mode: mode_t) throws(InstallError) {
        if mkdir(path, mode) != 0 && errno != EEXIST { throw .file(path: path, operation: "create directory", errno: errno) }
        if chmod(path, mode) != 0 { throw .file(path: path, operation: "chmod", errno: errno) }
    }

    /// Removes a file; one already gone is fine. Returns whether it removed one.
    @discardableResult
    static func remove(_ path: String) throws(InstallError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .file(path: path, operation: "remove", errno: errno)
    }

    static func rename(_ from: String, to: String) throws(InstallError) {
        if Glibc.rename(from, to) != 0 { throw .file(path: from, operation: "rename to \(to)", errno: errno) }
    }
}
