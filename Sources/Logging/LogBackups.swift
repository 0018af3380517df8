import CNI
import CZlib
import Glibc

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
            if access(name, F_OK) != 0 && access(name + ".gz", F_OK) != 0 { return name }
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
            unlink(directory + "/" + backup.name)
        }
    }

    /// gzips every backup not yet compressed; a backup that fails to compress stays as it is.
    func compressAll() {
        for backup in list() where !backup.name.hasSuffix(".gz") {
            let source = directory + "/" + backup.name
            if Self.gzip(source, to: source + ".gz") { unlink(source) }
        }
    }

    struct Backup: Equatable {
        var name: String
        var milliseconds: Int64
    }

    /// Every backup in the directory, newest first.
    func list() -> [Backup] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var found: [Backup] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
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
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "1970-01-01T00-00-00.000" }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2))-\(pad(Int(parts.tm_min), 2))-\(pad(Int(parts.tm_sec), 2)).\(pad(Int(milliseconds % 1000), 3))"
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
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts)) * 1000 + Int64(millis)
    }

    /// Compresses `source` into `target` (created 0600), at zlib's fastest level: rotation runs
    /// under the lock every writer waits on.
    static func gzip(_ source: String, to target: String) -> Bool {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { return false }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard output >= 0, let gz = gzdopen(output, "wb1") else {
            if output >= 0 { close(output) }
            return false
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var ok = true
        while ok {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { ok = count == 0; break }
            ok = buffer.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32(count)) } == Int32(count)
        }
        ok = gzclose(gz) == Z_OK && ok
        if !ok { unlink(target) }
        return ok
    }
}
