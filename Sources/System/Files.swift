import Glibc

/// Files by path: reading whole (bounded), listing, creating, removing, renaming, and what stat
/// says. Atomic replacement is in `Files+Replace.swift`.
public enum Files {
    /// Whether a path's last component may be a symbolic link. Files the plugin keeps for
    /// itself (cache, tombstones, locks, TLS sessions) refuse one: nobody but us should place a
    /// file there, so a link is someone pointing our writes or reads elsewhere. Files others
    /// write (configs, kubeconfigs, a projected token, the kubelet's checkpoint) follow.
    public enum Symlinks: Sendable { case follow, refuse }

    /// The whole file at `path`. Files larger than `limit` are refused: everything we read
    /// (configs, kubeconfigs, certificates, caches) is small, and memory must stay bounded.
    /// - Throws: `SystemError` "open" or "read"; EFBIG over the limit; ELOOP for a symbolic link
    ///   when `symlinks` is `.refuse`.
    public static func read(_ path: String, limit: Int, symlinks: Symlinks = .follow) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly, options: symlinks == .refuse ? .noFollow : [])
        defer { fd.close() }
        return try readAll(fd, limit: limit, path: path)
    }

    /// The whole of a file only we may have written: a regular file (not a link), owned by this
    /// process's user, with no permission for group or others. What it holds decides whom we
    /// trust or who we are (a TLS session resumes a verified identity), so one another user
    /// could have written or read is not used.
    /// - Returns: its bytes and when it was last modified.
    /// - Throws: ELOOP for a link, EPERM for another owner, a mode open to others or not a file.
    public static func readOwn(_ path: String, limit: Int) throws(SystemError) -> (bytes: [UInt8], modified: WallClockTime) {
        let fd = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .nonBlocking])
        defer { fd.close() }
        let status: FileStatus
        do { status = try fd.status() } catch { throw SystemError(error.operation, errno: error.errno, path: path) }
        guard status.kind == .regular, status.isPrivateToThisUser else {
            throw SystemError("refuse (not a private file of this user)", errno: .notPermitted, path: path)
        }
        return (try readAll(fd, limit: limit, path: path), status.modified)
    }

    private static func readAll(_ fd: FileDescriptor, limit: Int, path: String) throws(SystemError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try fd.readToEnd(maximum: limit) } catch { throw SystemError(error.operation, errno: error.errno, path: path) }
        guard bytes.count <= limit else { throw SystemError("read", errno: .fileTooLarge, path: path) }
        return bytes
    }

    /// What stat(2) says about the file `path` names (symbolic links followed).
    public static func status(_ path: String) throws(SystemError) -> FileStatus {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError("stat", errno: .current, path: path) }
        return FileStatus(info)
    }

    /// What lstat(2) says about `path` itself: a symbolic link is described, not followed.
    public static func linkStatus(_ path: String) throws(SystemError) -> FileStatus {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemError("stat", errno: .current, path: path) }
        return FileStatus(info)
    }

    /// The kind of file `path` names (links followed); nil when there is none (or it cannot be
    /// stat'ed).
    public static func kind(of path: String) -> FileStatus.Kind? { (try? status(path))?.kind }

    /// Whether two paths name one file (links followed): a copy onto itself, one directory
    /// mounted at two places. False when either cannot be stat'ed.
    public static func areSameFile(_ a: String, _ b: String) -> Bool {
        guard let first = FileIdentity(path: a) else { return false }
        return FileIdentity(path: b) == first
    }

    /// Whether anything exists at `path` (access F_OK: a dangling link does not).
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `path` is a regular file this process may execute.
    public static func isExecutableFile(_ path: String) -> Bool {
        kind(of: path) == .regular && access(path, X_OK) == 0
    }

    /// Whole seconds since `path` was last modified; zero when it cannot be stat'ed, or was
    /// modified in the future.
    public static func age(of path: String, now: WallClockTime = .now()) -> Duration {
        guard let modified = (try? status(path))?.modified else { return .zero }
        return .seconds(max(0, now.seconds - modified.seconds))
    }

    /// Names in `directory`, without "." and "..", in no particular order.
    public static func list(_ directory: String) throws(SystemError) -> [String] {
        guard let dir = opendir(directory) else { throw SystemError("list", errno: .current, path: directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates the directory `path` with `permissions` (less the umask); one already there is fine.
    public static func makeDirectory(_ path: String, permissions: UInt32) throws(SystemError) {
        if mkdir(path, mode_t(permissions)) != 0 && Glibc.errno != EEXIST {
            throw SystemError("create directory", errno: .current, path: path)
        }
    }

    /// `mkdir -p`: `path` and its missing parents, each with `permissions`. A directory already
    /// there costs one stat, not a mkdir per component.
    /// - Throws: the failing mkdir, with the directory it could not make.
    public static func makeDirectories(_ path: String, permissions: UInt32) throws(SystemError) {
        if kind(of: path) == .directory { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix, permissions: permissions)
        }
    }

    /// chmod(2): exactly `permissions`, whatever the umask.
    public static func setPermissions(_ path: String, _ permissions: UInt32) throws(SystemError) {
        if chmod(path, mode_t(permissions)) != 0 { throw SystemError("chmod", errno: .current, path: path) }
    }

    /// Removes a file. Returns false when there was none: a file already gone is no error.
    @discardableResult
    public static func remove(_ path: String) throws(SystemError) -> Bool {
        if unlink(path) == 0 { return true }
        if Glibc.errno == ENOENT { return false }
        throw SystemError("remove", errno: .current, path: path)
    }

    /// rename(2): `to` is replaced atomically if it exists.
    /// - Throws: `SystemError("rename to <to>", path: from)`.
    public static func rename(_ from: String, to: String) throws(SystemError) {
        if Glibc.rename(from, to) != 0 { throw SystemError("rename to \(to)", errno: .current, path: from) }
    }

    /// The target of the symbolic link `path` (up to 4 KiB); nil when it is not a link or
    /// cannot be read.
    public static func readLink(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { raw in raw.baseAddress.map { readlink(path, $0, raw.count - 1) } ?? -1 }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    /// Writes `path` in place (created with `permissions` if missing), without fsync: for small
    /// records whose loss costs only time. A symbolic link at `path` is refused (ELOOP), not
    /// written through.
    public static func write(_ bytes: [UInt8], to path: String, permissions: UInt32) throws(SystemError) {
        let fd = try FileDescriptor.open(path, .writeOnly, options: [.create, .truncate, .noFollow], permissions: permissions,
                                         operation: "create")
        defer { fd.close() }
        do { try fd.writeAll(bytes) } catch { throw SystemError(error.operation, errno: error.errno, path: path) }
    }

    /// The working directory a relative path is resolved against (getcwd); nil when it cannot
    /// be read (removed, or longer than the kernel reports).
    public static var workingDirectory: String? {
        guard let buffer = getcwd(nil, 0) else { return nil }
        defer { free(buffer) }
        return String(cString: buffer)
    }

    /// `name` in `directory`, with one "/" between them.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

extension Files {
    /// An exclusive flock on `path` (created 0600 if needed, never through a symbolic link), for
    /// one process at a time; released by `unlock()` and `close()` on the descriptor, or at exit.
    /// - Throws: `SystemError` "open lock file" or "lock".
    public static func lockExclusively(_ path: String) throws(SystemError) -> FileDescriptor {
        let fd = try FileDescriptor.open(path, .readWrite, options: [.create, .noFollow], permissions: 0o600, operation: "open lock file")
        do { try fd.lock(.exclusive) } catch {
            fd.close()
            throw SystemError(error.operation, errno: error.errno, path: path)
        }
        return fd
    }
}
