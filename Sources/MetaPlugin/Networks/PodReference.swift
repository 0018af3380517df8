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
        self.namespace = try Self.argument("K8S_POD_NAMESPACE", namespace)
        self.name = try Self.argument("K8S_POD_NAME", name)
        uid = try args["K8S_POD_UID"].flatMap { $0.isEmpty ? nil : $0 }.map { (text) throws(MetaError) in try Self.argument("K8S_POD_UID", text) }
        infraContainerID = try args["K8S_POD_INFRA_CONTAINER_ID"].flatMap { $0.isEmpty ? nil : $0 }
            .map { (text) throws(MetaError) in try Self.argument("K8S_POD_INFRA_CONTAINER_ID", text) }
    }

    private static func argument<Rule>(_ key: String, _ text: String) throws(MetaError) -> ValidName<Rule> {
        do { return try ValidName<Rule>(text) } catch { throw .invalidConfig("\(key): \(error.reason)", source: "CNI_ARGS") }
    }

    public var description: String { "\(namespace)/\(name)" }
}
