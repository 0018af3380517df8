/// How much a call writes, as Multus names the levels: each level writes its own lines and
/// those of every level before it.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Only what stops the process.
    case panic
    /// Failed calls (the default).
    case error
    /// Every command, every network and every API call, with outcomes and times.
    case verbose
    /// Also the delegates' stdin and stdout.
    case debug

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = level
    }

    public var description: String {
        switch self {
        case .panic: "panic"
        case .error: "error"
        case .verbose: "verbose"
        case .debug: "debug"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}
