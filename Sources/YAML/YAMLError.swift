import CYAML

/// Why a document is not YAML we read: libyaml's own words for a syntax error, or the limit a
/// hostile document passed. The reason starts with the line (`line 3, column 5: ...`) wherever
/// there is one; the caller names the file.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// The libyaml linked in, for `multus --version`.
public enum LinkedLibYAML {
    public static var version: String { String(cString: yaml_get_version_string()) }
}
