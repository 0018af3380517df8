import CNI
import Glibc
import Synchronization

/// Why the log file could not be written: the call and its errno.
public struct LogFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    public var description: String { "\(operation) \(path): \(Platform.describe(errno: errno))" }
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
        var file: Int32
        var lock: Int32
    }

    public init(path: String, rotation: LogSettings.Rotation) {
        self.path = path
        self.rotation = rotation
    }

    deinit {
        state.withLock { open in
            if let open { close(open.file); close(open.lock) }
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
            try lock(descriptors.lock, LOCK_SH)
            defer { flock(descriptors.lock, LOCK_UN) }
            if wouldOverflow(try followPath(&descriptors.file), adding: line.count) {
                try lock(descriptors.lock, LOCK_EX)
                if wouldOverflow(try followPath(&descriptors.file), adding: line.count) { try rotate(&descriptors.file) }
            }
            let written = line.withUnsafeBytes { write(descriptors.file, $0.baseAddress, $0.count) }
            guard written == line.count else { throw failure("write", errno: written < 0 ? errno : EIO) }
        }
    }

    private func openDescriptors() throws(LogFileError) -> Descriptors {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty {
            do { try Platform.makeDirectories(directory, mode: 0o755) } catch { throw failure("create the directory of", errno: error.errno) }
        }
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lockFD >= 0 else { throw LogFileError(operation: "open", path: lockPath, errno: errno) }
        do {
            return Descriptors(file: try openFile(), lock: lockFD)
        } catch {
            close(lockFD)
            throw error
        }
    }

    var lockPath: String { path + ".lock" }

    private func openFile() throws(LogFileError) -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure("open", errno: errno) }
        return fd
    }

    private func lock(_ fd: Int32, _ operation: Int32) throws(LogFileError) {
        while flock(fd, operation) != 0 {
            guard errno == EINTR else { throw LogFileError(operation: "lock", path: lockPath, errno: errno) }
        }
    }

    /// Re-opens the path when another process rotated the file away from under `fd`.
    /// - Returns: the size of the file `fd` now names (0 for a file just opened).
    private func followPath(_ fd: inout Int32) throws(LogFileError) -> Int {
        var held = stat(), named = stat()
        guard fstat(fd, &held) == 0 else { throw failure("stat", errno: errno) }
        if stat(path, &named) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev { return Int(held.st_size) }
        let fresh = try openFile()
        close(fd)
        fd = fresh
        guard fstat(fd, &held) == 0 else { throw failure("stat", errno: errno) }
        return Int(held.st_size)
    }

    private func wouldOverflow(_ size: Int, adding count: Int) -> Bool {
        rotation.maxSizeMB > 0 && size > 0 && size + count > rotation.maxSizeMB << 20
    }

    /// Moves the file to its backup name and starts a new one; then prunes and compresses
    /// backups. Runs under the exclusive lock.
    private func rotate(_ fd: inout Int32) throws(LogFileError) {
        let backups = LogBackups(path: path)
        let backup = backups.unusedName(at: WallClockTime.now())
        guard rename(path, backup) == 0 else { throw failure("rotate", errno: errno) }
        let fresh = try openFile()
        close(fd)
        fd = fresh
        backups.prune(keeping: rotation, now: WallClockTime.now())
        if rotation.compress { backups.compressAll() }
    }

    private func failure(_ operation: String, errno: Int32) -> LogFileError {
        LogFileError(operation: operation, path: path, errno: errno)
    }
}
