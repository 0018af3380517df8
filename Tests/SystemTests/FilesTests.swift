import Glibc
import System
import Testing
import TestSupport

/// Reading, listing, creating and removing by path: the errors name the call and the path, and
/// carry an `Errno` a `catch` can match.
@Suite("Files by path")
struct FilesTests {
    /// How callers tell "not there" from "cannot be read": by the errno's named member.
    @Test func aMissingFileIsMatchedByItsErrno() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.pathOf("absent.conf")
        #expect(try readIfPresent(missing) == nil)
        #expect(throws: SystemError("read", errno: Errno(rawValue: EISDIR), path: directory.path)) { try readIfPresent(directory.path) }
        #expect(SystemError("open", errno: .noSuchFileOrDirectory, path: missing).description == "open \(missing): No such file or directory")
    }

    /// The bound is the file's size: exactly `limit` bytes is read, one more is refused (EFBIG),
    /// whatever the chunk size of the reads, and every byte lands where it was in the file
    /// (the buffer starts at 4 KB and doubles).
    @Test(arguments: [0, 1, 4095, 4096, 4097, 8193, 65535, 65536, 65537, 200_000])
    func aReadIsBoundedByTheLimit(size: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let contents = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let path = try directory.file("data", contents: contents)
        #expect(try Files.read(path, limit: size) == contents)
        if size > 0 {
            #expect(throws: SystemError("read", errno: .fileTooLarge, path: path)) { try Files.read(path, limit: size - 1) }
            #expect(SystemError("read", errno: .fileTooLarge, path: path).description == "read \(path): file too large")
        }
    }

    @Test func directoriesAreMadeListedAndFilesRemovedAndRenamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let nested = directory.pathOf("a/b/c")
        try Files.makeDirectories(nested, permissions: 0o700)
        try Files.makeDirectories(nested, permissions: 0o700)  // already there: fine
        #expect(Files.kind(of: nested) == .directory)
        #expect(try Files.status(nested).permissions == 0o700)
        try Files.write(Array("x".utf8), to: Files.join(nested, "one"), permissions: 0o640)
        #expect(try Files.status(nested + "/one").kind == .regular)
        try Files.rename(nested + "/one", to: nested + "/two")
        #expect(try Files.list(nested) == ["two"])
        #expect(try Files.remove(nested + "/two"))
        #expect(try !Files.remove(nested + "/two"), "a file already gone is no error")
        #expect(throws: SystemError("rename to \(nested)/three", errno: .noSuchFileOrDirectory, path: nested + "/two")) {
            try Files.rename(nested + "/two", to: nested + "/three")
        }
        #expect(throws: SystemError("list", errno: .noSuchFileOrDirectory, path: directory.pathOf("none"))) {
            try Files.list(directory.pathOf("none"))
        }
    }

    @Test func aFileMadeInsideAMissingParentNamesTheDirectoryThatFailed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let blocker = try directory.file("file", contents: [])
        #expect(throws: SystemError("create directory", errno: Errno(rawValue: ENOTDIR), path: blocker + "/sub")) {
            try Files.makeDirectories(blocker + "/sub/deeper", permissions: 0o755)
        }
    }

    /// Another user's file, or one open to others, is not trusted as ours.
    @Test func ownFilesArePrivateRegularFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let own = try directory.file("own", contents: [1, 2], mode: 0o600)
        #expect(try Files.readOwn(own, limit: 16).bytes == [1, 2])
        let open = try directory.file("open", contents: [1], mode: 0o644)
        #expect(throws: SystemError("refuse (not a private file of this user)", errno: .notPermitted, path: open)) {
            try Files.readOwn(open, limit: 16)
        }
        let link = try directory.symlink("link", to: own)
        #expect { try Files.readOwn(link, limit: 16) } throws: { ($0 as? SystemError)?.errno == .tooManySymbolicLinkLevels }
    }

    @Test func anExclusiveLockIsHeldUntilReleased() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf(".lock")
        let held = try Files.lockExclusively(path)
        let other = try FileDescriptor.open(path, .readWrite)
        defer { other.close() }
        #expect(flock(other.rawValue, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK, "the first lock is still held")
        held.unlock()
        held.close()
        #expect(flock(other.rawValue, LOCK_EX | LOCK_NB) == 0)
    }

    @Test func identityIsTheSameThroughALink() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.file("binary", contents: [1])
        let link = try directory.symlink("alias", to: file)
        #expect(FileIdentity(path: link) == FileIdentity(path: file))
        #expect(FileIdentity(path: directory.pathOf("none")) == nil)
        #expect(try Files.linkStatus(link).kind == .symbolicLink)
        #expect(Files.readLink(link) == file)
    }
}

/// The file's bytes, or nil when there is no such file.
private func readIfPresent(_ path: String) throws(SystemError) -> [UInt8]? {
    do { return try Files.read(path, limit: 64) } catch where error.errno == .noSuchFileOrDirectory { return nil }
}
