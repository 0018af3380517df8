import CNI

// KEP-4817 device status: a ResourceClaim's `status.devices`, one entry per allocated device that
// someone reports on, keyed by driver, pool, device and shareID (a list-map, so server-side apply
// tracks each entry, and each field in it, per field manager). Field names are those of
// k8s.io/api/resource/v1 and k8s.io/apimachinery/pkg/apis/meta/v1.

/// The key of one `status.devices` entry: the allocated device it reports on.
public struct DeviceStatusKey: Sendable, Hashable, CustomStringConvertible {
    public var driver: String
    public var pool: String
    public var device: String
    /// KEP-5075 consumable capacity: which share of a device shared between allocations.
    public var shareID: String?

    public init(driver: String, pool: String, device: String, shareID: String? = nil) {
        self.driver = driver
        self.pool = pool
        self.device = device
        self.shareID = shareID
    }

    /// The key of the device an allocation result names.
    public init(_ allocation: DeviceAllocation) {
        self.init(driver: allocation.driver, pool: allocation.pool, device: allocation.device, shareID: allocation.shareID)
    }

    /// The key an entry (or a managedFields key, `k:{...}`) carries; nil without its three
    /// required fields as strings.
    public init?(fields object: JSONObject) {
        guard let driver = object["driver"]?.stringValue, let pool = object["pool"]?.stringValue,
              let device = object["device"]?.stringValue else { return nil }
        let shareID = object["shareID"]
        guard shareID == nil || shareID?.stringValue != nil else { return nil }
        self.init(driver: driver, pool: pool, device: device, shareID: shareID?.stringValue)
    }

    /// The key fields, as an entry holds them (shareID only when there is one).
    var fields: JSONObject {
        var o: JSONObject = ["driver": .string(driver), "pool": .string(pool), "device": .string(device)]
        if let shareID { o["shareID"] = .string(shareID) }
        return o
    }

    /// `driver/pool/device` (and `#shareID`), as `DeviceAllocation` prints it.
    public var description: String { "\(driver)/\(pool)/\(device)" + (shareID.map { "#\($0)" } ?? "") }
}

/// `networkData` of an entry: the network interface a device became.
public struct NetworkDeviceData: Sendable, Hashable {
    /// The interface in the pod (`net1`), as the delegate's result names it: echoed, so text.
    public var interfaceName: String
    /// Its addresses in CIDR notation with the host bits (`10.1.10.2/24`), as a CNI result gives them.
    public var ips: [String]
    /// Its MAC address; nil when the result names none.
    public var hardwareAddress: String?

    /// The API's limits (resource/v1 NetworkDeviceDataMaxIPs and the two length limits).
    public static let maxIPs = 16
    public static let maxInterfaceNameLength = 256
    public static let maxHardwareAddressLength = 128

    /// An empty hardware address is none, as the API's `omitempty` writes it.
    public init(interfaceName: String, ips: [String], hardwareAddress: String?) {
        self.interfaceName = interfaceName
        self.ips = ips
        self.hardwareAddress = hardwareAddress?.isEmpty == false ? hardwareAddress : nil
    }

    /// Read back from an entry; fields of the wrong kind read as absent.
    public init(json: JSONValue) {
        let o = json.objectValue ?? JSONObject()
        self.init(interfaceName: o["interfaceName"]?.stringValue ?? "", ips: o["ips"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  hardwareAddress: o["hardwareAddress"]?.stringValue)
    }

    /// Empty fields are left out, as the API's `omitempty` leaves them.
    public var json: JSONValue {
        var o = JSONObject()
        if !interfaceName.isEmpty { o["interfaceName"] = .string(interfaceName) }
        if !ips.isEmpty { o["ips"] = .array(ips.map(JSONValue.string)) }
        if let hardwareAddress, !hardwareAddress.isEmpty { o["hardwareAddress"] = .string(hardwareAddress) }
        return .object(o)
    }
}

/// A `metav1.Condition` of an entry.
public struct DeviceCondition: Sendable, Hashable {
    public var type: String
    /// "True", "False" or "Unknown".
    public var status: String
    /// CamelCase, as the API requires.
    public var reason: String
    public var message: String
    /// RFC 3339, whole seconds.
    public var lastTransitionTime: String
    /// The claim's `metadata.generation` this condition was set for.
    public var observedGeneration: Int

