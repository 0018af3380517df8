import CNI

/// The pod a CNI call is for, as the runtime names it in CNI_ARGS.
public struct PodReference: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    /// When given, the pod we read must have it: a pod recreated under the same name is another pod.
    public var uid: String?
    public var infraContainerID: String?

    /// nil unless CNI_ARGS names both K8S_POD_NAMESPACE and K8S_POD_NAME.
    public init?(args: CNIArgs) {
        guard let namespace = args["K8S_POD_NAMESPACE"], let name = args["K8S_POD_NAME"], !namespace.isEmpty, !name.isEmpty else { return nil }
        self.namespace = namespace
        self.name = name
        uid = args["K8S_POD_UID"].flatMap { $0.isEmpty ? nil : $0 }
        infraContainerID = args["K8S_POD_INFRA_CONTAINER_ID"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String { "\(namespace)/\(name)" }
}
