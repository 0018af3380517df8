/// Names that reach an environment variable, a path or an HTTP request line, as types: each is
/// checked once, where it is parsed, and code that holds one cannot hold an invalid one.
///
/// `ValidName<Rule>` is one struct per rule (`InterfaceName`, `ContainerID`, `PodName`,
/// `Namespace`, `PodUID`), so a pod name cannot be passed where a namespace is expected.
public struct ValidName<Rule: NameRule>: Hashable, Sendable, CustomStringConvertible {
    /// The name as given, which passed `Rule`.
    public let text: String

    /// - Throws: `NameError` with what is wrong; the caller adds which field it was and where it came from.
    public init(_ text: String) throws(NameError) {
        if let problem = Rule.problem(text) { throw NameError(reason: problem) }
        self.text = text
    }

    public var description: String { text }
}

/// What a kind of name must satisfy.
public protocol NameRule: Sendable {
    /// What is wrong with `text` as this kind of name; nil when nothing is.
    static func problem(_ text: String) -> String?
}

/// A name that broke its rule.
public struct NameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, with the value quoted (clipped, escaped).
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

public enum InterfaceNameRule: NameRule {
    public static func problem(_ text: String) -> String? { NameRules.interfaceNameProblem(text) }
}

public enum ContainerIDRule: NameRule {
    public static func problem(_ text: String) -> String? { NameRules.containerIDProblem(text) }
}

public enum PodNameRule: NameRule {
    public static func problem(_ text: String) -> String? {
        text.isEmpty ? "must not be empty" : NameRules.dns1123SubdomainProblem(text, what: "pod name")
    }
}

public enum NamespaceRule: NameRule {
    public static func problem(_ text: String) -> String? {
        text.isEmpty ? "must not be empty" : NameRules.dns1123LabelProblem(text, what: "namespace")
    }
}

public enum PodUIDRule: NameRule {
    public static func problem(_ text: String) -> String? { NameRules.podUIDProblem(text) }
}

/// A network interface name the kernel accepts (`NameRules.interfaceNameProblem`).
public typealias InterfaceName = ValidName<InterfaceNameRule>
/// A container ID as the spec allows it (CNI_CONTAINERID, K8S_POD_INFRA_CONTAINER_ID).
public typealias ContainerID = ValidName<ContainerIDRule>
/// A Kubernetes pod name: a DNS-1123 subdomain.
public typealias PodName = ValidName<PodNameRule>
/// A Kubernetes namespace: a DNS-1123 label.
public typealias Namespace = ValidName<NamespaceRule>
/// A pod UID as runtimes pass it (`NameRules.podUIDProblem`).
public typealias PodUID = ValidName<PodUIDRule>
