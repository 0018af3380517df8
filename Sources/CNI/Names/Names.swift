/// The names of CNI and Kubernetes as types (see `ValidatedName`). Each holds text that passed its rule.

/// A container ID as the spec allows it (CNI_CONTAINERID, K8S_POD_INFRA_CONTAINER_ID): it names
/// our cache files and reaches delegates' environment.
public struct ContainerID: ValidatedName {
    public let text: String
    public init(_ text: String) throws(NameError) { self.text = try Self.validated(text) }
    public static func problem(_ text: String) -> String? { NameRules.containerIDProblem(text) }
}

/// A network interface name the kernel accepts (`NameRules.interfaceNameProblem`): CNI_IFNAME and
/// the networks annotation's `interface`.
public struct InterfaceName: ValidatedName {
    public let text: String
    public init(_ text: String) throws(NameError) { self.text = try Self.validated(text) }
    public static func problem(_ text: String) -> String? { NameRules.interfaceNameProblem(text) }

    /// The pod's main interface as runtimes name it: what STATUS and GC plan with, having no CNI_IFNAME.
    public static let eth0 = InterfaceName(checkedLiteral: "eth0")
    /// Only for the literals above, which pass the rule.
    fileprivate init(checkedLiteral text: StaticString) { self.text = "\(text)" }
}

/// A Kubernetes pod name: a DNS-1123 subdomain. It goes into API paths.
public struct PodName: ValidatedName {
    public let text: String
    public init(_ text: String) throws(NameError) { self.text = try Self.validated(text) }
    public static func problem(_ text: String) -> String? { text.isEmpty ? "must not be empty" : NameRules.dns1123SubdomainProblem(text, what: "pod name") }
}

/// A Kubernetes namespace: a DNS-1123 label. It goes into API paths.
public struct Namespace: ValidatedName {
    public let text: String
    public init(_ text: String) throws(NameError) { self.text = try Self.validated(text) }
    public static func problem(_ text: String) -> String? { text.isEmpty ? "must not be empty" : NameRules.dns1123LabelProblem(text, what: "namespace") }
}

/// A pod UID as runtimes pass it in K8S_POD_UID (`NameRules.podUIDProblem`).
public struct PodUID: ValidatedName {
    public let text: String
    public init(_ text: String) throws(NameError) { self.text = try Self.validated(text) }
    public static func problem(_ text: String) -> String? { NameRules.podUIDProblem(text) }
}

/// The name a network is referred to by: a network config's `name` (the spec's rule: a letter or
/// digit, then letters, digits, '_', '.' and '-'), which also admits every NAD name (a DNS-1123
/// subdomain is a narrower set). It reaches delegates' stdin, cache keys and file names.
public struct NetworkName: ValidatedName {
    public let text: String
    public init(_ text: String) throws(NameError) { self.text = try Self.validated(text) }
    public static func problem(_ text: String) -> String? { NameRules.networkNameProblem(text) }
}
