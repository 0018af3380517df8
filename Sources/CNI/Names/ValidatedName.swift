/// Names that reach an environment variable, a path or an HTTP request line, as types: each is
/// checked once, where it is parsed, and code that holds one cannot hold an invalid one.
///
/// Each kind is its own concrete struct (`ContainerID`, `InterfaceName`, `PodName`, `Namespace`,
/// `PodUID`, `NetworkName`), so a pod name cannot be passed where a namespace is expected. They are
/// concrete rather than one generic struct over a rule because a generic type from another module
/// costs a metadata instantiation at run time on the hot path; what they share is this protocol's
/// default methods and the rules in `NameRules`.
public protocol ValidatedName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as given, which passed `problem`.
    var text: String { get }
    /// - Throws: `NameError` with what is wrong; the caller adds which field it was and where it came from.
    init(_ text: String) throws(NameError)
    /// What is wrong with `text` as this kind of name; nil when nothing is.
    static func problem(_ text: String) -> String?
}

extension ValidatedName {
    /// `text` when it passes `problem`: what every init does first.
    public static func validated(_ text: String) throws(NameError) -> String {
        if let problem = problem(text) { throw NameError(reason: problem) }
        return text
    }

    public var description: String { text }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.text < rhs.text }
}

/// A name that broke its rule.
public struct NameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, with the value quoted (clipped, escaped).
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
