import System

/// How the installer writes the node's files: only when their content changes (so nothing on
/// disk changes, and no watcher wakes, when nothing changed), atomically, with leftovers of
/// killed writes swept afterwards; every failure an `InstallError` naming the path.
enum InstallFiles {
    /// The file's bytes, or nil if it does not exist.
    static func read(_ path: String, limit: Int = 4 << 20) throws(InstallError) -> [UInt8]? {
        do { return try Files.read(path, limit: limit) } catch {
            if error.errno == .noSuchFileOrDirectory { return nil }
            throw .file(error, path: path)
        }
    }

    /// Writes `bytes` atomically unless the file already holds exactly them. Returns whether it
    /// wrote.
    @discardableResult
    static func update(_ path: String, with bytes: [UInt8], mode: UInt32) throws(InstallError) -> Bool {
        defer { sweepLeftovers(beside: path) }
        if try read(path) == bytes { return false }
        do { try Files.writeAtomically(bytes, to: path, permissions: mode) } catch { throw .file(error, path: path) }
        return true
    }

    static func copy(_ source: String, to destination: String, mode: UInt32) throws(InstallError) {
        defer { sweepLeftovers(beside: destination) }
        do { try Files.copyAtomically(from: source, to: destination, permissions: mode) } catch { throw .file(error, path: destination) }
    }

    /// What an install killed mid-write (a pod deleted during a rollout) left beside `path`;
    /// after the write, so that an older version's `<name>.tmp<pid>` is beside its `<name>`.
    private static func sweepLeftovers(beside path: String) {
        TemporaryFile.sweep(InstallPaths.parent(of: path))
    }

    /// Creates `path` if missing and makes its mode exactly `mode` (a 0755 multus.d left by
    /// Multus becomes 0700).
    static func ensureDirectory(_ path: String, mode: UInt32) throws(InstallError) {
        do {
            try Files.makeDirectory(path, permissions: mode)
            try Files.setPermissions(path, mode)
        } catch {
            throw .file(error, path: path)
        }
    }

    /// Removes a file; one already gone is fine. Returns whether it removed one.
    @discardableResult
    static func remove(_ path: String) throws(InstallError) -> Bool {
        do { return try Files.remove(path) } catch { throw .file(error, path: path) }
    }

    static func rename(_ from: String, to: String) throws(InstallError) {
        do { try Files.rename(from, to: to) } catch { throw .file(error, path: from) }
    }
}
