import CNI
import Synchronization
import System

/// The log of one invocation: lines filtered by level, redacted, then written to the log file
/// and kept for stderr. Made once per call and handed down; nothing here is process-global.
///
/// A log that cannot be written never fails the call: the first failure is kept for stderr and
/// the file is not tried again in this call.
public final class Logger: Sendable {
    public let settings: LogSettings
    private let file: LogFile?
    private let clock: @Sendable () -> WallClockTime
    private let state = Mutex<(stderr: [String], fileFailed: Bool)>(([], false))

    public init(_ settings: LogSettings, clock: @escaping @Sendable () -> WallClockTime = WallClockTime.now) {
        self.settings = settings
        file = settings.file.map { LogFile(path: $0, rotation: settings.rotation) }
        self.clock = clock
    }

    /// Whether lines of `level` are written: ask before building an expensive message.
    public func enables(_ level: LogLevel) -> Bool { level <= settings.level }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard enables(level) else { return }
        let line = Self.line(time: clock(), level: level, message: message())
        if settings.toStderr { state.withLock { $0.stderr.append(line) } }
        guard let file, !state.withLock({ $0.fileFailed }) else { return }
        do {
            try file.append(Array((line + "\n").utf8))
        } catch {
            state.withLock { state in
                if !state.fileFailed { state.stderr.append("multus: cannot write the log file: \(error); not logging to it in this call") }
                state.fileFailed = true
            }
        }
    }

    /// Lines for stderr, in order: log lines when `logToStderr` is on, and any log-file failure.
    public var stderrLines: [String] { state.withLock { $0.stderr } }

    /// `<RFC 3339 time> [<level>] <message>`, as Multus writes them, on one line whatever the
    /// message holds, with secrets taken out.
    public static func line(time: WallClockTime, level: LogLevel, message: String) -> String {
        "\(time.rfc3339) [\(level)] \(oneLine(Redaction.redact(message)))"
    }

    /// Line breaks and other control characters escaped, so one event is one line.
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
