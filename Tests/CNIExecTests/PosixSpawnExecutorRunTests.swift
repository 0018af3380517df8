import CNIExec
import Glibc
import System
import Testing
import TestSupport

/// The environment most plugins here run with: enough for /bin/sh to find cat, head, sleep.
private let pathOnly = ["PATH=/usr/bin:/bin"]
private let generous = Duration.seconds(30)

@Suite("PosixSpawnExecutor.run: output and exit status")
struct PosixSpawnExecutorOutputTests {
    let executor = PosixSpawnExecutor()

    @Test("stdout and stderr are captured separately")
    func separatesStdoutAndStderr() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", #"printf 'to stdout\n'; printf 'to stderr\n' >&2; printf 'more stdout'"#)

        let output = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        #expect(output == ExecOutput(termination: .exited(0), stdout: bytes("to stdout\nmore stdout"), stderr: bytes("to stderr\n")))
        #expect(output.succeeded)
    }

    @Test("a non-zero exit is a result, with the output still captured", arguments: [1, 2, 42, 127, 255] as [Int32])
    func nonZeroExitIsAResult(code: Int32) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "echo '{\"code\": 7}'; echo oops >&2; exit \(code)")

        let output = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        #expect(output.termination == .exited(code))
        #expect(!output.succeeded)
        #expect(text(output.stdout) == "{\"code\": 7}\n")
        #expect(text(output.stderr) == "oops\n")
    }

    @Test("death by signal is reported as .signaled", arguments: [SIGTERM, SIGKILL, SIGUSR1])
    func killedBySignal(signal: Int32) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "echo partial; kill -\(signal) $$; exit 0")

        let output = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        #expect(output.termination == .signaled(signal))
        #expect(text(output.stdout) == "partial\n")
    }

    /// The executor ignores SIGPIPE for itself; the child must get the default back, or a shell
    /// (which cannot un-ignore a signal ignored on entry) would survive `kill -PIPE`.
    @Test("the plugin gets SIGPIPE at its default disposition")
    func sigpipeIsDefaultInChild() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "kill -PIPE $$; exit 3")

        let output = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        #expect(output.termination == .signaled(SIGPIPE))
    }

    @Test("a plugin that writes to a closed pipe dies quietly of SIGPIPE, as usual")
    func pipelinesInsideThePluginBehave() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        // With SIGPIPE ignored, `yes` would see EPIPE and complain on stderr instead.
        let plugin = try sandbox.script("plugin", "yes | head -n 2")

        let output = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        #expect(output == ExecOutput(termination: .exited(0), stdout: bytes("y\ny\n"), stderr: []))
    }

    @Test("the plugin's argv[0] is its path and it has no other arguments")
    func argv() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", #"printf '%s|%s' "$0" "$#""#)

        let output = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        #expect(text(output.stdout) == plugin + "|0")
    }

    @Test("a normally exiting plugin is reaped before run returns")
    func reapsChild() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pid")
        let plugin = try sandbox.script("plugin", "echo $$ > '\(pidFile)'; exit 0")

        _ = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)

        let pids = readPIDs(pidFile)
        try #require(pids.count == 1)
        #expect(probeProcess(pids[0]) == ESRCH)
    }

    @Test("a plugin that closes stdout and stderr early is still waited for")
    func waitsAfterOutputsClose() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "echo early; exec >&- 2>&-; sleep 0.3; exit 5")

        let (output, took) = try elapsed { try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous) }

        #expect(output == ExecOutput(termination: .exited(5), stdout: bytes("early\n")))
        #expect(took >= .milliseconds(250))
    }
}

@Suite("PosixSpawnExecutor.run: stdin")
struct PosixSpawnExecutorStdinTests {
    let executor = PosixSpawnExecutor()

    @Test("stdin arrives byte for byte, NULs included", arguments: [0, 1, 4095, 65536, 65537, (1 << 20) + 17])
    func stdinDeliveredExactly(count: Int) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec cat")
        let input = patternBytes(count: count, seed: UInt64(count))

        let output = try executor.run(plugin, stdin: input, environment: pathOnly, timeout: generous)

