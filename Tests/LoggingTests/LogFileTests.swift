import CNI
import CZlib
import Glibc
@testable import Logging
import System
import Testing
import TestSupport

/// The lines of a gzip file, read back through zlib.
func gunzipLines(_ path: String) -> [String]? {
    guard let gz = gzopen(path, "rb") else { return nil }
    defer { gzclose(gz) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
        if count < 0 { return nil }
        if count == 0 { break }
        bytes += chunk[0..<Int(count)]
    }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
}

@Suite("Log file and rotation")
struct LogFileTests {
    /// A line of exactly 1 KiB, newline included, numbered.
    static func kibLine(_ n: Int) -> [UInt8] {
        let head = "line \(n) "
        return Array((head + String(repeating: "x", count: 1023 - head.utf8.count) + "\n").utf8)
    }

    @Test("created 0600 with its lock, lines appended whole")
    func createdPrivate() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("sub/multus.log")
        let file = LogFile(path: path, rotation: .init())
        try file.append(Array("one\n".utf8))
        try file.append(Array("two\n".utf8))
        #expect(String(decoding: try readFile(path), as: UTF8.self) == "one\ntwo\n")
        #expect(fileMode(path) == 0o600)
        #expect(fileMode(path + ".lock") == 0o600)
    }

    @Test("past maxSize the file moves to lumberjack's backup name, gzipped, and a new file starts")
    func rotatesAndCompresses() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("multus.log")
        let file = LogFile(path: path, rotation: .init(maxSizeMB: 1, maxAgeDays: 0, maxBackups: 0, compress: true))
        for n in 0..<1100 { try file.append(Self.kibLine(n)) }
        let backups = LogBackups(path: path).list()
        #expect(backups.count == 1)
        let name = try #require(backups.first?.name)
        #expect(name.hasPrefix("multus-") && name.hasSuffix(".log.gz") && name.utf8.count == "multus-2006-01-02T15-04-05.000.log.gz".utf8.count)
        let rotated = try #require(gunzipLines(directory.pathOf(name)))
        let current = String(decoding: try readFile(path), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(rotated.count == 1024)
        #expect(current.count == 1100 - 1024)
        #expect((rotated + current).map { $0.split(separator: " ")[1] } == (0..<1100).map { Substring(String($0)) })
        #expect(fileMode(directory.pathOf(name)) == 0o600)
    }

    @Test("maxBackups keeps the newest; maxAge drops backups older than it, by the time in their name")
    func pruning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("multus.log")
        let old = "multus-2020-01-01T00-00-00.000.log"
        _ = try directory.file(old, contents: Array("ancient\n".utf8))
        _ = try directory.file("unrelated-2020-01-01T00-00-00.000.log", contents: [])
        let file = LogFile(path: path, rotation: .init(maxSizeMB: 1, maxAgeDays: 30, maxBackups: 2, compress: false))
        for n in 0..<(1024 * 4 + 10) { try file.append(Self.kibLine(n)) }
        let names = LogBackups(path: path).list().map(\.name)
        #expect(names.count == 2)
        #expect(!names.contains(old))
        #expect(fileExists(directory.pathOf("unrelated-2020-01-01T00-00-00.000.log")))
        let newest = String(decoding: try readFile(directory.pathOf(names[0])), as: UTF8.self)
        #expect(newest.hasPrefix("line 3072 "))
    }

    /// `logOptions.maxAge` is read up to 2^40 days; in milliseconds that overflowed Int64 and
    /// trapped on the first rotation.
    @Test("a maxAge beyond any timestamp keeps every backup", arguments: [1 << 40, Int.max])
    func hugeMaxAge(_ days: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("multus.log")
        _ = try directory.file("multus-2020-01-01T00-00-00.000.log", contents: Array("ancient\n".utf8))
        LogBackups(path: path).prune(keeping: .init(maxAgeDays: days, maxBackups: 0), now: WallClockTime.now())
        #expect(LogBackups(path: path).list().count == 1)
    }

    @Test("another process's rotation is followed before the next line")
    func followsRotation() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("multus.log")
        let file = LogFile(path: path, rotation: .init())
        try file.append(Array("before\n".utf8))
        #expect(rename(path, path + ".moved") == 0)
        try file.append(Array("after\n".utf8))
        #expect(String(decoding: try readFile(path), as: UTF8.self) == "after\n")
        #expect(String(decoding: try readFile(path + ".moved"), as: UTF8.self) == "before\n")
    }

    @Test("backup names: lumberjack's stamp in UTC, read back; other names are not backups")
    func names() {
        let backups = LogBackups(path: "/var/log/multus.log")
        #expect(LogBackups.stamp(milliseconds: fixedTime.unixNanoseconds / 1_000_000) == "2026-12-04T14-44-43.123")
        #expect(backups.timestamp(of: "multus-2026-12-04T14-44-43.123.log") == 1_796_395_483_123)
        #expect(backups.timestamp(of: "multus-2026-12-04T14-44-43.123.log.gz") == 1_796_395_483_123)
        for other in ["multus.log", "multus.log.lock", "multus-2026-12-04T14-44-43.log", "multus-2026-13-04T14-44-43.123.log", "other-2026-12-04T14-44-43.123.log"] {
            #expect(backups.timestamp(of: other) == nil, "\(other)")
        }
        #expect(LogBackups(path: "/var/log/multus").unusedName(at: fixedTime) == "/var/log/multus-2026-12-04T14-44-43.123")
    }
}
