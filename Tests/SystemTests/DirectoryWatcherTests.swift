import Glibc
import System
import Testing
import TestSupport

@Suite("Directory watcher")
struct DirectoryWatcherTests {
    @Test func changesStopAndTimeoutsWakeIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let watcher = DirectoryWatcher(directories: [directory.path], stop: FileDescriptor(rawValue: fds[0]))
        let notified = watcher.isNotified
        try #require(notified)
        let quiet = watcher.wait(timeout: .milliseconds(20))
        #expect(quiet == .timeout)
        try directory.file("token", contents: [1])
        let changed = watcher.wait(timeout: .seconds(5))
        #expect(changed == .changed)
        let drained = watcher.wait(timeout: .milliseconds(20))
        #expect(drained == .timeout, "one wake covers the burst")
        #expect(write(fds[1], "x", 1) == 1)
        let stopped = watcher.wait(timeout: .seconds(5))
        #expect(stopped == .stop)
    }
}
