import CNI

/// The multus config's logging keys, as Multus reads them: `logFile`, `logLevel`, `logToStderr`
/// and `logOptions` (lumberjack's rotation settings, with Multus's defaults).
public struct LogSettings: Sendable, Hashable {
    /// Where lines go besides stderr; nil writes no file.
    public var file: String?
    public var level: LogLevel
    public var toStderr: Bool
    public var rotation: Rotation

    /// `logOptions`. Zero means "no limit" for every number, as in lumberjack.
    public struct Rotation: Sendable, Hashable {
        /// Rotate before a line would take the file past this many megabytes.
        public var maxSizeMB: Int
        /// Remove backups whose name says they are older than this many days.
        public var maxAgeDays: Int
        /// Keep at most this many backups, newest first.
        public var maxBackups: Int
        /// gzip backups (`<backup>.gz`).
        public var compress: Bool

        public init(maxSizeMB: Int = 100, maxAgeDays: Int = 5, maxBackups: Int = 5, compress: Bool = true) {
            self.maxSizeMB = maxSizeMB
            self.maxAgeDays = maxAgeDays
            self.maxBackups = maxBackups
            self.compress = compress
        }
    }

    public init(file: String? = nil, level: LogLevel = .error, toStderr: Bool = true, rotation: Rotation = Rotation()) {
        self.file = file
        self.level = level
        self.toStderr = toStderr
        self.rotation = rotation
    }

    /// Reads the keys of the multus config; absent keys take Multus's defaults.
    /// - Throws: `SpecError` naming the key: an unknown level, a negative number, a wrong type.
    public init(_ fields: JSONFields) throws(SpecError) {
        file = try fields.string("logFile").flatMap { $0.isEmpty ? nil : $0 }
        let name = try fields.string("logLevel") ?? LogLevel.error.description
        guard let level = LogLevel(name: name.lowercased()) else {
            throw .invalidField(path: "logLevel", reason: "\(Echo.quoted(name)) is not one of \(LogLevel.allCases.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        self.level = level
        toStderr = try fields.bool("logToStderr") ?? true
        rotation = Rotation()
        guard let options = try fields.object("logOptions") else { return }
        let f = JSONFields(options, path: "logOptions")
        rotation.maxSizeMB = try Self.count(f, "maxSize") ?? rotation.maxSizeMB
        rotation.maxAgeDays = try Self.count(f, "maxAge") ?? rotation.maxAgeDays
        rotation.maxBackups = try Self.count(f, "maxBackups") ?? rotation.maxBackups
        rotation.compress = try f.bool("compress") ?? rotation.compress
    }

    private static func count(_ f: JSONFields, _ key: String) throws(SpecError) -> Int? {
        guard let value = try f.int(key) else { return nil }
        guard value >= 0, value <= 1 << 40 else {
            throw .invalidField(path: "logOptions.\(key)", reason: "must be a number from 0 (no limit) up, found \(value)")
        }
        return value
    }
}