    public init(type: String, status: String, reason: String, message: String, lastTransitionTime: String, observedGeneration: Int) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    public var json: JSONValue {
        ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
         "lastTransitionTime": .string(lastTransitionTime), "observedGeneration": JSONValue(observedGeneration)]
    }
}

/// One entry as a field manager applies it: its key, and only the fields that manager sets.
public struct DeviceStatusEntry: Sendable, Hashable {
    public var key: DeviceStatusKey
    public var networkData: NetworkDeviceData
    public var conditions: [DeviceCondition]

    public init(key: DeviceStatusKey, networkData: NetworkDeviceData, conditions: [DeviceCondition]) {
        self.key = key
        self.networkData = networkData
        self.conditions = conditions
    }

    public var json: JSONValue {
        var o = key.fields
        if !conditions.isEmpty { o["conditions"] = .array(conditions.map(\.json)) }
        o["networkData"] = networkData.json
        return .object(o)
    }
}

extension ResourceClaim {
    /// `status.devices`, each entry by its key, in order; entries without a readable key are left out.
    public var deviceStatuses: [(key: DeviceStatusKey, entry: JSONObject)] {
        let devices = object.objectValue?["status"]?.objectValue?["devices"]?.arrayValue ?? []
        return devices.compactMap { value in
            guard let entry = value.objectValue, let key = DeviceStatusKey(fields: entry) else { return nil }
            return (key, entry)
        }
    }

    /// The entry for `key`, if the claim has one.
    public func deviceStatus(_ key: DeviceStatusKey) -> JSONObject? {
        deviceStatuses.first { $0.key == key }?.entry
    }

    /// What `manager` owns of `status.devices` through server-side apply of the status
    /// subresource (its `Apply` entry in `metadata.managedFields`), entry by entry: the FieldsV1
    /// set under each entry's `k:{...}`. A managedFields entry or key that does not read is left out.
    public func appliedDeviceFields(manager: String) -> [(key: DeviceStatusKey, fields: FieldSet)] {
        let managed = object.objectValue?["metadata"]?.objectValue?["managedFields"]?.arrayValue ?? []
        let mine = managed.first { value in
            guard let e = value.objectValue else { return false }
            return e["manager"]?.stringValue == manager && e["operation"]?.stringValue == "Apply" && e["subresource"]?.stringValue == "status"
        }
        let devices = mine?.objectValue?["fieldsV1"]?.objectValue?["f:status"]?.objectValue?["f:devices"]?.objectValue ?? JSONObject()
        return devices.compactMap { element, value in
            guard let key = FieldSet.listKey(element).flatMap(DeviceStatusKey.init(fields:)), let set = value.objectValue else { return nil }
            return (key, FieldSet(set))
        }
    }

