/// Every API call the plugin makes, as the RBAC verb it needs: the one table `multus doctor`
/// asks the API server about (SelfSubjectAccessReview) and docs/kubernetes.md's RBAC table
/// states (a test holds the two together). The calls themselves are `KubeAPI`'s methods.
public struct PluginPermission: Sendable, Hashable {
    /// When the plugin makes the call.
    public enum Need: Sendable, Hashable {
        /// On every ADD of a pod (or DEL/CHECK that reads it).
        case always
        /// When a network or pod uses a DRA claim (resource.k8s.io).
        case dra
        /// Only with `draDeviceStatus: true` (the optional ClusterRole of deploy/rbac.yml).
        case draDeviceStatus
    }

    /// What the call is for, as the docs' table says it.
    public var call: String
    public var question: AccessQuestion
    public var need: Need

    /// The RBAC rule that grants it, for a fix line.
    public var rule: String {
        let resource = question.resource + (question.subresource.isEmpty ? "" : "/" + question.subresource)
        return "{apiGroups: [\"\(question.group)\"], resources: [\"\(resource)\"], verbs: [\"\(question.verb)\"]}"
    }

    public static let all: [PluginPermission] = [
        PluginPermission(call: "read the pod", question: AccessQuestion(verb: "get", group: "", resource: "pods"), need: .always),
        PluginPermission(call: "read a NAD",
                         question: AccessQuestion(verb: "get", group: "k8s.cni.cncf.io", resource: "network-attachment-definitions"), need: .always),
        PluginPermission(call: "write network-status", question: AccessQuestion(verb: "update", group: "", resource: "pods", subresource: "status"),
                         need: .always),
        PluginPermission(call: "record an event", question: AccessQuestion(verb: "create", group: "", resource: "events"), need: .always),
        PluginPermission(call: "read a pod's DRA claim", question: AccessQuestion(verb: "get", group: "resource.k8s.io", resource: "resourceclaims"),
                         need: .dra),
        PluginPermission(call: "find a DRA device's attributes",
                         question: AccessQuestion(verb: "list", group: "resource.k8s.io", resource: "resourceslices"), need: .dra),
        PluginPermission(call: "write our entries of a claim's status.devices",
                         question: AccessQuestion(verb: "patch", group: "resource.k8s.io", resource: "resourceclaims", subresource: "status"),
                         need: .draDeviceStatus),
    ]

    /// The per-driver verb Kubernetes 1.36 adds for a `status.devices` write
    /// (`DRAResourceClaimGranularStatusAuthorization`), asked per driver by name.
    public static func associatedNodePatch(driver: String) -> PluginPermission {
        PluginPermission(call: "write \(driver)'s status.devices entries from this node",
                         question: AccessQuestion(verb: "associated-node:patch", group: "resource.k8s.io", resource: "resourceclaims",
                                                  subresource: "driver", name: driver),
                         need: .draDeviceStatus)
    }
}
