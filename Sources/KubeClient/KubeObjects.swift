import CNI

/// The metadata fields we use. Everything else in an object is ignored: decoding is lenient so
/// that a newer API server's additions never break us.
public struct ObjectMeta: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var uid: String
    public var resourceVersion: String
    public var annotations: [String: String]

    public init(name: String, namespace: String, uid: String = "", resourceVersion: String = "", annotations: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.annotations = annotations
    }

    init(json: JSONValue) throws(SpecError) {
        let f = JSONFields(try JSONFields(json, path: "").object("metadata") ?? JSONObject(), path: "metadata")
        var annotations: [String: String] = [:]
        for (key, value) in try f.object("annotations") ?? JSONObject() {
            if let text = value.stringValue { annotations[key] = text }
        }
        self.init(name: try f.string("name") ?? "", namespace: try f.string("namespace") ?? "", uid: try f.string("uid") ?? "",
                  resourceVersion: try f.string("resourceVersion") ?? "", annotations: annotations)
    }
}

public struct Pod: Sendable, Hashable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) { self.metadata = metadata }
    public init(json: JSONValue) throws(SpecError) { metadata = try ObjectMeta(json: json) }
}

/// `k8s.cni.cncf.io/v1` NetworkAttachmentDefinition.
public struct NetworkAttachmentDefinition: Sendable, Hashable {
    public var metadata: ObjectMeta
    /// `spec.config`: a CNI config as a JSON string; empty means "the config of this name in confDir".
    public var config: String

    public static let resourceNameAnnotation = "k8s.v1.cni.cncf.io/resourceName"

    public init(metadata: ObjectMeta, config: String) {
        self.metadata = metadata
        self.config = config
    }

    public init(json: JSONValue) throws(SpecError) {
        metadata = try ObjectMeta(json: json)
        let spec = try JSONFields(json, path: "").fields("spec")
        config = try spec?.string("config") ?? ""
    }
}

/// The `Status` object the API server sends with an error.
struct KubeStatus {
    var message: String
    var reason: String

    /// nil when the body is not a Status object.
    init?(body: [UInt8]) {
        guard let object = (try? JSONValue.parse(body))?.objectValue, object["kind"] == "Status" else { return nil }
        message = object["message"]?.stringValue ?? ""
        reason = object["reason"]?.stringValue ?? ""
    }
}
