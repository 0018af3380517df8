import Glibc
import Synchronization
@testable import System
import Testing

@Suite("Errno and the EINTR policy")
struct ErrnoTests {
    @Test(arguments: [
        (Errno.notPermitted, EPERM), (.noSuchFileOrDirectory, ENOENT), (.noSuchProcess, ESRCH), (.interrupted, EINTR),
        (.ioError, EIO), (.badFileDescriptor, EBADF), (.noChildProcess, ECHILD), (.resourceTemporarilyUnavailable, EAGAIN),
        (.permissionDenied, EACCES), (.fileExists, EEXIST), (.noSuchDevice, ENODEV), (.invalidArgument, EINVAL),
        (.textFileBusy, ETXTBSY), (.fileTooLarge, EFBIG), (.brokenPipe, EPIPE), (.tooManySymbolicLinkLevels, ELOOP),
        (.protocolError, EPROTO), (.messageTooLong, EMSGSIZE), (.connectionReset, ECONNRESET),
        (.connectionRefused, ECONNREFUSED), (.nowInProgress, EINPROGRESS), (.timedOut, ETIMEDOUT),
    ])
    func namedMembersAreLibcsNumbers(errno: Errno, number: Int32) {
        #expect(errno.rawValue == number)
        #expect(errno.description == String(cString: strerror(number)))
    }

    /// A blocking read that a signal interrupts is made again, and returns what then arrives.
    @Test func aReadASignalInterruptsIsMadeAgain() throws {
        let outcome = try interruptedCall { input throws(SystemError) in
            var buffer = [UInt8](repeating: 0, count: 8)
            return try input.read(into: &buffer)
        }
        #expect(outcome == .success(1))
    }

    /// A wait (poll, as for a socket) that signals interrupt goes on waiting for what is left of
    /// the deadline: TLSConnection once reported the EINTR of such a wait as a failure.
    @Test func aWaitASignalInterruptsGoesOnWaiting() throws {
        let outcome = try interruptedCall { input throws(SystemError) in try Poll.wait(input, for: .readable, until: .now + .seconds(10)) }
        #expect(outcome == .success(true))
    }
}

/// What `call` returned on the read end of a pipe while signals interrupted it, once a byte
/// arrived (see `interruptedWhileBlocked`).
private func interruptedCall<T: Sendable>(_ call: @escaping @Sendable (FileDescriptor) throws(SystemError) -> T) throws
    -> Result<T, SystemError>? {
    var fds: [Int32] = [-1, -1]
    try #require(pipe(&fds) == 0)
    let (input, output) = (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    defer { input.close() }
    let outcome = Mutex<Result<T, SystemError>?>(nil)
    let thread = interruptedWhileBlocked {
        let result = Result { () throws(SystemError) in try call(input) }
        outcome.withLock { $0 = result }
    }
    try output.writeAll([42])
    output.close()
    thread.join()
    return outcome.withLock { $0 }
}

/// Runs `body` on a thread of its own, then sends that thread SIGUSR2 several times while it
/// blocks. The handler does nothing and is installed without SA_RESTART, so each signal makes
/// a blocked call fail with EINTR; only SystemTests use SIGUSR2.
private func interruptedWhileBlocked(_ body: @escaping @Sendable () -> Void) -> System.Thread {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in }
    action.sa_flags = 0
    sigaction(SIGUSR2, &action, nil)
    let id = Mutex<pthread_t?>(nil)
    let thread = System.Thread {
        // Threads inherit the test runner's mask, which blocks most signals.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        id.withLock { $0 = pthread_self() }
        body()
    }
    while id.withLock({ $0 }) == nil { Clock.sleep(for: .milliseconds(1)) }
    for _ in 0..<5 {
        Clock.sleep(for: .milliseconds(20))
        if let target = id.withLock({ $0 }) { pthread_kill(target, SIGUSR2) }
    }
    return thread
}
