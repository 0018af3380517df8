// Fixtures shared by every test target: where testdata/ is, throwaway directories, files, and
// the canned outputs fake executors answer with. Only libc: tests never touch the process
// environment or working directory, so they stay safe to run in parallel.
import CNI
import CNIExec
import Glibc
import System

/// The absolute path of `testdata/<relative>`, found by walking up from this file to the
/// directory holding Package.swift (no working-directory assumption).
public func testdata(_ relative: String) -> String {
    var directory = Substring(#filePath)
    while let slash = directory.lastIndex(of: "/") {
        directory = directory[..<slash]
        if access("\(directory)/Package.swift", F_OK) == 0 { return "\(directory)/testdata/\(relative)" }
    }
    return "testdata/\(relative)"
}

/// A libc call in a test fixture failed.
public struct FixtureError: Error, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: Int32

    public init(call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(call)(\(path)): \(String(cString: strerror(errno)))" }
}

/// The whole content of `path`.
public func readFile(_ path: String) throws(FixtureError) -> [UInt8] {
    do { return try Files.read(path, limit: 256 << 20) } catch {
        throw FixtureError(call: error.operation, path: path, errno: error.errno.rawValue)
    }
}

/// The whole content of `path`, or nil if it cannot be read.
public func readWholeFile(_ path: String) -> [UInt8]? { try? readFile(path) }

public func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// The permission bits of `path`, or nil if it cannot be read.
public func fileMode(_ path: String) -> mode_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
}

/// Writes `contents` to `path` with exactly `mode` (umask notwithstanding).
/// O_CLOEXEC matters: a writable descriptor leaking into a child spawned concurrently by another
/// test would make exec'ing this file fail with ETXTBSY for that child's lifetime.
@discardableResult
public func writeFile(_ path: String, _ contents: [UInt8], mode: mode_t = 0o644) throws(FixtureError) -> String {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw FixtureError(call: "open", path: path, errno: errno) }
    defer { close(fd) }
    var offset = 0
    while offset < contents.count {
        let n = contents.withUnsafeBytes { raw in raw.baseAddress.map { write(fd, $0 + offset, raw.count - offset) } ?? 0 }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw FixtureError(call: "write", path: path, errno: errno) }
        offset += n
    }
    guard chmod(path, mode) == 0 else { throw FixtureError(call: "chmod", path: path, errno: errno) }
    return path
}

/// `mkdir -p`.
public func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(FixtureError) {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/" + component
        if mkdir(prefix, mode) != 0 && errno != EEXIST { throw FixtureError(call: "mkdir", path: prefix, errno: errno) }
    }
}

/// The names in `directory`, without "." and ".."; none if it cannot be read.
public func directoryEntries(_ directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// `rm -rf` without spawning anything (the executor may be what is under test).
public func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR {
        for child in directoryEntries(path) { removeTree(path + "/" + child) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// A throwaway directory under /tmp for one test. Call `remove()` (in a `defer`) when done.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "swift-multus-tests") throws(FixtureError) {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        let created: String? = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let created else { throw FixtureError(call: "mkdtemp", path: "/tmp", errno: errno) }
        path = created
    }

    /// `relative` resolved inside the directory.
    public func pathOf(_ relative: String) -> String { path + "/" + relative }

    /// Creates the directory `relative` (its parent must exist) and returns its path.
    @discardableResult
    public func directory(_ relative: String, mode: mode_t = 0o755) throws(FixtureError) -> String {
        let target = pathOf(relative)
        guard mkdir(target, mode) == 0 else { throw FixtureError(call: "mkdir", path: target, errno: errno) }
        return target
    }

    /// Writes a `#!/bin/sh` script with `body` at `relative` and returns its path.
    @discardableResult
    public func script(_ relative: String, _ body: String, mode: mode_t = 0o755) throws(FixtureError) -> String {
        try file(relative, contents: Array("#!/bin/sh\n\(body)\n".utf8), mode: mode)
    }

    /// Writes `contents` at `relative` with exactly `mode`.
    @discardableResult
    public func file(_ relative: String, contents: [UInt8], mode: mode_t = 0o644) throws(FixtureError) -> String {
        try writeFile(pathOf(relative), contents, mode: mode)
    }

    /// A symbolic link at `relative` pointing at `destination`.
    @discardableResult
    public func symlink(_ relative: String, to destination: String) throws(FixtureError) -> String {
        let target = pathOf(relative)
        guard Glibc.symlink(destination, target) == 0 else { throw FixtureError(call: "symlink", path: target, errno: errno) }
        return target
    }

    /// Deletes the directory and everything in it.
    public func remove() { removeTree(path) }
}

extension ExecOutput {
    /// Exit 0 printing `json`.
    public static func ok(_ json: JSONValue) -> ExecOutput { ExecOutput(termination: .exited(0), stdout: json.serializedBytes()) }

    /// Exit `status` printing `stdout` and `stderr` as given.
    public static func exit(_ status: Int32, stdout: String = "", stderr: String = "") -> ExecOutput {
        ExecOutput(termination: .exited(status), stdout: Array(stdout.utf8), stderr: Array(stderr.utf8))
    }

    /// Exit 1 printing a CNI error object, as a failing plugin does.
    public static func cniError(_ code: Int, _ msg: String, details: String = "") -> ExecOutput {
        .exit(1, stdout: CNIError(.init(rawValue: code), msg, details: details).json(cniVersion: .v1_0_0).serialized())
    }
}

extension JSONValue {
    /// A member of an object (nil for anything else), so tests can walk stored API objects.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }
}
