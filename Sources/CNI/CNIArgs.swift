/// CNI_ARGS: "K1=V1;K2=V2", order kept (delegates see it as we got it).
public struct CNIArgs: Sendable, Hashable {
    public private(set) var pairs: [(key: String, value: String)]

    public init(_ pairs: [(String, String)] = []) { self.pairs = pairs.map { (key: $0.0, value: $0.1) } }

    /// Parses CNI_ARGS. An empty string is no arguments; a part without '=' is an error, as in
    /// libcni's `LoadArgs`.
    /// - Throws: `SpecError.invalidEnvironment` naming the bad part.
    public init(parsing text: String) throws(SpecError) {
        pairs = []
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                throw .invalidEnvironment(name: "CNI_ARGS", reason: "\(Echo.quoted(part)) is not KEY=VALUE")
            }
            pairs.append((String(part[..<eq]), String(part[part.index(after: eq)...])))
        }
    }

    public subscript(key: String) -> String? {
        get { pairs.last(where: { $0.key == key })?.value }
        set {
            pairs.removeAll { $0.key == key }
            if let newValue { pairs.append((key, newValue)) }
        }
    }

    /// libcni's convention: unknown keys are tolerated by plugins only when this is set.
    public var ignoresUnknown: Bool { ["1", "true"].contains(self["IgnoreUnknown"]?.lowercased() ?? "") }

    public var isEmpty: Bool { pairs.isEmpty }
    public var serialized: String { pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ";") }

    public static func == (a: CNIArgs, b: CNIArgs) -> Bool { a.serialized == b.serialized }
    public func hash(into hasher: inout Hasher) { hasher.combine(serialized) }
}
