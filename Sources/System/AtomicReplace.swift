import Glibc

/// Whether an atomic replacement waits for its bytes to reach the disk before the rename.
public enum ReplacementDurability: Sendable {
    /// fsync, then rename: after a crash the file holds the old content or the new, whole.
    case synced
    /// Rename without the fsync: readers still see the old content or the new, but after a
    /// crash the file may also be empty (ext4 orders a replacing rename after the data, other
    /// filesystems need not). Only for a file whose loss or emptiness is recoverable: a cache
    /// that is rebuilt, or a record whose previous, synced content was already enough.
    case unsynced
}

/// Atomic replacement, shared by the plugin (its cache, TLS sessions, device info) and the
/// installer (configs, kubeconfig, token, the binary on the host): one implementation.
extension Files {
    /// Replaces `path` atomically: a new temporary file beside it, fsync, rename. A reader sees
    /// the old content or the new, never a torn file, even if we are killed halfway; and a running
    /// executable is replaced without ETXTBSY, since its inode is never written.
    ///
    /// Each writer's temporary file is its own (see `TemporaryFile`): two `multus install`
    /// pods of a rolling update are each PID 1, and with `<file>.tmp<pid>` they wrote the same
    /// inode, so `/opt/cni/bin/multus` could be a mix of two binaries.
    /// - Throws: the failing call, with the temporary file's path when that is where it failed.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, permissions: UInt32,
                                       durability: ReplacementDurability = .synced) throws(SystemError) {
        try replaceAtomically(path, permissions: permissions, durability: durability) { fd throws(SystemError) in try fd.writeAll(bytes) }
    }

    /// Copies `source` over `destination` atomically, as `writeAtomically`, streaming (a binary
    /// is megabytes; nothing is held whole in memory).
    public static func copyAtomically(from source: String, to destination: String, permissions: UInt32) throws(SystemError) {
        let input = try FileDescriptor.open(source, .readOnly)
        defer { input.close() }
        try replaceAtomically(destination, permissions: permissions, durability: .synced) { output throws(SystemError) in
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count: Int
                do throws(SystemError) { count = try input.read(into: &chunk) } catch { throw SystemError(error.operation, errno: error.errno, path: source) }
                if count == 0 { return }
                try output.writeAll(Array(chunk[0..<count]))
            }
        }
    }

    /// Creates a temporary file beside `path`, lets `fill` write it, gives it `permissions`,
    /// fsyncs it (when `durability` asks) and renames it over `path`; on any failure the
    /// temporary file is removed.
    private static func replaceAtomically(_ path: String, permissions: UInt32, durability: ReplacementDurability,
                                          fill: (FileDescriptor) throws(SystemError) -> Void) throws(SystemError) {
        let (fd, temporary) = try TemporaryFile.create(beside: path)
        do throws(SystemError) {
            try fill(fd)
            // Created 0600 (and open() applies the umask): the mode meant is set once it is whole.
            try fd.setPermissions(permissions)
            if durability == .synced { try fd.sync() }
        } catch {
            fd.close()
            unlink(temporary)
            var located = error
            located.path = located.path ?? temporary
            throw located
        }
        fd.close()
        guard Glibc.rename(temporary, path) == 0 else {
            let error = Errno.current
            unlink(temporary)
            throw SystemError("rename into place", errno: error, path: path)
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
    static func create(beside path: String) throws(SystemError) -> (fd: FileDescriptor, path: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var attempts = 0
        while true {
            let temporary = "\(directory).\(name)\(marker)\(randomSuffix())"
            do {
                return (try FileDescriptor.open(temporary, .writeOnly, options: [.create, .exclusive, .noFollow], permissions: 0o600,
                                                operation: "create"), temporary)
            } catch where error.errno == .fileExists && attempts < 7 {
                attempts += 1
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
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return leftovers(in: directory, olderThan: age).filter { unlink(prefix + $0) == 0 }
    }
}
