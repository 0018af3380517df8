import CNIExec
import Glibc
import Synchronization
import System
import Testing
import TestSupport

/// Results handed back from threads.
private final class Outcomes: Sendable {
    let storage = Mutex<[Int: Result<ExecOutput, ExecError>]>([:])

    func record(_ index: Int, _ outcome: Result<ExecOutput, ExecError>) {
        storage.withLock { $0[index] = outcome }
    }

    subscript(index: Int) -> Result<ExecOutput, ExecError>? { storage.withLock { $0[index] } }
}

@Suite("PosixSpawnExecutor.run: concurrency and process hygiene")
struct PosixSpawnExecutorConcurrencyTests {
    let executor = PosixSpawnExecutor()

    /// 100 OS threads spawn at once, each with its own stdin (larger than a pipe buffer, so the
    /// poll loops interleave) and its own environment. Any pipe end leaking into a sibling's child
    /// would cross-wire output or hold a pipe open (hang until timeout); neither may happen.
    @Test("100 simultaneous runs each get exactly their own output back")
    func hundredInParallel() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", #"cat; printf 'run %s' "$RUN_ID" >&2"#)
        let executor = self.executor
        let outcomes = Outcomes()
        let gate = StartGate()
        let count = 100

        let threads = (0..<count).map { index in
            System.Thread {
                let input = patternBytes(count: 100_000 + index, seed: UInt64(index))
                gate.wait()
                outcomes.record(index, Result { () throws(ExecError) -> ExecOutput in
                    try executor.run(plugin, stdin: input, environment: ["PATH=/usr/bin:/bin", "RUN_ID=\(index)"], timeout: .seconds(60))
                })
            }
        }
        gate.open()
        threads.forEach { $0.join() }

        for index in 0..<count {
            let expected = ExecOutput(
                termination: .exited(0),
                stdout: patternBytes(count: 100_000 + index, seed: UInt64(index)),
                stderr: bytes("run \(index)")
            )
            #expect(outcomes[index] == .success(expected), "run \(index) got something else back")
        }
    }

    /// The plugin's own descriptors, as /proc shows them (listed by `ls`, so the shell opens
    /// nothing extra): 0-2 must be three distinct pipes, and nothing above 2 may be a pipe or a
    /// socket: not a concurrent run's (CLOEXEC), and not one this test process inherited from
    /// whatever started it (closefrom in the child). Five runs start together behind a gate and
    /// each first reads 200 KB of stdin, so every spawn happens while the others hold their pipes.
    @Test("the plugin has its three pipes and no other pipe or socket", arguments: 0..<5)
    func noSiblingPipes(round: Int) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "cat >/dev/null; ls -l /proc/$$/fd/")
        let executor = self.executor
        let outcomes = Outcomes()
        let gate = StartGate()
        let count = 5
        let threads = (0..<count).map { index in
            System.Thread {
                let input = patternBytes(count: 200_000, seed: UInt64(index))
                gate.wait()
                outcomes.record(index, Result { () throws(ExecError) -> ExecOutput in
                    try executor.run(plugin, stdin: input, environment: ["PATH=/usr/bin:/bin"], timeout: .seconds(30))
                })
            }
        }
        gate.open()
        threads.forEach { $0.join() }

        for index in 0..<count {
            let output = try #require(try outcomes[index]?.get(), "run \(index) never finished")
            #expect(output.termination == .exited(0), "run \(index): \(text(output.stderr))")
            let descriptors = linkListing(text(output.stdout))
            #expect((0...2).map { descriptors[$0]?.hasPrefix("pipe:") } == [true, true, true], "run \(index): \(descriptors)")
            #expect(Set([descriptors[0], descriptors[1], descriptors[2]]).count == 3, "run \(index): \(descriptors)")
            for (fd, target) in descriptors where fd > 2 {
                #expect(!target.hasPrefix("pipe:") && !target.hasPrefix("socket:"), "run \(index): fd \(fd) -> \(target) leaked into the plugin")
            }
        }
    }

    /// The calling thread's signal mask is not the plugin's business: spawn from a thread that
    /// blocks SIGTERM and SIGUSR1, and read the child's masks from /proc.
    @Test("the plugin starts with no blocked signals and SIGPIPE not ignored")
    func signalMaskReset() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec grep -E '^Sig(Blk|Ign):' /proc/self/status")
        let executor = self.executor
        let outcomes = Outcomes()

        // Its own thread, never the test's: it changes the thread's signal mask.
        let thread = try System.Thread.dedicated {
            var blocked = sigset_t()
            sigemptyset(&blocked)
            sigaddset(&blocked, SIGTERM)
            sigaddset(&blocked, SIGUSR1)
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            outcomes.record(0, Result { () throws(ExecError) -> ExecOutput in
                try executor.run(plugin, stdin: [], environment: ["PATH=/usr/bin:/bin"], timeout: .seconds(30))
            })
        }
        thread.join()

        let output = try #require(try outcomes[0]?.get())
        var masks: [String: UInt64] = [:]
        for line in text(output.stdout).split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == "\t" || $0 == " " })
            if parts.count == 2 { masks[String(parts[0])] = UInt64(parts[1], radix: 16) }
        }
        #expect(masks["SigBlk"] == 0)
        let ignored = try #require(masks["SigIgn"])
        #expect(ignored & (1 << (SIGPIPE - 1)) == 0)
    }

    /// A plugin binary being replaced (opened for writing) makes execve fail with ETXTBSY; libcni
    /// retries and so must we. The writer closes after ~50 ms, well inside the ~635 ms of backoff.
    @Test("ETXTBSY is retried until the writer goes away")
    func retriesTextBusy() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "echo ran")
        let writer = open(plugin, O_WRONLY | O_CLOEXEC)
        try #require(writer >= 0)
        let closer = System.Thread {
            usleep(50_000)
            close(writer)
        }
        defer { closer.join() }

        let output = try executor.run(plugin, stdin: [], environment: [], timeout: .seconds(30))

        #expect(output == ExecOutput(termination: .exited(0), stdout: bytes("ran\n")))
    }

    @Test("ETXTBSY that outlasts the backoff is reported as spawnFailed(ETXTBSY)")
    func textBusyGivesUp() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "echo ran")
        let writer = open(plugin, O_WRONLY | O_CLOEXEC)
        try #require(writer >= 0)
        defer { close(writer) }

        let (_, took) = elapsed {
            #expect(throws: ExecError.spawnFailed(path: plugin, errno: .textFileBusy)) {
                try executor.run(plugin, stdin: [], environment: [], timeout: .seconds(30))
            }
        }

        // 5 + 10 + 20 + 40 + 80 + 160 + 320 ms of backoff before giving up.
        #expect(took >= .milliseconds(600))
        #expect(took < .seconds(5))
    }
}

/// Holds threads back until all have been created, so the runs really overlap.
private final class StartGate: Sendable {
    private let opened = Atomic<Bool>(false)

    func open() { opened.store(true, ordering: .releasing) }

    func wait() {
        while !opened.load(ordering: .acquiring) { usleep(100) }
    }
}

/// `fd -> target` pairs from `ls -l` of a /proc/<pid>/fd directory.
private func linkListing(_ listing: String) -> [Int: String] {
    var result: [Int: String] = [:]
    for line in listing.split(separator: "\n") {
        let halves = line.split(separator: " -> ", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count == 2, let fd = halves[0].split(separator: " ").last.flatMap({ Int($0) }) else { continue }
        result[fd] = String(halves[1])
    }
    return result
}