    /// The body of a server-side apply of this claim's status by `manager`: the entries it still
    /// owns (each cut down to the fields it owns, with their current values), then `setting`
    /// (replacing its own entry of the same key), without the entries of `removing`. Server-side
    /// apply removes what a manager applied before and applies no more, unless another manager
    /// owns it too; entries of other managers are never in the body, so they are never touched.
    ///
    /// The claim's `resourceVersion` makes the apply conditional: the body was built from what it
    /// owned at that version, and a claim changed since gets 409, not a silent loss of entries.
    public func statusApply(manager: String, setting: [DeviceStatusEntry], removing: Set<DeviceStatusKey>) -> JSONValue {
        let replaced = Set(setting.map(\.key)).union(removing)
        var devices: [JSONValue] = []
        for (key, fields) in appliedDeviceFields(manager: manager) where !replaced.contains(key) {
            guard let entry = deviceStatus(key), case .object(var kept)? = fields.project(.object(entry), lists: Self.statusListKeys) else { continue }
            for (name, value) in key.fields where kept[name] == nil { kept[name] = value }
            devices.append(.object(kept))
        }
        devices += setting.map(\.json)
        var metadata: JSONObject = ["name": .string(metadata.name), "namespace": .string(metadata.namespace)]
        if !self.metadata.resourceVersion.isEmpty { metadata["resourceVersion"] = .string(self.metadata.resourceVersion) }
        var body: JSONObject = ["apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": .object(metadata)]
        // Nothing left to own: no status at all, so that the manager owns nothing (an empty list
        // would be a field of its own).
        if !devices.isEmpty { body["status"] = ["devices": .array(devices)] }
        return .object(body)
    }

    /// The list-maps inside a `status.devices` entry and their keys (`conditions` by `type`).
    static let statusListKeys = ["conditions": ["type"]]
}

/// A managedFields FieldsV1 set, as the API server writes it (structured-merge-diff): `f:<name>`
/// for a field, `k:{...}` for a list-map item by its key fields, `.` for the item itself, `{}`
/// for a leaf. Only these are read; `v:` (set members) and `i:` (list indices) are passed over.
public struct FieldSet: Sendable, Hashable {
    public var elements: JSONObject

    public init(_ elements: JSONObject) { self.elements = elements }

    /// The key fields of a `k:{...}` element; nil for any other element.
    public static func listKey(_ element: String) -> JSONObject? {
        guard element.hasPrefix("k:") else { return nil }
        return (try? JSONValue.parse(String(element.dropFirst(2))))?.objectValue
    }

    /// The part of `value` this set names: whole where the set stops (a leaf, or an item with
    /// only `.`), field by field into objects, item by item into the list-maps `lists` names
    /// (field name to key field names). nil when the set names nothing that `value` has.
    public func project(_ value: JSONValue, lists: [String: [String]]) -> JSONValue? {
        let children = elements.filter { $0.key != "." }
        guard !children.isEmpty else { return value }
        switch value {
        case .object(let object):
            var out = JSONObject()
            for (element, child) in children {
                guard element.hasPrefix("f:"), let set = child.objectValue else { continue }
                let name = String(element.dropFirst(2))
                guard let field = object[name] else { continue }
                let projected: JSONValue?
                if let keys = lists[name], case .array(let items) = field {
                    projected = FieldSet(set).projectItems(items, keys: keys, lists: lists)
                } else {
                    projected = FieldSet(set).project(field, lists: lists)
                }
                if let projected { out[name] = projected }
            }
            return out.isEmpty ? nil : .object(out)
        default:
            return nil
        }
    }

    /// The items of a list-map this set names, each matched by exactly its key fields.
    private func projectItems(_ items: [JSONValue], keys: [String], lists: [String: [String]]) -> JSONValue? {
        var out: [JSONValue] = []
        for (element, child) in elements {
            guard let key = Self.listKey(element), let set = child.objectValue,
                  let item = items.first(where: { Self.matches($0, key: key, keys: keys) }),
                  case .object(var projected)? = FieldSet(set).project(item, lists: lists) ?? .object(JSONObject()) else { continue }
            for (name, value) in key where projected[name] == nil { projected[name] = value }
            out.append(.object(projected))
        }
        return out.isEmpty ? nil : .array(out)
    }

    /// Whether `item` is the one `key` names: the same values for exactly the key fields it has.
    private static func matches(_ item: JSONValue, key: JSONObject, keys: [String]) -> Bool {
        let object = item.objectValue ?? JSONObject()
        let present = keys.filter { object[$0] != nil }
        return present.count == key.count && present.allSatisfy { key[$0] == object[$0] }
    }
}
