import Glibc
import Synchronization
import System
import Testing

@Suite("Threads")
struct ThreadTests {
    /// Work that must not run on the caller's thread (it enters a namespace) gets one of its own.
    @Test func dedicatedWorkRunsOnAnotherThreadAndIsJoined() throws {
        let caller = pthread_self()
        let ranOn = Mutex<pthread_t?>(nil)
        let thread = try System.Thread.dedicated {
            Clock.sleep(for: .milliseconds(20))
            ranOn.withLock { $0 = pthread_self() }
        }
        thread.join()
        let worker = try #require(ranOn.withLock { $0 })
        #expect(pthread_equal(worker, caller) == 0)
    }

    @Test func threadsRunSideBySide() {
        let arrived = Atomic<Int>(0)
        let started = ContinuousClock.now
        let threads = (0..<3).map { _ in
            System.Thread {
                arrived.add(1, ordering: .sequentiallyConsistent)
                // Each waits for all three: only threads running at once get past this.
                let deadline = ContinuousClock.now + .seconds(2)
                while arrived.load(ordering: .sequentiallyConsistent) < 3 && ContinuousClock.now < deadline {
                    Clock.sleep(for: .milliseconds(1))
                }
            }
        }
        threads.forEach { $0.join() }
        #expect(arrived.load(ordering: .sequentiallyConsistent) == 3)
        #expect(ContinuousClock.now - started < .milliseconds(1500), "one after another, each would wait out its 2 s")
        threads.forEach { $0.join() }  // a second join returns at once
    }
}
