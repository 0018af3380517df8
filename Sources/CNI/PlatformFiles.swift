import Glibc

/// Directory listings and atomic replacement, shared by the plugin (its cache, TLS sessions) and
/// the installer (configs, kubeconfig, token, the binary on the host): one implementation.
extension Platform {
    /// Names in `directory`, without "." and "..", in no particular order.
    public static func listDirectory(_ directory: String) throws(FileError) -> [String] {
        guard let dir = opendir(directory) else { throw FileError(operation: "list", errno: Glibc.errno) }
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

    /// Replaces `path` atomically: a new temporary file beside it, fsync, rename. A reader sees
    /// the old content or the new, never a torn file, even if we are killed halfway; and a running
    /// executable is replaced without ETXTBSY, since its inode is never written.
    ///
    /// Each writer's temporary file is its own (see `TemporaryFile`): two `multus install`
    /// pods of a rolling update are each PID 1, and with `<file>.tmp<pid>` they wrote the same
    /// inode, so `/opt/cni/bin/multus` could be a mix of two binaries.
    /// - Throws: the failing call, with the temporary file's path when that is where it failed.
    public static func writeFileAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(FileError) {
        try replaceAtomically(path, mode: mode) { fd throws(FileError) in try writeAll(fd, bytes) }
    }

    /// Writes `path` in place (created with `mode` if missing), without fsync: for small records
    /// whose loss costs only time. A symbolic link at `path` is refused (ELOOP), not written through.
    public static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws(FileError) {
        var fd: Int32
        repeat { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode) } while fd < 0 && Glibc.errno == EINTR
        guard fd >= 0 else { throw FileError(operation: "create", errno: Glibc.errno, path: path) }
        defer { close(fd) }
        do { try writeAll(fd, bytes) } catch {
            var located = error
            located.path = path
            throw located
        }
    }

    /// Copies `source` over `destination` atomically, as `writeFileAtomically`, streaming (a
    /// binary is megabytes; nothing is held whole in memory).
    public static func copyFileAtomically(from source: String, to destination: String, mode: mode_t) throws(FileError) {
        var input: Int32
        repeat { input = open(source, O_RDONLY | O_CLOEXEC) } while input < 0 && Glibc.errno == EINTR
        guard input >= 0 else { throw FileError(operation: "open", errno: Glibc.errno, path: source) }
        defer { close(input) }
        try replaceAtomically(destination, mode: mode) { output throws(FileError) in
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 && Glibc.errno == EINTR { continue }
                guard count >= 0 else { throw FileError(operation: "read", errno: Glibc.errno, path: source) }
                if count == 0 { return }
                try writeAll(output, Array(chunk[0..<count]))
            }
        }
    }

    /// Creates a temporary file beside `path`, lets `fill` write it, gives it `mode`, fsyncs and
    /// renames it over `path`; on any failure the temporary file is removed.
    private static func replaceAtomically(_ path: String, mode: mode_t, fill: (Int32) throws(FileError) -> Void) throws(FileError) {
        let (fd, temporary) = try TemporaryFile.create(beside: path)
        do throws(FileError) {
            try fill(fd)
            // Created 0600 (and open() applies the umask): the mode meant is set once it is whole.
            guard fchmod(fd, mode) == 0 else { throw FileError(operation: "chmod", errno: Glibc.errno, path: temporary) }
            guard fsync(fd) == 0 else { throw FileError(operation: "fsync", errno: Glibc.errno, path: temporary) }
        } catch {
            close(fd)
            unlink(temporary)
            var located = error
            located.path = located.path ?? temporary
            throw located
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = Glibc.errno
            unlink(temporary)
            throw FileError(operation: "rename into place", errno: error, path: path)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(FileError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in raw.baseAddress.map { write(fd, $0 + written, raw.count - written) } ?? 0 }
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n > 0 else { throw FileError(operation: "write", errno: Glibc.errno) }
            written += n
        }
    }
}

/// The temporary files of atomic replacement: `.<name>.tmp-<16 hex digits>` beside `<name>`.
///
/// - The name is unpredictable (getrandom) and the file is created with
///   `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600: no two writers share one, nothing planted at the
///   name is opened or followed, and no one else can read a token or key being written.
/// - A writer killed between create and rename leaves its file behind. `sweep` removes those
///   older than `leftoverAge`, and the `<name>.tmp<pid>` files earlier versions left beside a
///   `<name>` that exists; nothing else in the directory is touched.
public enum TemporaryFile {
    static let marker = ".tmp-"
    /// No replacement takes this long (the binary is a few MB): a file this old is a leftover.
    public static let leftoverAge = Duration.seconds(10 * 60)

    /// An open descriptor on a new, empty temporary file beside `path`, and its path.
    static func create(beside path: String) throws(Platform.FileError) -> (fd: Int32, path: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var attempts = 0
        while true {
            let temporary = "\(directory).\(name)\(marker)\(randomSuffix())"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { return (fd, temporary) }
            let error = Glibc.errno
            attempts += 1
            guard (error == EEXIST || error == EINTR) && attempts < 8 else {
                throw Platform.FileError(operation: "create", errno: error, path: temporary)
            }
        }
    }

    /// 16 hex digits from the system generator, which on Linux reads getrandom(2), the kernel's
    /// CSPRNG.
    static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = String(generator.next(), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Whether `name` is one of ours: `.<something>.tmp-<16 lower-case hex digits>`.
    static func isTemporaryName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let suffix = bytes.suffix(16), markerStart = bytes.count - 16 - marker.utf8.count
        return bytes.first == UInt8(ascii: ".") && markerStart > 1 && bytes[markerStart..<(bytes.count - 16)].elementsEqual(marker.utf8)
            && suffix.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// `<name>.tmp<digits>`, as versions before this one named theirs: the `<name>` it replaced.
    static func legacyTarget(of name: String) -> String? {
        let bytes = Array(name.utf8)
        let pid = bytes.reversed().prefix { $0 >= 0x30 && $0 <= 0x39 }.count
        let legacy = Array(".tmp".utf8)
        guard (1...10).contains(pid), bytes.count > pid + legacy.count,
              bytes[(bytes.count - pid - legacy.count)..<(bytes.count - pid)].elementsEqual(legacy) else { return nil }
        return String(decoding: bytes[..<(bytes.count - pid - legacy.count)], as: UTF8.self)
    }

    /// Removes leftover temporary files in `directory` older than `age`; returns their names.
    /// Best effort: a directory that cannot be listed, or a file that cannot be removed, is left.
    @discardableResult
    public static func sweep(_ directory: String, olderThan age: Duration = leftoverAge) -> [String] {
        guard let names = try? Platform.listDirectory(directory) else { return [] }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var removed: [String] = []
        for name in names {
            let ours = isTemporaryName(name) || legacyTarget(of: name).map { names.contains($0) } == true
            var info = stat()
            guard ours, lstat(prefix + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  Duration.seconds(Int64(now.tv_sec) - Int64(info.st_mtim.tv_sec)) >= age, unlink(prefix + name) == 0 else { continue }
            removed.append(name)
        }
        return removed
    }
}
