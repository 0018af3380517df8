// The messages of the kubelet's pod-resources API (k8s.io/kubelet/pkg/apis/podresources/v1,
// api.proto) that name devices, by field number. Fields we do not use (CPU IDs, memory,
// topology, share IDs) are skipped, as are fields a later kubelet adds.

import CNI

/// What the kubelet allocated to one pod.
public struct PodResources: Sendable, Hashable {
    /// The kubelet's own text, read back from its answer and only compared: requests are made
    /// with the typed names (`PodResourcesClient.get(pod:namespace:)`).
    public var name: String
    public var namespace: String
    public var containers: [ContainerResources]

    public init(name: String, namespace: String, containers: [ContainerResources] = []) {
        self.name = name
        self.namespace = namespace
        self.containers = containers
    }
}

/// One container's devices: from device plugins and from DRA claims.
public struct ContainerResources: Sendable, Hashable {
    public var name: String
    public var devices: [ContainerDevices]
    public var dynamicResources: [DynamicResource]

    public init(name: String, devices: [ContainerDevices] = [], dynamicResources: [DynamicResource] = []) {
        self.name = name
        self.devices = devices
        self.dynamicResources = dynamicResources
    }
}

/// The device IDs one device-plugin resource gave a container, in the kubelet's order.
public struct ContainerDevices: Sendable, Hashable {
    public var resourceName: String
    public var deviceIDs: [String]

    public init(resourceName: String, deviceIDs: [String]) {
        self.resourceName = resourceName
        self.deviceIDs = deviceIDs
    }
}

/// One DRA ResourceClaim as a container sees it.
public struct DynamicResource: Sendable, Hashable {
    public var claimName: String
    public var claimNamespace: String
    public var claimResources: [ClaimResource]

    public init(claimName: String, claimNamespace: String, claimResources: [ClaimResource] = []) {
        self.claimName = claimName
        self.claimNamespace = claimNamespace
        self.claimResources = claimResources
    }
}

/// One allocated DRA device and the CDI devices it maps to.
public struct ClaimResource: Sendable, Hashable {
    /// Fully qualified CDI device names, `vendor.com/class=name`.
    public var cdiDevices: [String]
    public var driverName: String
    public var poolName: String
    public var deviceName: String

    public init(cdiDevices: [String], driverName: String = "", poolName: String = "", deviceName: String = "") {
        self.cdiDevices = cdiDevices
        self.driverName = driverName
        self.poolName = poolName
        self.deviceName = deviceName
    }
}

// MARK: - Requests

/// `GetPodResourcesRequest`: `pod_name` = 1, `pod_namespace` = 2.
func encodeGetRequest(pod: String, namespace: String) -> [UInt8] {
    var writer = ProtoWriter()
    writer.string(1, pod)
    writer.string(2, namespace)
    return writer.bytes
}

/// `ListPodResourcesRequest` has no fields.
let encodedListRequest: [UInt8] = []

// MARK: - Responses

/// `GetPodResourcesResponse`: `pod_resources` = 1. nil when the field is absent.
public func decodeGetResponse(_ bytes: [UInt8]) throws(ProtoError) -> PodResources? {
    var reader = ProtoReader(bytes)
    var pod: PodResources?
    while let field = try reader.nextLengthDelimited() {
        guard field == 1 else { try reader.skipPayload(); continue }
        var inner = try reader.message()
        // A singular message field that occurs twice merges into one (the protobuf rule).
        pod = try PodResources(merging: &inner, into: pod ?? PodResources(name: "", namespace: ""))
    }
    return pod
}

/// `ListPodResourcesResponse`: `pod_resources` = 1 (repeated).
public func decodeListResponse(_ bytes: [UInt8]) throws(ProtoError) -> [PodResources] {
    var reader = ProtoReader(bytes)
    var pods: [PodResources] = []
    while let field = try reader.nextLengthDelimited() {
        guard field == 1 else { try reader.skipPayload(); continue }
        var inner = try reader.message()
        pods.append(try PodResources(merging: &inner, into: PodResources(name: "", namespace: "")))
    }
    return pods
}

extension PodResources {
    /// `name` = 1, `namespace` = 2, `containers` = 3.
    init(merging reader: inout ProtoReader, into existing: PodResources) throws(ProtoError) {
        self = existing
        while let field = try reader.nextLengthDelimited() {
            switch field {
            case 1: name = try reader.string(field: field)
            case 2: namespace = try reader.string(field: field)
            case 3:
                var inner = try reader.message()
                containers.append(try ContainerResources(decoding: &inner))
            default: try reader.skipPayload()
            }
        }
    }

