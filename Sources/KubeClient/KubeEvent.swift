import CNI
import System

/// A core/v1 Event about a pod, as client-go's event recorder builds one: what `kubectl describe
/// pod` lists under Events. Operators look there first, so we record what Multus records.
public struct KubeEvent: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    /// `<pod>.<hex nanoseconds>`: unique per pod and moment, as client-go names events.
    public var name: String
    /// The pod's, as the API server returned it (`ObjectMeta`).
    public var namespace: String
    public var pod: ObjectMeta
    public var kind: Kind
    /// CamelCase, machine-readable: `AddedInterface`, `NoNetworkFound`.
    public var reason: String
    public var message: String
    /// `source.component` and `reportingComponent`.
    public var component: String
    public var time: WallClockTime

    public init(about pod: ObjectMeta, kind: Kind, reason: String, message: String, component: String, time: WallClockTime) {
        name = "\(pod.name).\(String(UInt64(bitPattern: time.unixNanoseconds), radix: 16))"
        namespace = pod.namespace
        self.pod = pod
        self.kind = kind
        self.reason = reason
        self.message = message
        self.component = component
        self.time = time
    }

    /// The object POSTed to `/api/v1/namespaces/<ns>/events`. A legacy (core/v1) event: no
    /// `eventTime`, so the server does not require a reporting instance; count 1 and first =
    /// last timestamp, as a new event from client-go has.
    public var json: JSONValue {
        var involved: JSONObject = ["kind": "Pod", "namespace": .string(pod.namespace), "name": .string(pod.name), "apiVersion": "v1"]
        if !pod.uid.isEmpty { involved["uid"] = .string(pod.uid) }
        if !pod.resourceVersion.isEmpty { involved["resourceVersion"] = .string(pod.resourceVersion) }
        let timestamp = JSONValue.string(time.rfc3339)
        return [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": .object(involved),
            "reason": .string(reason), "message": .string(message), "type": .string(kind.rawValue),
            "source": ["component": .string(component)],
            "firstTimestamp": timestamp, "lastTimestamp": timestamp, "count": 1,
            "reportingComponent": .string(component), "reportingInstance": "",
        ]
    }
}
