import Glibc

/// Directory listings and atomic replacement, shared by the plugin (its cache) and the installer
/// (configs, kubeconfig, the binary on the host).
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

    /// Replaces `path` atomically: a temporary file beside it, fsync, rename. A reader sees the
    /// old content or the new, never a torn file, even if we are killed halfway; and a running
    /// executable is replaced without ETXTBSY, since its inode is never written.
    /// - Throws: the failing call, with the temporary file's path when that is where it failed.
    public static func writeFileAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(FileError) {
        try replaceAtomically(path, mode: mode) { fd throws(FileError) in try writeAll(fd, bytes) }
    }

    /// Writes `path` in place (created with `mode` if missing), without fsync: for small records
    /// whose loss costs only time.
    public static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t) throws(FileError) {
        var fd: Int32
        repeat { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) } while fd < 0 && Glibc.errno == EINTR
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

    /// Creates `<path>.tmp<pid>` with `mode`, lets `fill` write it, fsyncs and renames it over
    /// `path`; on any failure the temporary file is removed.
    private static func replaceAtomically(_ path: String, mode: mode_t, fill: (Int32) throws(FileError) -> Void) throws(FileError) {
        let temporary = "\(path).tmp\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(operation: "create", errno: Glibc.errno, path: temporary) }
        do throws(FileError) {
            try fill(fd)
            // open() applies the umask; the mode asked for is the mode meant.
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
