import CNI
import Logging
import System
import Testing
import TestSupport

let fixedTime = WallClockTime(seconds: 1_796_395_483, nanoseconds: 123_000_000)  // 2026-12-04T14:44:43Z

@Suite("Log lines and levels")
struct LoggerTests {
    @Test("a line is the RFC 3339 time, the level in brackets, the message, on one line")
    func lineFormat() {
        #expect(Logger.line(time: fixedTime, level: .verbose, message: "ADD pod default/web-0: ok") == "2026-12-04T14:44:43Z [verbose] ADD pod default/web-0: ok")
        #expect(Logger.line(time: fixedTime, level: .error, message: "two\nlines\tand\u{1}") == #"2026-12-04T14:44:43Z [error] two\nlines\tand\u{1}"#)
    }

    @Test("each level writes its own lines and those before it", arguments: LogLevel.allCases)
    func levelFiltering(_ configured: LogLevel) {
        let log = Logger(LogSettings(level: configured), clock: { fixedTime })
        for level in LogLevel.allCases { log.log(level, "at \(level)") }
        let expected = LogLevel.allCases.filter { $0 <= configured }.map { "2026-12-04T14:44:43Z [\($0)] at \($0)" }
        #expect(log.stderrLines == expected)
    }

    @Test("logToStderr false keeps stderr empty")
    func noStderr() {
        let log = Logger(LogSettings(level: .debug, toStderr: false))
        log.log(.error, "x")
        #expect(log.stderrLines == [])
    }

    @Test("a message below the level is never built")
    func lazyMessages() {
        let log = Logger(LogSettings(level: .error))
        log.log(.debug, { () -> String in Issue.record("built"); return "" }())
        #expect(log.stderrLines == [])
    }

    @Test("a log file that cannot be opened fails nothing and is said once on stderr")
    func unopenableFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let notADirectory = try directory.file("plain", contents: [])
        let log = Logger(LogSettings(file: notADirectory + "/multus.log", level: .verbose, toStderr: false))
        log.log(.verbose, "one")
        log.log(.error, "two")
        #expect(log.stderrLines.count == 1)
        #expect(log.stderrLines.first?.contains("cannot write the log file") == true)
        #expect(log.stderrLines.first?.contains(notADirectory) == true)
    }
}

@Suite("Log settings")
struct LogSettingsTests {
    static func parse(_ text: String) throws(SpecError) -> LogSettings {
        let json: JSONValue
        do { json = try JSONValue.parse(Array(text.utf8)) } catch { throw .syntax(error) }
        return try LogSettings(JSONFields(json, path: ""))
    }

    @Test("Multus's defaults: no file, error, stderr on, 100 MB, 5 days, 5 backups, compressed")
    func defaults() throws {
        #expect(try Self.parse("{}") == LogSettings(file: nil, level: .error, toStderr: true,
                                                   rotation: .init(maxSizeMB: 100, maxAgeDays: 5, maxBackups: 5, compress: true)))
    }

    @Test("every key read")
    func everyKey() throws {
        let settings = try Self.parse(#"{"logFile":"/var/log/multus.log","logLevel":"Debug","logToStderr":false,"logOptions":{"maxSize":7,"maxAge":0,"maxBackups":2,"compress":false}}"#)
        #expect(settings == LogSettings(file: "/var/log/multus.log", level: .debug, toStderr: false,
                                        rotation: .init(maxSizeMB: 7, maxAgeDays: 0, maxBackups: 2, compress: false)))
    }

    @Test("mistakes name the key", arguments: [
        (#"{"logLevel":"info"}"#, "logLevel"), (#"{"logLevel":3}"#, "logLevel"), (#"{"logToStderr":"yes"}"#, "logToStderr"),
        (#"{"logOptions":{"maxSize":-1}}"#, "logOptions.maxSize"), (#"{"logOptions":{"compress":1}}"#, "logOptions.compress"),
        (#"{"logOptions":[]}"#, "logOptions"), (#"{"logFile":{}}"#, "logFile"),
    ])
    func mistakes(_ text: String, _ key: String) {
        #expect { try Self.parse(text) } throws: { error in
            guard case SpecError.invalidField(let path, _) = error else { return false }
            return path == key
        }
    }
}
