import CZlib
import System

/// The rotated copies of one log file, named as lumberjack names them so that tools written
/// for Multus's logs find them: `<dir>/<name>-<UTC time, 2006-01-02T15-04-05.000><ext>`, and
/// `.gz` after that when compressed.
struct LogBackups {
    let directory: String
    /// The log's name without its extension, then `-`.
    let prefix: String
    /// The log's extension, dot included (`.log`), or empty.
    let ext: String

    init(path: String) {
        let slash = path.lastIndex(of: "/")
        directory = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if let dot = base.lastIndex(of: "."), dot != base.startIndex {
            prefix = String(base[..<dot]) + "-"
            ext = String(base[dot...])
        } else {
            prefix = base + "-"
            ext = ""
        }
    }

    /// A backup name for `time` that no backup has yet (moved on by a millisecond while taken:
    /// two rotations within one millisecond must not overwrite each other).
    func unusedName(at time: WallClockTime) -> String {
        var milliseconds = time.unixNanoseconds / 1_000_000
        while true {
            let name = directory + "/" + prefix + Self.stamp(milliseconds: milliseconds) + ext
            if !Files.exists(name) && !Files.exists(name + ".gz") { return name }
            milliseconds += 1
        }
    }

    /// Removes backups beyond `maxBackups` (oldest first) and those older than `maxAge` days.
    /// A `maxAge` beyond the range of a timestamp keeps every backup (it used to overflow).
    func prune(keeping rotation: LogSettings.Rotation, now: WallClockTime) {
        let (age, overflow) = Int64(rotation.maxAgeDays).multipliedReportingOverflow(by: 86_400_000)
        let (start, underflow) = (now.unixNanoseconds / 1_000_000).subtractingReportingOverflow(age)
        let cutoff = overflow || underflow ? Int64.min : start
        for (index, backup) in list().enumerated()
        where (rotation.maxBackups > 0 && index >= rotation.maxBackups) || (rotation.maxAgeDays > 0 && backup.milliseconds < cutoff) {
            _ = try? Files.remove(directory + "/" + backup.name)
        }
    }

    /// gzips every backup not yet compressed; a backup that fails to compress stays as it is.
    func compressAll() {
        for backup in list() where !backup.name.hasSuffix(".gz") {
            let source = directory + "/" + backup.name
            if Self.gzip(source, to: source + ".gz") { _ = try? Files.remove(source) }
        }
    }

    struct Backup: Equatable {
        var name: String
        var milliseconds: Int64
    }

    /// Every backup in the directory, newest first.
    func list() -> [Backup] {
        var found: [Backup] = []
        for name in (try? Files.list(directory)) ?? [] {
            if let milliseconds = timestamp(of: name) { found.append(Backup(name: name, milliseconds: milliseconds)) }
        }
        return found.sorted { ($0.milliseconds, $0.name) > ($1.milliseconds, $1.name) }
    }

    /// The time in a backup's name, or nil when `name` is not one of this log's backups.
    func timestamp(of name: String) -> Int64? {
        guard name.hasPrefix(prefix) else { return nil }
        var rest = name.dropFirst(prefix.count)
        if rest.hasSuffix(".gz") { rest = rest.dropLast(3) }
        guard rest.hasSuffix(ext) else { return nil }
        return Self.parseStamp(String(rest.dropLast(ext.count)))
    }

    /// `2006-01-02T15-04-05.000` in UTC.
    static func stamp(milliseconds: Int64) -> String {
        guard let utc = WallClockTime(seconds: milliseconds / 1000).utc else { return "1970-01-01T00-00-00.000" }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(utc.year, 4))-\(pad(utc.month, 2))-\(pad(utc.day, 2))T"
            + "\(pad(utc.hour, 2))-\(pad(utc.minute, 2))-\(pad(utc.second, 2)).\(pad(Int(milliseconds % 1000), 3))"
    }

    static func parseStamp(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 23 else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int32(byte - 0x30)
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, "-"), (16, "-"), (19, ".")]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue }),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19), let millis = number(20..<23),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let utc = UTCTime(year: Int(year), month: Int(month), day: Int(day), hour: Int(hour), minute: Int(minute), second: Int(second))
        return WallClockTime(utc: utc).seconds * 1000 + Int64(millis)
    }

    /// Compresses `source` into `target` (created 0600), at zlib's fastest level: rotation runs
    /// under the lock every writer waits on.
    static func gzip(_ source: String, to target: String) -> Bool {
        guard let input = try? FileDescriptor.open(source, .readOnly, options: .noFollow) else { return false }
        defer { input.close() }
        guard let output = try? FileDescriptor.open(target, .writeOnly, options: [.create, .truncate, .noFollow], permissions: 0o600)
        else { return false }
        // gzclose closes the descriptor from here on.
        guard let gz = gzdopen(output.rawValue, "wb1") else {
            output.close()
            return false
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var ok = true
        while ok {
            guard let count = try? input.read(into: &buffer) else { ok = false; break }
            if count == 0 { break }
            ok = buffer.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32(count)) } == Int32(count)
        }
        ok = gzclose(gz) == Z_OK && ok
        if !ok { _ = try? Files.remove(target) }
        return ok
    }
}
