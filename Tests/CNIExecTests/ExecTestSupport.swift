import Glibc
import TestSupport

// Helpers for the PosixSpawnExecutor tests: a per-test scratch directory of /bin/sh "plugins",
// a joinable pthread, and byte helpers. Nothing here touches the process environment, the
// working directory, or the process-wide signal state, so tests stay safe to run in parallel.

/// The PosixSpawnExecutor tests' plugins live in a throwaway directory.
typealias PluginSandbox = TemporaryDirectory




/// The pids a script wrote to a file (`echo $$ $! > file`), in order.
func readPIDs(_ path: String) -> [pid_t] {
    let text = String(decoding: readWholeFile(path) ?? [], as: UTF8.self)
    return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
}

/// 0 if `pid` exists (a zombie counts), else the errno of `kill(pid, 0)`: ESRCH once reaped.
func probeProcess(_ pid: pid_t) -> Int32 {
    kill(pid, 0) == 0 ? 0 : errno
}

/// Whether `pid` has exited: gone, or a zombie nobody has reaped yet (an orphan waits for init,
/// which in a container may never reap it).
func isGone(_ pid: pid_t, within patience: Duration) -> Bool {
    let deadline = ContinuousClock.now + patience
    while true {
        guard let stat = readWholeFile("/proc/\(pid)/stat") else { return true }
        let text = String(decoding: stat, as: UTF8.self)
        // "pid (comm) S ...": the state follows the last ')'.
        if let close = text.lastIndex(of: ")"), text[text.index(after: close)...].trimmingPrefix(" ").first == "Z" { return true }
        if ContinuousClock.now >= deadline { return false }
        usleep(10_000)
    }
}

/// `count` deterministic pseudo-random bytes (all 256 values occur, NULs included); different
/// seeds give different streams.
func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Time taken by `body`.
func elapsed<R>(_ body: () throws -> R) rethrows -> (R, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    return (result, start.duration(to: clock.now))
}

