import CNI

/// The metadata fields we use. Everything else in an object is ignored: decoding is lenient so
/// that a newer API server's additions never break us.
///
/// `name` and `namespace` stay the API server's text: they are read back from objects it stored
/// (so they passed its rules), and a request we build ourselves takes typed names instead.
public struct ObjectMeta: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var uid: String
    public var resourceVersion: String
    /// `metadata.generation`: what a status condition's `observedGeneration` reports.
    public var generation: Int
    public var annotations: [String: String]

    public init(name: String, namespace: String, uid: String = "", resourceVersion: String = "", generation: Int = 0,
                annotations: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.annotations = annotations
    }

    init(json: JSONValue) throws(SpecError) {
        let f = JSONFields(try JSONFields(json, path: "").object("metadata") ?? JSONObject(), path: "metadata")
        var annotations: [String: String] = [:]
        for (key, value) in try f.object("annotations") ?? JSONObject() {
            if let text = value.stringValue { annotations[key] = text }
        }
        self.init(name: try f.string("name") ?? "", namespace: try f.string("namespace") ?? "", uid: try f.string("uid") ?? "",
                  resourceVersion: try f.string("resourceVersion") ?? "", generation: try f.int("generation") ?? 0, annotations: annotations)
    }
}

public struct Pod: Sendable, Hashable {
    public var metadata: ObjectMeta
    /// The object exactly as the API server sent it. A status update sends it back whole with
    /// only our annotation changed: an `update` replaces what it is given, so a field we do not
    /// model must still be there.
    public private(set) var object: JSONValue

    public init(metadata: ObjectMeta) {
        self.metadata = metadata
        object = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(metadata.name), "namespace": .string(metadata.namespace)]]
    }

    public init(json: JSONValue) throws(SpecError) {
        metadata = try ObjectMeta(json: json)
        object = json
    }

    /// The kubelet's annotations on a pod it runs from a manifest file or URL rather than from
    /// the API: the API then holds only a mirror, whose UID is not the one the runtime passes.
    public static let configSourceAnnotation = "kubernetes.io/config.source"
    public static let configMirrorAnnotation = "kubernetes.io/config.mirror"

    /// A static pod's mirror. Mirrors Multus's IsStaticPod (a config source other than "api"),
    /// and also accepts the mirror annotation, which the kubelet sets on every mirror pod.
    public var isStatic: Bool {
        if let source = metadata.annotations[Self.configSourceAnnotation] { return source != "api" }
        return metadata.annotations[Self.configMirrorAnnotation] != nil
    }

    /// The same pod with annotation `key` set to `value`, in both the decoded and the whole object.
    public func settingAnnotation(_ key: String, to value: String) -> Pod {
        var copy = self
        copy.metadata.annotations[key] = value
        guard var whole = object.objectValue else { return copy }
        var meta = whole["metadata"]?.objectValue ?? JSONObject()
        var annotations = meta["annotations"]?.objectValue ?? JSONObject()
        annotations[key] = .string(value)
        meta["annotations"] = .object(annotations)
        whole["metadata"] = .object(meta)
        copy.object = .object(whole)
        return copy
    }
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
    /// `details.name`: the object the error is about, when it is about one.
    var objectName: String?
    /// `details.causes[].reason`.
    var causeReasons: [String]

    /// A server-side apply's conflict with another field manager.
    static let fieldManagerConflict = "FieldManagerConflict"

    /// nil when the body is not a Status object.
    init?(body: [UInt8]) {
        guard let object = (try? JSONValue.parse(body))?.objectValue, object["kind"] == "Status" else { return nil }
        message = object["message"]?.stringValue ?? ""
        reason = object["reason"]?.stringValue ?? ""
        objectName = object["details"]?.objectValue?["name"]?.stringValue
        causeReasons = object["details"]?.objectValue?["causes"]?.arrayValue?.compactMap { $0.objectValue?["reason"]?.stringValue } ?? []
    }
}