        #expect(output.termination == .exited(0))
        #expect(output.stdout.count == input.count)
        #expect(output.stdout == input)
    }

    @Test("stdin is closed after the last byte, so the plugin sees EOF")
    func stdinReachesEOF() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec wc -c")

        let empty = try executor.run(plugin, stdin: [], environment: pathOnly, timeout: generous)
        let large = try executor.run(plugin, stdin: patternBytes(count: 3 << 20, seed: 3), environment: pathOnly, timeout: generous)

        #expect(text(empty.stdout) == "0\n")
        #expect(text(large.stdout) == "\(3 << 20)\n")
    }

    @Test("a plugin that exits without reading a large stdin neither kills us with SIGPIPE nor hangs")
    func pluginIgnoresStdin() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let exitsAtOnce = try sandbox.script("exits", "exit 4")
        let answersAtOnce = try sandbox.script("answers", "echo '{}'")
        let closesStdin = try sandbox.script("closes", "exec <&-; sleep 0.1; echo closed")
        let input = patternBytes(count: 8 << 20, seed: 8)

        let (outputs, took) = try elapsed {
            [
                try executor.run(exitsAtOnce, stdin: input, environment: pathOnly, timeout: .seconds(20)),
                try executor.run(answersAtOnce, stdin: input, environment: pathOnly, timeout: .seconds(20)),
                try executor.run(closesStdin, stdin: input, environment: pathOnly, timeout: .seconds(20)),
            ]
        }

        #expect(outputs == [
            ExecOutput(termination: .exited(4), stdout: []),
            ExecOutput(termination: .exited(0), stdout: bytes("{}\n")),
            ExecOutput(termination: .exited(0), stdout: bytes("closed\n")),
        ])
        #expect(took < .seconds(10))
    }

    @Test("a plugin writing over 64 KiB to stdout and stderr before reading stdin does not deadlock")
    func writesBeforeReading() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", """
            head -c 300000 /dev/zero | tr '\\0' o
            head -c 200000 /dev/zero | tr '\\0' e >&2
            exec cat
            """)
        var executor = self.executor
        executor.stderrLimit = 1 << 20
        let input = patternBytes(count: (1 << 20) + 5, seed: 42)

        let output = try executor.run(plugin, stdin: input, environment: pathOnly, timeout: generous)

        #expect(output.termination == .exited(0))
        #expect(output.stdout.count == 300_000 + input.count)
        #expect(output.stdout.prefix(300_000).allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(Array(output.stdout.dropFirst(300_000)) == input)
        #expect(output.stderr == [UInt8](repeating: UInt8(ascii: "e"), count: 200_000))
    }

    /// A shell plugin that logs everything to a file (`exec >log 2>&1`) and then reads its config.
    /// Once stdout and stderr are at EOF the poll loop ends, and with it the feeding of stdin; the
    /// stdin pipe is only closed by `closeAll` after `wait`, so the plugin blocks reading the rest
    /// of stdin until the deadline kills it.
    @Test("stdin keeps flowing after the plugin has closed its stdout and stderr")
    func stdinAfterOutputsClosed() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let copy = sandbox.pathOf("copy")
        let plugin = try sandbox.script("plugin", "exec >'\(copy)' 2>&1; exec cat")
        let input = patternBytes(count: 256 << 10, seed: 256)

        let output = try executor.run(plugin, stdin: input, environment: pathOnly, timeout: .seconds(2))
        #expect(output.termination == .exited(0))
        #expect(readWholeFile(copy) == input)
    }
}

@Suite("PosixSpawnExecutor.run: environment")
struct PosixSpawnExecutorEnvironmentTests {
    let executor = PosixSpawnExecutor()

    /// What `env -0` printed, minus what dash adds of its own accord (it exports PWD).
    private func childEnvironment(_ environment: [String]) throws -> [String] {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec /usr/bin/env -0")
        let output = try executor.run(plugin, stdin: [], environment: environment, timeout: generous)
        #expect(output.termination == .exited(0))
        let shellAdded = ["PWD=", "OLDPWD=", "SHLVL=", "_="]
        return output.stdout.split(separator: 0).map { text(Array($0)) }
            .filter { entry in !shellAdded.contains { entry.hasPrefix($0) } }
    }

    @Test("the plugin sees exactly the variables passed, nothing inherited")
    func exactlyThePassedVariables() throws {
        let passed = [
            "CNI_COMMAND=ADD",
            "CNI_CONTAINERID=abc123",
            "CNI_NETNS=/var/run/netns/x",
            "CNI_IFNAME=net1",
            "CNI_ARGS=K8S_POD_NAME=web;K8S_POD_NAMESPACE=default",
            "CNI_PATH=/opt/cni/bin:/usr/libexec/cni",
            "WITH_SPACES=a b  c",
            "MULTI_LINE=line one\nline two",
            "EMPTY=",
        ]

        let seen = try childEnvironment(passed)

        #expect(seen.sorted() == passed.sorted())
        #expect(!seen.contains { $0.hasPrefix("PATH=") })
        #expect(!seen.contains { $0.hasPrefix("HOME=") })
    }

    @Test("an empty environment stays empty")
    func emptyEnvironment() throws {
        #expect(try childEnvironment([]) == [])
    }

    @Test("PATH and HOME are present exactly when passed")
    func pathAndHomeWhenPassed() throws {
        let passed = ["PATH=/nonexistent/bin:/usr/bin", "HOME=/nonexistent/home"]
        #expect(try childEnvironment(passed).sorted() == passed.sorted())
    }

    /// Every variable of this test process (none set by the test: nothing here calls setenv)
    /// must be absent in the child unless passed.
    @Test("none of the test process's own variables leak into the plugin")
    func nothingInheritedFromThisProcess() throws {
        var ours: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            ours.append(String(cString: entry))
            cursor += 1
        }
        let names = Set(ours.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })

        let seen = try childEnvironment(["ONLY_THIS=1"])

        #expect(seen == ["ONLY_THIS=1"])
        for name in names where name != "PWD" && name != "ONLY_THIS" {
            #expect(!seen.contains { $0.hasPrefix(name + "=") }, "\(name) leaked into the plugin")
        }
    }
}

@Suite("PosixSpawnExecutor.run: deadlines")
struct PosixSpawnExecutorTimeoutTests {
    let executor = PosixSpawnExecutor()

    @Test("a plugin that overruns its timeout is killed, reaped, and reported promptly")
    func timeoutKillsAndReaps() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pid")
        // exec: the pid written is the sleep itself, so no orphan is left behind.
        let plugin = try sandbox.script("plugin", "echo $$ > '\(pidFile)'; exec sleep 30")

        let (_, took) = elapsed {
            #expect(throws: ExecError.timedOut(path: plugin, after: .milliseconds(300))) {
                try executor.run(plugin, stdin: [], environment: pathOnly, timeout: .milliseconds(300))
            }
        }

        #expect(took >= .milliseconds(300))
        #expect(took < .seconds(5))
        let pids = readPIDs(pidFile)
        try #require(pids.count == 1, "the plugin did not record its pid in time")
        #expect(probeProcess(pids[0]) == ESRCH, "the timed-out plugin is still alive or a zombie")
    }

    @Test("the timeout still fires when the plugin has closed its output (the wait phase)")
    func timeoutWhileWaiting() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pid")
        let plugin = try sandbox.script("plugin", "echo $$ > '\(pidFile)'; exec >&- 2>&- sleep 30")

        let (_, took) = elapsed {
            #expect(throws: ExecError.timedOut(path: plugin, after: .milliseconds(300))) {
                try executor.run(plugin, stdin: [], environment: pathOnly, timeout: .milliseconds(300))
            }
        }

        #expect(took < .seconds(5))
        let pids = readPIDs(pidFile)
        try #require(pids.count == 1)
        #expect(probeProcess(pids[0]) == ESRCH)
    }

    @Test("a grandchild holding stdout open does not stall run past its timeout")
    func grandchildHoldingStdout() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pids")
        // The background sleep inherits stdout and stderr; the plugin itself exits at once.
        let plugin = try sandbox.script("plugin", "sleep 30 & echo $$ $! > '\(pidFile)'; echo '{}'; exit 0")

        let (_, took) = elapsed {
            #expect(throws: ExecError.timedOut(path: plugin, after: .milliseconds(500))) {
                try executor.run(plugin, stdin: [], environment: pathOnly, timeout: .milliseconds(500))
            }
        }

        let pids = readPIDs(pidFile)
        if pids.count == 2 { kill(pids[1], SIGKILL) }  // the orphaned sleep is ours to clean up
        #expect(took < .seconds(5))
        try #require(pids.count == 2)
        #expect(probeProcess(pids[0]) == ESRCH, "the plugin itself was not reaped")
    }

    /// The IPAM plugin a delegate runs, and the iptables that runs in turn, stand here as two
    /// background sleeps in separate generations; the plugin itself just waits.
    @Test("at the deadline the plugin's whole process group is killed: what it started dies with it")
    func timeoutKillsTheProcessGroup() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pids")
        let plugin = try sandbox.script("plugin", "sh -c 'sleep 30 & echo $$ $! >> \(pidFile); wait' & sleep 30")

        #expect(throws: ExecError.timedOut(path: plugin, after: .milliseconds(500))) {
            try executor.run(plugin, stdin: [], environment: pathOnly, timeout: .milliseconds(500))
        }

        let descendants = readPIDs(pidFile)
        defer { descendants.forEach { kill($0, SIGKILL) } }
        try #require(descendants.count == 2, "the plugin did not start its children in time")
        // SIGKILL takes effect when each process next runs: give the scheduler a moment.
        for pid in descendants { #expect(isGone(pid, within: .seconds(2)), "pid \(pid), started by the plugin, outlived its timeout") }
    }

    /// A process stuck in the kernel (D state) does not die of SIGKILL until the kernel lets it
    /// go. A signal that does not end the plugin stands for that here: the call must come back
    /// after the grace, name the process it left behind, and not wait for it.
    @Test("a plugin that does not die when killed is left behind after the grace, and named")
    func anUnkillablePluginIsLeftBehind() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pid")
        let plugin = try sandbox.script("plugin", "echo $$ > '\(pidFile)'; exec sleep 30")
        var stubborn = executor
        stubborn.killSignal = SIGCONT
        stubborn.killGrace = .milliseconds(300)

        let (thrown, took) = elapsed {
            #expect(throws: ExecError.self) { try stubborn.run(plugin, stdin: [], environment: pathOnly, timeout: .milliseconds(300)) }
        }
        let pids = readPIDs(pidFile)
        defer { pids.forEach { kill($0, SIGKILL); waitpid($0, nil, 0) } }
        try #require(pids.count == 1)
        #expect(thrown == ExecError.notReaped(path: plugin, after: .milliseconds(300), pid: pids[0], grace: .milliseconds(300)))
        #expect(took < .seconds(5), "waited \(took) for a process that does not die")
        #expect(probeProcess(pids[0]) == 0, "the stand-in for a stuck process is still there")
    }

    @Test("a zero timeout kills the plugin at once")
    func zeroTimeout() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec sleep 30")

        let (_, took) = elapsed {
            #expect(throws: ExecError.timedOut(path: plugin, after: .zero)) {
                try executor.run(plugin, stdin: [], environment: pathOnly, timeout: .zero)
            }
        }
        #expect(took < .seconds(5))
    }

    /// Runs a quick plugin with a timeout of `seconds` in a child process (an exit test), so a
    /// crash is observed rather than taking the test run down. The sandbox is made and removed
    /// here, in the parent, so it is cleaned up even when the child crashes.
    private func quickRunSurvives(timeoutSeconds seconds: Int64) async throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "echo ok")
        await #expect(processExitsWith: .success) { [plugin = plugin as String, seconds = seconds as Int64] in
            let output = try PosixSpawnExecutor().run(plugin, stdin: [], environment: [], timeout: .seconds(seconds))
            if output != ExecOutput(termination: .exited(0), stdout: Array("ok\n".utf8)) { exit(1) }
        }
    }

    @Test("a timeout of decades is accepted")
    func longTimeout() async throws {
        try await quickRunSurvives(timeoutSeconds: 1_000_000_000)
    }

    /// `Duration.milliseconds` (PosixSpawnExecutor.swift) computes `components.seconds * 1000`,
    /// which overflows before `Int32(clamping:)` can clamp it for any timeout above ~292 million
    /// years: a caller meaning "no timeout" with `.seconds(Int64.max)` crashes the process.
    @Test("a huge timeout means 'effectively none' rather than a crash")
    func hugeTimeout() async throws {
        try await quickRunSurvives(timeoutSeconds: .max)
    }
}

@Suite("PosixSpawnExecutor.run: output limits")
struct PosixSpawnExecutorLimitTests {
    let executor = PosixSpawnExecutor()

    @Test("stdout up to stdoutLimit is accepted")
    func stdoutAtLimit() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec cat")
        var executor = self.executor
        executor.stdoutLimit = 1000
        let input = patternBytes(count: 1000, seed: 1000)

        let output = try executor.run(plugin, stdin: input, environment: pathOnly, timeout: generous)

        #expect(output.stdout == input)
    }

    @Test("stdout beyond stdoutLimit is refused, and the plugin is still reaped", arguments: [1001, 5000, 1 << 20])
    func stdoutOverLimit(count: Int) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.pathOf("pid")
        let plugin = try sandbox.script("plugin", "echo $$ > '\(pidFile)'; exec cat")
        var executor = self.executor
        executor.stdoutLimit = 1000

        #expect(throws: ExecError.outputTooLarge(path: plugin, limit: 1000)) {
            try executor.run(plugin, stdin: patternBytes(count: count, seed: 7), environment: pathOnly, timeout: generous)
        }
        let pids = readPIDs(pidFile)
        try #require(pids.count == 1)
        #expect(probeProcess(pids[0]) == ESRCH)
    }

    /// Endless stdout: no result is that large, so the plugin is killed the moment it passes the
    /// limit instead of burning CPU until its deadline.
    @Test("endless stdout is stopped as soon as it passes the limit")
    func endlessStdout() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "exec cat /dev/zero")
        var executor = self.executor
        executor.stdoutLimit = 1000

        let (error, took) = elapsed {
            #expect(throws: ExecError.self) {
                try executor.run(plugin, stdin: [], environment: pathOnly, timeout: .milliseconds(500))
            }
        }

        #expect(error == .outputTooLarge(path: plugin, limit: 1000))
        #expect(took < .milliseconds(500))
    }

    @Test("stderr beyond stderrLimit keeps its tail and does not fail the call")
    func stderrKeepsTail() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let plugin = try sandbox.script("plugin", "cat >&2; echo result")
        var executor = self.executor
        executor.stderrLimit = 1000
        let input = patternBytes(count: 200_000, seed: 99)

        let output = try executor.run(plugin, stdin: input, environment: pathOnly, timeout: generous)

        #expect(output.termination == .exited(0))
        #expect(text(output.stdout) == "result\n")
        #expect(output.stderr == Array(input.suffix(1000)))
    }

    @Test("the default limits: 16 MiB of stdout, 64 KiB of stderr")
    func defaults() {
        #expect(executor.stdoutLimit == 16 << 20)
        #expect(executor.stderrLimit == 64 << 10)
    }
}

@Suite("PosixSpawnExecutor.run: spawn failures")
struct PosixSpawnExecutorSpawnFailureTests {
    let executor = PosixSpawnExecutor()

    @Test("a path that does not exist fails with ENOENT")
    func missingFile() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let path = sandbox.pathOf("absent")

        #expect(throws: ExecError.spawnFailed(path: path, errno: .noSuchFileOrDirectory)) {
            try executor.run(path, stdin: bytes("{}"), environment: [], timeout: generous)
        }
    }

    @Test("a file without execute permission fails with EACCES")
    func notExecutable() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let path = try sandbox.script("plugin", "echo should not run", mode: 0o644)

        #expect(throws: ExecError.spawnFailed(path: path, errno: .permissionDenied)) {
            try executor.run(path, stdin: [], environment: [], timeout: generous)
        }
    }

    @Test("a directory fails with EACCES")
    func directory() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let path = try sandbox.directory("plugin")

        #expect(throws: ExecError.spawnFailed(path: path, errno: .permissionDenied)) {
            try executor.run(path, stdin: [], environment: [], timeout: generous)
        }
    }

    @Test("a script whose interpreter is missing fails with ENOENT")
    func missingInterpreter() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let path = try sandbox.file("plugin", contents: bytes("#!/nonexistent/interpreter\n"), mode: 0o755)

        #expect(throws: ExecError.spawnFailed(path: path, errno: .noSuchFileOrDirectory)) {
            try executor.run(path, stdin: [], environment: [], timeout: generous)
        }
    }

    @Test("error descriptions name the path and the cause")
    func descriptions() {
        #expect(ExecError.spawnFailed(path: "/opt/cni/bin/bridge", errno: .noSuchFileOrDirectory).description
            == "could not start /opt/cni/bin/bridge: No such file or directory (errno \(ENOENT))")
        #expect(ExecError.outputTooLarge(path: "/x", limit: 10).description == "/x wrote more than 10 bytes to stdout")
        #expect(ExecError.notFound(type: "bridge", searched: []).description
            == "plugin \"bridge\" not found in (no directories: set binDir or CNI_PATH)")
        #expect(ExecError.notFound(type: "bridge", searched: ["/a", "/b"]).description == "plugin \"bridge\" not found in /a, /b")
    }
}
