import Logging
import Synchronization

/// Lines for stderr: what happened that did not fail the call but an operator should see.
/// Redacted as log lines are: a note quotes delegates' errors, which may quote their config.
public final class Diagnostics: Sendable {
    private let lines = Mutex<[String]>([])
    private let log: Logger?

    /// - Parameter log: where notes are also logged (at `verbose`).
    public init(log: Logger? = nil) { self.log = log }

    func note(_ line: String) {
        lines.withLock { $0.append(Redaction.redact(line)) }
        log?.log(.verbose, line)
    }

    /// A failure the call survives but an operator must act on: on stderr, and logged at `error`.
    func error(_ line: String) {
        lines.withLock { $0.append(line) }
        log?.log(.error, line)
    }

    public var all: [String] { lines.withLock { $0 } }
}