    func encode(into writer: inout ProtoWriter) {
        writer.string(1, name)
        writer.string(2, namespace)
        for container in containers { writer.message(3, container.encode) }
    }
}

extension ContainerResources {
    /// `name` = 1, `devices` = 2, `dynamic_resources` = 5.
    init(decoding reader: inout ProtoReader) throws(ProtoError) {
        self.init(name: "")
        while let field = try reader.nextLengthDelimited() {
            switch field {
            case 1: name = try reader.string(field: field)
            case 2:
                var inner = try reader.message()
                devices.append(try ContainerDevices(decoding: &inner))
            case 5:
                var inner = try reader.message()
                dynamicResources.append(try DynamicResource(decoding: &inner))
            default: try reader.skipPayload()
            }
        }
    }

    func encode(into writer: inout ProtoWriter) {
        writer.string(1, name)
        for device in devices { writer.message(2, device.encode) }
        for resource in dynamicResources { writer.message(5, resource.encode) }
    }
}

extension ContainerDevices {
    /// `resource_name` = 1, `device_ids` = 2.
    init(decoding reader: inout ProtoReader) throws(ProtoError) {
        self.init(resourceName: "", deviceIDs: [])
        while let field = try reader.nextLengthDelimited() {
            switch field {
            case 1: resourceName = try reader.string(field: field)
            case 2: deviceIDs.append(try reader.string(field: field))
            default: try reader.skipPayload()
            }
        }
    }

    func encode(into writer: inout ProtoWriter) {
        writer.string(1, resourceName)
        writer.strings(2, deviceIDs)
    }
}

extension DynamicResource {
    /// `claim_name` = 2, `claim_namespace` = 3, `claim_resources` = 4 (1 is a tombstone).
    init(decoding reader: inout ProtoReader) throws(ProtoError) {
        self.init(claimName: "", claimNamespace: "")
        while let field = try reader.nextLengthDelimited() {
            switch field {
            case 2: claimName = try reader.string(field: field)
            case 3: claimNamespace = try reader.string(field: field)
            case 4:
                var inner = try reader.message()
                claimResources.append(try ClaimResource(decoding: &inner))
            default: try reader.skipPayload()
            }
        }
    }

    func encode(into writer: inout ProtoWriter) {
        writer.string(2, claimName)
        writer.string(3, claimNamespace)
        for resource in claimResources { writer.message(4, resource.encode) }
    }
}

extension ClaimResource {
    /// `cdi_devices` = 1 (each a `CDIDevice` whose `name` = 1), `driver_name` = 2,
    /// `pool_name` = 3, `device_name` = 4.
    init(decoding reader: inout ProtoReader) throws(ProtoError) {
        self.init(cdiDevices: [])
        while let field = try reader.nextLengthDelimited() {
            switch field {
            case 1:
                var inner = try reader.message()
                cdiDevices.append(try Self.cdiName(&inner))
            case 2: driverName = try reader.string(field: field)
            case 3: poolName = try reader.string(field: field)
            case 4: deviceName = try reader.string(field: field)
            default: try reader.skipPayload()
            }
        }
    }

    private static func cdiName(_ reader: inout ProtoReader) throws(ProtoError) -> String {
        var name = ""
        while let field = try reader.nextLengthDelimited() {
            if field == 1 { name = try reader.string(field: field) } else { try reader.skipPayload() }
        }
        return name
    }

    func encode(into writer: inout ProtoWriter) {
        for name in cdiDevices { writer.message(1) { $0.string(1, name) } }
        writer.string(2, driverName)
        writer.string(3, poolName)
        writer.string(4, deviceName)
    }
}

/// Encodes responses as the kubelet would; for tests and benchmarks that play the kubelet.
public enum PodResourcesEncoding {
    public static func listResponse(_ pods: [PodResources]) -> [UInt8] {
        var writer = ProtoWriter()
        for pod in pods { writer.message(1, pod.encode) }
        return writer.bytes
    }

    public static func getResponse(_ pod: PodResources) -> [UInt8] {
        var writer = ProtoWriter()
        writer.message(1, pod.encode)
        return writer.bytes
    }

    public static func getRequest(pod: PodName, namespace: Namespace) -> [UInt8] { encodeGetRequest(pod: pod.text, namespace: namespace.text) }
}
