import CNI

// Dynamic Resource Allocation, `resource.k8s.io/v1` (Kubernetes 1.34+): what a meta-plugin reads
// to find a pod's network devices. Field names are those of k8s.io/api/resource/v1 and
// k8s.io/api/core/v1; decoding is lenient about fields we do not use and strict about the kinds
// of those we do, each failure naming the field.

/// `resource.k8s.io/v1` ResourceClaim: its allocation, kept whole besides.
public struct ResourceClaim: Sendable, Hashable {
    public var metadata: ObjectMeta
    /// `status.allocation.devices.results`; nil while the claim is not allocated (no
    /// `status.allocation`, or one without `devices.results`).
    public var results: [DeviceAllocation]?
    /// The object exactly as the API server sent it, for a later write of `status.devices`.
    public private(set) var object: JSONValue

    public init(json: JSONValue) throws(SpecError) {
        metadata = try ObjectMeta(json: json)
        object = json
        let root = try JSONFields(json, path: "")
        guard let devices = try root.fields("status")?.fields("allocation")?.fields("devices"), devices.object["results"] != nil,
              devices.object["results"] != .null else {
            results = nil
            return
        }
        results = try devices.objects("results").map(DeviceAllocation.init(fields:))
    }
}

/// One allocated device: `status.allocation.devices.results[]`. Driver, pool, device and (with
/// consumable capacity, KEP-5075) shareID together name it, as `status.devices[]` is keyed.
public struct DeviceAllocation: Sendable, Hashable, CustomStringConvertible {
    /// The claim's request it satisfies (`<request>` or `<request>/<subrequest>`).
    public var request: String
    public var driver: String
    public var pool: String
    public var device: String
    public var shareID: String?

    public init(request: String, driver: String, pool: String, device: String, shareID: String? = nil) {
        self.request = request
        self.driver = driver
        self.pool = pool
        self.device = device
        self.shareID = shareID
    }

    init(fields f: JSONFields) throws(SpecError) {
        self.init(request: try f.string("request") ?? "", driver: try f.requiredString("driver"), pool: try f.requiredString("pool"),
                  device: try f.requiredString("device"), shareID: try f.string("shareID"))
    }

    /// `driver/pool/device` (and `#shareID`), as an operator finds it in the ResourceSlices.
    public var description: String { "\(driver)/\(pool)/\(device)" + (shareID.map { "#\($0)" } ?? "") }
}

/// `resource.k8s.io/v1` ResourceSlice: one driver's devices in (part of) one pool.
public struct ResourceSlice: Sendable, Hashable {
    public var metadata: ObjectMeta
    public var driver: String
    /// `spec.pool.name` and `spec.pool.generation`: only the newest generation of a pool counts.
    public var pool: String
    public var poolGeneration: Int
    /// `spec.nodeName`; nil for devices not local to one node.
    public var nodeName: String?
    public var devices: [SliceDevice]

    public init(metadata: ObjectMeta, driver: String, pool: String, poolGeneration: Int = 0, nodeName: String? = nil, devices: [SliceDevice]) {
        self.metadata = metadata
        self.driver = driver
        self.pool = pool
        self.poolGeneration = poolGeneration
        self.nodeName = nodeName
        self.devices = devices
    }

    public init(json: JSONValue) throws(SpecError) {
        try self.init(root: try JSONFields(json, path: ""))
    }

    private init(root: JSONFields) throws(SpecError) {
        let spec = try root.fields("spec") ?? JSONFields(JSONObject(), path: root.path("spec"))
        let pool = try spec.fields("pool") ?? JSONFields(JSONObject(), path: spec.path("pool"))
        self.init(metadata: try ObjectMeta(json: .object(root.object)), driver: try spec.requiredString("driver"),
                  pool: try pool.requiredString("name"), poolGeneration: try pool.int("generation") ?? 0,
                  nodeName: try spec.string("nodeName"), devices: try spec.objects("devices").map(SliceDevice.init(fields:)))
    }

    /// The items of a `ResourceSliceList`, each failure naming `items[i]`.
    public static func list(json: JSONValue) throws(SpecError) -> [ResourceSlice] {
        try JSONFields(json, path: "").objects("items").map { item throws(SpecError) in try ResourceSlice(root: item) }
    }
}

/// One device of a ResourceSlice and its attributes (`spec.devices[].attributes`).
public struct SliceDevice: Sendable, Hashable {
    public var name: String
    /// By qualified name, e.g. `k8s.cni.cncf.io/deviceID`.
    public var attributes: [String: DeviceAttribute]

    public init(name: String, attributes: [String: DeviceAttribute] = [:]) {
        self.name = name
        self.attributes = attributes
    }

    init(fields f: JSONFields) throws(SpecError) {
        var attributes: [String: DeviceAttribute] = [:]
        if let given = try f.fields("attributes") {
            for key in given.object.keys {
                guard let attribute = try given.fields(key) else { continue }
                attributes[key] = try DeviceAttribute(fields: attribute)
            }
        }
        self.init(name: try f.requiredString("name"), attributes: attributes)
    }

    /// The attribute's value when it is a string (`{"string": ...}`), as Multus reads its two.
    public func string(_ attribute: String) -> String? {
        if case .string(let text)? = attributes[attribute] { text } else { nil }
    }
}

