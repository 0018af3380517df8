import CNI

/// The pod a CNI call is for, as the runtime names it in CNI_ARGS, each part checked against
/// Kubernetes' rule for it: the name and namespace go into API paths (an HTTP request line), the
/// UID into comparisons and delegates' CNI_ARGS.
public struct PodReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: Namespace
    public var name: PodName
    /// When given, the pod we read must have it: a pod recreated under the same name is another pod.
    public var uid: PodUID?
    public var infraContainerID: ContainerID?

    /// nil unless CNI_ARGS names both K8S_POD_NAMESPACE and K8S_POD_NAME.
    /// - Throws: `MetaError.invalidConfig` naming the argument whose value breaks its rule.
    public init?(args: CNIArgs) throws(MetaError) {
        guard let namespace = args["K8S_POD_NAMESPACE"], let name = args["K8S_POD_NAME"], !namespace.isEmpty, !name.isEmpty else { return nil }
        self.namespace = try Self.argument("K8S_POD_NAMESPACE", namespace, Namespace.init)
        self.name = try Self.argument("K8S_POD_NAME", name, PodName.init)
        uid = try Self.optionalArgument("K8S_POD_UID", args, PodUID.init)
        infraContainerID = try Self.optionalArgument("K8S_POD_INFRA_CONTAINER_ID", args, ContainerID.init)
    }

    private static func argument<Name>(_ key: String, _ text: String, _ make: (String) throws(NameError) -> Name) throws(MetaError) -> Name {
        do { return try make(text) } catch { throw .invalidConfig("\(key): \(error.reason)", source: "CNI_ARGS") }
    }

    /// nil when the argument is absent or empty.
    private static func optionalArgument<Name>(_ key: String, _ args: CNIArgs, _ make: (String) throws(NameError) -> Name) throws(MetaError) -> Name? {
        guard let text = args[key], !text.isEmpty else { return nil }
        return try argument(key, text, make)
    }

    public var description: String { "\(namespace)/\(name)" }
}
