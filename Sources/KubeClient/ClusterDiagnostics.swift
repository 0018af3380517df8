import CNI

/// The seam `multus doctor` asks the API server through: read-only questions a CNI invocation
/// never asks. A `SelfSubjectAccessReview` is a create that stores nothing (the server answers
/// and forgets it), and any authenticated user may make one (`system:basic-user`), so asking it
/// needs no permission the plugin lacks.
public protocol ClusterDiagnostics: Sendable {
    /// `GET /version`.
    func serverVersion() throws(KubeError) -> ServerVersion
    /// `POST selfsubjectaccessreviews`: may the caller do `question`?
    func review(_ question: AccessQuestion) throws(KubeError) -> AccessAnswer
    /// Discovery of one group version (`/api/v1` for the core group, else `/apis/<gv>`): the
    /// resource names it serves (`pods`, `pods/status`, ...). `KubeError.notServed` when it is not.
    func servedResources(groupVersion: String) throws(KubeError) -> [String]
    /// LIST of NetworkAttachmentDefinitions in `namespace`, or in all namespaces when nil.
    func networkAttachmentDefinitions(namespace: Namespace?) throws(KubeError) -> [NetworkAttachmentDefinition]
}

/// `/version`'s answer, as far as the doctor reports it.
public struct ServerVersion: Sendable, Hashable {
    /// `v1.34.1`.
    public var gitVersion: String
    public var major: String
    public var minor: String

    public init(gitVersion: String, major: String = "", minor: String = "") {
        self.gitVersion = gitVersion
        self.major = major
        self.minor = minor
    }

    public init(json: JSONValue) throws(SpecError) {
        let fields = try JSONFields(json, path: "")
        guard let git = try fields.string("gitVersion"), !git.isEmpty else { throw .missingField(path: "gitVersion") }
        gitVersion = git
        major = try fields.string("major") ?? ""
        minor = try fields.string("minor") ?? ""
    }
}

/// A SelfSubjectAccessReview's `resourceAttributes`: one verb on one resource.
public struct AccessQuestion: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    /// The API group; "" for the core group.
    public var group: String
    public var resource: String
    public var subresource: String
    /// nil asks about all namespaces (a ClusterRoleBinding's grant).
    public var namespace: Namespace?
    /// A `resourceNames` entry, for verbs granted per object (DRA's per-driver status verbs).
    public var name: String?

    public init(verb: String, group: String, resource: String, subresource: String = "", namespace: Namespace? = nil, name: String? = nil) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }

    /// `get pods/status` with its group when not core: `patch resourceclaims/status (resource.k8s.io)`.
    public var description: String {
        var text = "\(verb) \(resource)\(subresource.isEmpty ? "" : "/" + subresource)"
        if let name { text += " \(Echo.quoted(name))" }
        if !group.isEmpty { text += " (\(group))" }
        return text
    }

    /// The review as the API server takes it.
    public var reviewBody: JSONValue {
        var attributes: JSONObject = ["verb": .string(verb), "group": .string(group), "resource": .string(resource)]
        if !subresource.isEmpty { attributes["subresource"] = .string(subresource) }
        if let namespace { attributes["namespace"] = .string(namespace.text) }
        if let name { attributes["name"] = .string(name) }
        return ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": ["resourceAttributes": .object(attributes)]]
    }
}

/// A SelfSubjectAccessReview's `status`.
public struct AccessAnswer: Sendable, Hashable {
    public var allowed: Bool
    /// The authorizer's words: which binding allowed it.
    public var reason: String

    public init(allowed: Bool, reason: String = "") {
        self.allowed = allowed
        self.reason = reason
    }

    /// Reads the review the server sends back.
    public init(review json: JSONValue) throws(SpecError) {
        guard let status = try JSONFields(json, path: "").fields("status") else { throw .missingField(path: "status") }
        guard let allowed = try status.bool("allowed") else { throw .missingField(path: "status.allowed") }
        self.allowed = allowed
        reason = Echo.clipped(try status.string("reason") ?? "")
    }
}

/// Discovery lists (`APIResourceList`): the names of the resources a group version serves.
public enum DiscoveryList {
    public static func resourceNames(json: JSONValue) throws(SpecError) -> [String] {
        try JSONFields(json, path: "").objects("resources").map { item throws(SpecError) in
            guard let name = try item.string("name"), !name.isEmpty else { throw .missingField(path: item.path("name")) }
            return name
        }
    }
}

extension NetworkAttachmentDefinition {
    /// A `NetworkAttachmentDefinitionList`'s items.
    public static func list(json: JSONValue) throws(SpecError) -> [NetworkAttachmentDefinition] {
        try JSONFields(json, path: "").objects("items").map { item throws(SpecError) in try NetworkAttachmentDefinition(json: .object(item.object)) }
    }
}

/// The doctor's questions about DRA device status on one node (`draDeviceStatus`): which drivers
/// publish devices here, and whether writes of their status were refused lately.
public protocol DRADiagnostics: Sendable {
    /// LIST of the ResourceSlices on `nodeName` (field selector `spec.nodeName`), every driver's.
    func resourceSlices(nodeName: String) throws(KubeError) -> [ResourceSlice]
    /// LIST of the pods on `nodeName` across namespaces (field selector `spec.nodeName`).
    func pods(nodeName: String) throws(KubeError) -> [ObjectMeta]
    /// LIST of the events in `namespace` with `reason`, as far as the doctor reads them.
    func events(namespace: Namespace, reason: String) throws(KubeError) -> [EventSummary]
}

/// What the doctor reads of an event: about which pod, and what it said.
public struct EventSummary: Sendable, Hashable {
    public var namespace: String
    public var reason: String
    /// `involvedObject.name`.
    public var involvedName: String
    public var message: String

    public init(namespace: String, reason: String, involvedName: String, message: String) {
        self.namespace = namespace
        self.reason = reason
        self.involvedName = involvedName
        self.message = message
    }

    /// An `EventList`'s items.
    public static func list(json: JSONValue) throws(SpecError) -> [EventSummary] {
        try JSONFields(json, path: "").objects("items").map { item throws(SpecError) in
            let metadata = try ObjectMeta(json: .object(item.object))
            return EventSummary(namespace: metadata.namespace, reason: try item.string("reason") ?? "",
                                involvedName: try item.fields("involvedObject")?.string("name") ?? "",
                                message: Echo.clipped(try item.string("message") ?? ""))
        }
    }
}

extension ObjectMeta {
    /// The `metadata` of every item of a list.
    public static func list(json: JSONValue) throws(SpecError) -> [ObjectMeta] {
        try JSONFields(json, path: "").objects("items").map { item throws(SpecError) in try ObjectMeta(json: .object(item.object)) }
    }
}