/// A device attribute: exactly one of `int`, `bool`, `string` and `version`. One of a kind a
/// later API adds reads as `.other`.
public enum DeviceAttribute: Sendable, Hashable {
    case int(Int)
    case bool(Bool)
    case string(String)
    case version(String)
    case other

    init(fields f: JSONFields) throws(SpecError) {
        if let value = try f.string("string") {
            self = .string(value)
        } else if let value = try f.int("int") {
            self = .int(value)
        } else if let value = try f.bool("bool") {
            self = .bool(value)
        } else if let value = try f.string("version") {
            self = .version(value)
        } else {
            self = .other
        }
    }
}

/// Where the pod's DRA devices are: its claims in the order the pod lists them, and the claim
/// the scheduler made for extended resources backed by DRA. Read from the pod as the API holds it.
public struct PodClaims: Sendable, Hashable {
    /// The ResourceClaim objects, in the pod's namespace, each once.
    public var claims: [PodClaim]
    /// `status.extendedResourceClaimStatus` (KEP-5004).
    public var extended: ExtendedResourceClaim?

    public init(claims: [PodClaim] = [], extended: ExtendedResourceClaim? = nil) {
        self.claims = claims
        self.extended = extended
    }

    public var isEmpty: Bool { claims.isEmpty && extended == nil }
}

/// One of `spec.resourceClaims`: its name in the pod, and the ResourceClaim object's name.
public struct PodClaim: Sendable, Hashable {
    /// `spec.resourceClaims[].name`, what containers refer to.
    public var reference: String
    /// The ResourceClaim's own name: `resourceClaimName`, or for a template the name
    /// `status.resourceClaimStatuses` gives the claim generated from it.
    public var claimName: String

    public init(reference: String, claimName: String) {
        self.reference = reference
        self.claimName = claimName
    }
}

/// `status.extendedResourceClaimStatus`: which request of the scheduler's claim backs which
/// extended resource of which container.
public struct ExtendedResourceClaim: Sendable, Hashable {
    public var claimName: String
    public var mappings: [Mapping]

    public struct Mapping: Sendable, Hashable {
        public var containerName: String
        /// The extended resource (`intel.com/sriov`): the key a NAD's resourceName matches.
        public var resourceName: String
        public var requestName: String

        public init(containerName: String, resourceName: String, requestName: String) {
            self.containerName = containerName
            self.resourceName = resourceName
            self.requestName = requestName
        }
    }

    public init(claimName: String, mappings: [Mapping]) {
        self.claimName = claimName
        self.mappings = mappings
    }
}

extension Pod {
    private var spec: JSONObject { object.objectValue?["spec"]?.objectValue ?? JSONObject() }

    /// `spec.nodeName`: the node the pod runs on, whose ResourceSlices hold its devices.
    public var nodeName: String { spec["nodeName"]?.stringValue ?? "" }

    /// Init containers then containers, as the spec lists them: the kubelet's container order.
    public var containerNames: [String] {
        let spec = self.spec
        var names: [String] = []
        for key in ["initContainers", "containers"] {
            for container in spec[key]?.arrayValue ?? [] {
                if let name = container.objectValue?["name"]?.stringValue { names.append(name) }
            }
        }
        return names
    }

    /// The pod's ResourceClaims: every entry of `status.resourceClaimStatuses` (each claim
    /// generated from a template; none where generating one was not needed), and each
    /// `spec.resourceClaims[].resourceClaimName` (a claim made beforehand, which has no status
    /// entry), in the order of `spec.resourceClaims` where an entry is there, each claim once.
    /// - Throws: `SpecError` naming the field that has the wrong kind.
    public func claims() throws(SpecError) -> PodClaims {
        let root = try JSONFields(object, path: "")
        let spec = try root.fields("spec")
        let status = try root.fields("status")
        var generated: [String: String] = [:]
        var statusOrder: [String] = []
        for entry in try status?.objects("resourceClaimStatuses") ?? [] {
            let reference = try entry.requiredString("name")
            guard let claimName = try entry.string("resourceClaimName") else { continue }
            generated[reference] = claimName
            statusOrder.append(reference)
        }
        var claims: [PodClaim] = []
        func add(_ claim: PodClaim) {
            if !claims.contains(where: { $0.claimName == claim.claimName }) { claims.append(claim) }
        }
        for entry in try spec?.objects("resourceClaims") ?? [] {
            let reference = try entry.requiredString("name")
            if let direct = try entry.string("resourceClaimName") {
                add(PodClaim(reference: reference, claimName: direct))
            } else if let claimName = generated[reference] {
                add(PodClaim(reference: reference, claimName: claimName))
            }
        }
        for reference in statusOrder { if let claimName = generated[reference] { add(PodClaim(reference: reference, claimName: claimName)) } }
        return PodClaims(claims: claims, extended: try status?.fields("extendedResourceClaimStatus").map(ExtendedResourceClaim.init(fields:)))
    }
}

extension ExtendedResourceClaim {
    init(fields f: JSONFields) throws(SpecError) {
        self.init(claimName: try f.requiredString("resourceClaimName"), mappings: try f.objects("requestMappings").map { m throws(SpecError) in
            Mapping(containerName: try m.string("containerName") ?? "", resourceName: try m.requiredString("resourceName"),
                    requestName: try m.requiredString("requestName"))
        })
    }
}
