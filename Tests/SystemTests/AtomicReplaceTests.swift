import Glibc
import Synchronization
@testable import System
import Testing
import TestSupport

/// Files on the node: atomic replacement with private temporary files, no writes or reads
/// through symbolic links where the file is ours, and leftovers swept.
@Suite("Files on the node")
struct AtomicReplaceTests {
    /// Two `multus install` pods are each PID 1: with `<file>.tmp<pid>` they wrote one inode.
    /// Threads of one process share a PID the same way. Every reader must see one writer's
    /// content whole, and no writer may fail.
    @Test func concurrentWritersNeverShareATemporaryFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("multus")
        try Files.writeAtomically([UInt8](repeating: 0xEE, count: 65536), to: path, permissions: 0o755)
        let failures = Mutex<[String]>([])
        let writers = (0..<4).map { writer in
            Thread {
                let content = [UInt8](repeating: UInt8(writer), count: 65536 + writer * 4096)
                for _ in 0..<25 {
                    do { try Files.writeAtomically(content, to: path, permissions: 0o755) } catch {
                        failures.withLock { $0.append("writer \(writer): \(error)") }
                    }
                }
            }
        }
        let reader = Thread {
            for _ in 0..<200 {
                guard let bytes = try? Files.read(path, limit: 1 << 20), let first = bytes.first else { continue }
                if !bytes.allSatisfy({ $0 == first }) || (first != 0xEE && bytes.count != 65536 + Int(first) * 4096) {
                    failures.withLock { $0.append("a torn file of \(bytes.count) bytes starting \(first)") }
                }
            }
        }
        for thread in writers + [reader] { thread.join() }
        #expect(failures.withLock { $0 } == [])
        #expect(directoryEntries(directory.path) == ["multus"], "no temporary file left behind")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o755)
    }

    @Test func aTemporaryNameIsUnpredictableAndPrivate() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let names = Set((0..<50).map { _ in TemporaryFile.randomSuffix() })
        #expect(names.count == 50 && names.allSatisfy { $0.utf8.count == 16 })
        // A symbolic link planted where an in-place write goes is not written through.
        let target = try directory.file("elsewhere", contents: Array("keep".utf8))
        let link = try directory.symlink("tombstone", to: target)
        #expect { try Files.write(Array("eth0".utf8), to: link, permissions: 0o600) } throws: { ($0 as? SystemError)?.errno == .tooManySymbolicLinkLevels }
        #expect(try readFile(target) == Array("keep".utf8))
        // Nor read through, where the file is ours.
        #expect { try Files.read(link, limit: 64, symlinks: .refuse) } throws: { ($0 as? SystemError)?.errno == .tooManySymbolicLinkLevels }
        #expect(try Files.read(link, limit: 64) == Array("keep".utf8))
    }

    @Test func leftoversAreSweptAndNothingElse() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func file(_ name: String, age: Int) throws {
            let path = try directory.file(name, contents: [1])
            var times = [timespec(tv_sec: time(nil) - age, tv_nsec: 0), timespec(tv_sec: time(nil) - age, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        try file("multus", age: 0)
        try file(".multus.tmp-0123456789abcdef", age: 3600)  // ours, an hour old
        try file(".00-multus.conf.tmp-fedcba9876543210", age: 3600)
        try file(".multus.tmp-00000000000000aa", age: 60)  // a write in progress
        try file("multus.tmp1", age: 3600)  // an older version's, beside the file it replaced
        try file("other.tmp1", age: 3600)  // not beside an "other": someone else's
        try file(".multus.tmp-0123456789ABCDEF", age: 3600)  // not our spelling
        try file("notes.tmp-0123456789abcdef", age: 3600)
        let removed = TemporaryFile.sweep(directory.path)
        #expect(removed.sorted() == [".00-multus.conf.tmp-fedcba9876543210", ".multus.tmp-0123456789abcdef", "multus.tmp1"])
        #expect(directoryEntries(directory.path).sorted() == [".multus.tmp-00000000000000aa", ".multus.tmp-0123456789ABCDEF", "multus",
                                                             "notes.tmp-0123456789abcdef", "other.tmp1"])
    }
}
