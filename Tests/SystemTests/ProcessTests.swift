import Glibc
import System
import Testing

@Suite("Processes")
struct ProcessTests {
    @Test(arguments: [
        (Int32(0), ProcessTermination.exited(0)), (1 << 8, .exited(1)), (255 << 8, .exited(255)),
        (9, .signaled(9)), (15 | 0x80, .signaled(15)),
    ])
    func waitStatusesDecodeAsTheMacrosDo(status: Int32, termination: ProcessTermination) {
        #expect(ProcessTermination(waitStatus: status) == termination)
    }

    @Test func aChildsOutputIsCapturedAndItsExitWaitedFor() throws {
        var child = try PipedProcess.spawn("/bin/sh", environment: [])
        defer { child.end(signal: SIGKILL, grace: .seconds(2)) }
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        let end = child.exchange(stdin: Array("echo out; echo oops >&2; exit 3\n".utf8), stdout: &stdout,
                                 stdoutLimit: 1 << 20, stderr: &stderr, stderrLimit: 1 << 20, until: .now + .seconds(10))
        #expect(end == .finished)
        let termination = child.wait(until: .now + .seconds(10))
        #expect(termination == .exited(3))
        #expect(String(decoding: stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: stderr, as: UTF8.self) == "oops\n")
    }

    @Test func aChildThatOverrunsItsDeadlineIsKilled() throws {
        var child = try PipedProcess.spawn("/bin/sh", environment: [])
        defer { child.end(signal: SIGKILL, grace: .seconds(2)) }
        var stdout: [UInt8] = [], stderr: [UInt8] = []
        let end = child.exchange(stdin: Array("sleep 30 & sleep 30\n".utf8), stdout: &stdout, stdoutLimit: 16, stderr: &stderr,
                                 stderrLimit: 16, until: .now + .milliseconds(200))
        #expect(end == .deadlinePassed)
        let reaped = child.kill(signal: SIGKILL, grace: .seconds(5))
        #expect(reaped, "killed and reaped within the grace")
    }
}
