import Synchronization
import System

/// Why the log file could not be written: the call and its errno.
public struct LogFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Errno
    public var description: String { "\(operation) \(path): \(errno)" }
}

/// A log file many `multus` processes append to at once, rotated as lumberjack does.
///
/// Every line is one write(2) on an O_APPEND descriptor, so lines never interleave. Writers
/// hold a shared flock on `<file>.lock` while they write; rotation holds it exclusively. So a
/// rotation never happens between a writer's check that its descriptor still names the path and
/// its write: no line lands in a backup that is being compressed or pruned, and a writer whose
/// file was rotated by another process re-opens the path before its next line.
public final class LogFile: Sendable {
    public let path: String
    public let rotation: LogSettings.Rotation
    private let state = Mutex<Descriptors?>(nil)

    struct Descriptors {
        var file: FileDescriptor
        var lock: FileDescriptor
    }

    public init(path: String, rotation: LogSettings.Rotation) {
        self.path = path
        self.rotation = rotation
    }

    deinit {
        state.withLock { open in
            if let open { open.file.close(); open.lock.close() }
        }
    }

    /// Appends one line (which must end in a newline), rotating first when it would take the
    /// file past `maxSize`.
    /// - Throws: `LogFileError` when the file or its lock cannot be opened or written.
    public func append(_ line: [UInt8]) throws(LogFileError) {
        try state.withLock { (open: inout Descriptors?) throws(LogFileError) in
            var descriptors: Descriptors
            if let open { descriptors = open } else { descriptors = try openDescriptors() }
            defer { open = descriptors }
            try lock(descriptors.lock, .shared)
            defer { descriptors.lock.unlock() }
            if wouldOverflow(try followPath(&descriptors.file), adding: line.count) {
                try lock(descriptors.lock, .exclusive)
                if wouldOverflow(try followPath(&descriptors.file), adding: line.count) { try rotate(&descriptors.file) }
            }
            let written: Int
            do throws(SystemError) { written = try descriptors.file.writeOnce(line) } catch { throw failure("write", errno: error.errno) }
            guard written == line.count else { throw failure("write", errno: .ioError) }
        }
    }

    private func openDescriptors() throws(LogFileError) -> Descriptors {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty {
            do { try Files.makeDirectories(directory, permissions: 0o755) } catch { throw failure("create the directory of", errno: error.errno) }
        }
        let lockFD: FileDescriptor
        do { lockFD = try FileDescriptor.open(lockPath, .readWrite, options: [.create, .noFollow], permissions: 0o600) } catch {
            throw LogFileError(operation: "open", path: lockPath, errno: error.errno)
        }
        do {
            return Descriptors(file: try openFile(), lock: lockFD)
        } catch {
            lockFD.close()
            throw error
        }
    }

    var lockPath: String { path + ".lock" }

    private func openFile() throws(LogFileError) -> FileDescriptor {
        do { return try FileDescriptor.open(path, .writeOnly, options: [.append, .create, .noFollow], permissions: 0o600) } catch {
            throw failure("open", errno: error.errno)
        }
    }

    private func lock(_ fd: FileDescriptor, _ kind: FileDescriptor.LockKind) throws(LogFileError) {
        do { try fd.lock(kind) } catch { throw LogFileError(operation: "lock", path: lockPath, errno: error.errno) }
    }

    /// Re-opens the path when another process rotated the file away from under `fd`.
    /// - Returns: the size of the file `fd` now names (0 for a file just opened).
    private func followPath(_ fd: inout FileDescriptor) throws(LogFileError) -> Int {
        let held = try status(fd)
        if let named = try? Files.status(path), named.identity == held.identity { return held.size }
        let fresh = try openFile()
        fd.close()
        fd = fresh
        return try status(fd).size
    }

    private func status(_ fd: FileDescriptor) throws(LogFileError) -> FileStatus {
        do { return try fd.status() } catch { throw failure("stat", errno: error.errno) }
    }

    private func wouldOverflow(_ size: Int, adding count: Int) -> Bool {
        rotation.maxSizeMB > 0 && size > 0 && size + count > rotation.maxSizeMB << 20
    }

    /// Moves the file to its backup name and starts a new one; then prunes and compresses
    /// backups. Runs under the exclusive lock.
    private func rotate(_ fd: inout FileDescriptor) throws(LogFileError) {
        let backups = LogBackups(path: path)
        let backup = backups.unusedName(at: WallClockTime.now())
        do { try Files.rename(path, to: backup) } catch { throw failure("rotate", errno: error.errno) }
        let fresh = try openFile()
        fd.close()
        fd = fresh
        backups.prune(keeping: rotation, now: WallClockTime.now())
        if rotation.compress { backups.compressAll() }
    }

    private func failure(_ operation: String, errno: Errno) -> LogFileError {
        LogFileError(operation: operation, path: path, errno: errno)
    }
}
