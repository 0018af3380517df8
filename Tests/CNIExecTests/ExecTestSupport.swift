import Glibc

// Helpers for the PosixSpawnExecutor tests: a per-test scratch directory of /bin/sh "plugins",
// a joinable pthread, and byte helpers. Nothing here touches the process environment, the
// working directory, or the process-wide signal state, so tests stay safe to run in parallel.

/// A libc call in a test fixture failed.
struct FixtureError: Error, CustomStringConvertible {
    var call: String
    var path: String
    var errno: Int32

    var description: String { "\(call)(\(path)) failed: errno \(errno)" }
}

/// A throwaway directory under /tmp holding the plugins of one test. Call `remove()` (in a
/// `defer`) when done; it deletes everything beneath.
struct PluginSandbox: Sendable {
    let path: String

    init() throws(FixtureError) {
        var template = Array("/tmp/cniexec-tests.XXXXXX".utf8CString)
        let created: String? = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let created else { throw FixtureError(call: "mkdtemp", path: "/tmp", errno: errno) }
        path = created
    }

    /// `relative` resolved inside the sandbox.
    func pathOf(_ relative: String) -> String { path + "/" + relative }

    /// Creates the directory `relative` (its parent must exist) and returns its path.
    @discardableResult
    func directory(_ relative: String, mode: mode_t = 0o755) throws(FixtureError) -> String {
        let target = pathOf(relative)
        guard mkdir(target, mode) == 0 else { throw FixtureError(call: "mkdir", path: target, errno: errno) }
        return target
    }

    /// Writes a `#!/bin/sh` script with `body` at `relative` and returns its path.
    @discardableResult
    func script(_ relative: String, _ body: String, mode: mode_t = 0o755) throws(FixtureError) -> String {
        try file(relative, contents: Array("#!/bin/sh\n\(body)\n".utf8), mode: mode)
    }

    /// Writes `contents` at `relative` with exactly `mode` (umask notwithstanding).
    /// O_CLOEXEC matters: a writable descriptor leaking into a child spawned concurrently by
    /// another test would make exec'ing this file fail with ETXTBSY for that child's lifetime.
    @discardableResult
    func file(_ relative: String, contents: [UInt8], mode: mode_t = 0o644) throws(FixtureError) -> String {
        let target = pathOf(relative)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FixtureError(call: "open", path: target, errno: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FixtureError(call: "write", path: target, errno: errno) }
            offset += n
        }
        guard chmod(target, mode) == 0 else { throw FixtureError(call: "chmod", path: target, errno: errno) }
        return target
    }

    /// A symbolic link at `relative` pointing at `destination`.
    @discardableResult
    func symlink(_ relative: String, to destination: String) throws(FixtureError) -> String {
        let target = pathOf(relative)
        guard Glibc.symlink(destination, target) == 0 else { throw FixtureError(call: "symlink", path: target, errno: errno) }
        return target
    }

    /// Deletes the sandbox and everything in it.
    func remove() { removeTree(path) }
}

/// `rm -rf` without spawning anything (the executor is what is under test).
private func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR, let dir = opendir(path) {
        var children: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { children.append(name) }
        }
        closedir(dir)
        for child in children { removeTree(path + "/" + child) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The whole content of `path`, or nil if it cannot be opened.
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return result }
        result.append(contentsOf: chunk[0..<n])
    }
}

/// The pids a script wrote to a file (`echo $$ $! > file`), in order.
func readPIDs(_ path: String) -> [pid_t] {
    let text = String(decoding: readWholeFile(path) ?? [], as: UTF8.self)
    return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
}

/// 0 if `pid` exists (a zombie counts), else the errno of `kill(pid, 0)`: ESRCH once reaped.
func probeProcess(_ pid: pid_t) -> Int32 {
    kill(pid, 0) == 0 ? 0 : errno
}

/// `count` deterministic pseudo-random bytes (all 256 values occur, NULs included); different
/// seeds give different streams.
func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Time taken by `body`.
func elapsed<R>(_ body: () throws -> R) rethrows -> (R, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    return (result, start.duration(to: clock.now))
}

/// A real OS thread (not a cooperative-pool task), for tests that need true concurrency or a
/// thread whose signal mask they may change freely.
struct JoinableThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let handle: pthread_t

    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        self.handle = handle
    }

    func join() { pthread_join(handle, nil) }
}
