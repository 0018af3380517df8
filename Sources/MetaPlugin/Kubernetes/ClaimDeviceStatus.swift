import CNI
import KubeClient
import System

/// What we report in a ResourceClaim's `status.devices` (KEP-4817) for a DRA device we attached:
/// the pod interface it became, with its addresses and MAC (`networkData`), and a `Ready`
/// condition. A DRA network driver that attaches its own devices (dranet) writes this; under a
/// meta-plugin the driver only prepares the device, and we are the ones who know the interface.
///
/// The entry's other fields (`data`, other conditions) and other drivers' entries belong to
/// others: we own, through server-side apply under `fieldManager`, only what is built here.
enum ClaimDeviceStatus {
    /// Our field manager: one for every node and pod, so that an entry's owner reads as us.
    static let fieldManager = "swift-multus"
    static let readyType = "Ready"
    static let readyReason = "NetworkAttached"

    /// The attachments of `attachments` whose device came from a DRA allocation result and that
    /// have a result, by claim (`namespace/name`), claims in the order their first device comes.
    static func byClaim(_ attachments: [CachedAttachment]) -> [(claim: ClaimName, devices: [AttachedDRADevice])] {
        var order: [ClaimName] = []
        var devices: [ClaimName: [AttachedDRADevice]] = [:]
        for cached in attachments {
            guard let dra = cached.attachment.device?.dra, let result = cached.result, let claim = ClaimName(dra.claim) else { continue }
            if devices[claim] == nil { order.append(claim) }
            devices[claim, default: []].append(AttachedDRADevice(attachment: cached.attachment, dra: dra, result: result))
        }
        return order.map { ($0, devices[$0] ?? []) }
    }

    /// The pod interface `attachment` gave, as network-status reports it: the pod-side interface
    /// of its name (else its last pod-side one) with the IPs that name it (and, as in Multus, the
    /// IPs that name none, if it is the last), as the result writes them (CIDR with the host bits).
    /// A result that names no pod interface gives the interface asked for and every IP.
    static func networkData(_ attachment: Attachment, result: CNIResult) -> NetworkDeviceData {
        let podSide = result.interfaces.indices.filter { result.interfaces[$0].sandbox.map { !$0.isEmpty } ?? false }
        guard let last = podSide.last else {
            return bounded(NetworkDeviceData(interfaceName: attachment.ifName.text, ips: result.ips.map(\.address.text), hardwareAddress: nil))
        }
        let index = podSide.first { result.interfaces[$0].name == attachment.ifName.text } ?? last
        let ips = result.ips.filter { ip in
            guard let owner = ip.interface, result.interfaces.indices.contains(owner) else { return index == last }
            return owner == index
        }
        let interface = result.interfaces[index]
        return bounded(NetworkDeviceData(interfaceName: interface.name, ips: ips.map(\.address.text), hardwareAddress: interface.mac))
    }

    /// Within the API's limits: at most 16 IPs (the first), and a MAC only as long as it allows.
    private static func bounded(_ data: NetworkDeviceData) -> NetworkDeviceData {
        var data = data
        data.ips = Array(data.ips.prefix(NetworkDeviceData.maxIPs))
        if let mac = data.hardwareAddress, mac.isEmpty || mac.utf8.count > NetworkDeviceData.maxHardwareAddressLength { data.hardwareAddress = nil }
        return data
    }

    /// Our entry for `device` in `claim`: its networkData and a `Ready` condition for the claim's
    /// generation. A condition of ours already True keeps its transition time.
    static func entry(for device: AttachedDRADevice, in claim: ResourceClaim, pod: String, containerID: String, now: WallClockTime,
                      withCondition: Bool = true) -> DeviceStatusEntry {
        let key = DeviceStatusKey(device.dra.allocation)
        guard withCondition else { return DeviceStatusEntry(key: key, networkData: device.networkData, conditions: []) }
        let existing = ready(in: claim.deviceStatus(key))
        let since = existing.flatMap { $0["status"] == "True" ? $0["lastTransitionTime"]?.stringValue : nil } ?? now.rfc3339
        let condition = DeviceCondition(type: readyType, status: "True", reason: readyReason,
                                        message: "\(device.attachment.ifName) of pod \(pod) (\(containerMark(containerID))), network \(device.attachment.statusName)",
                                        lastTransitionTime: since, observedGeneration: claim.metadata.generation)
        return DeviceStatusEntry(key: key, networkData: device.networkData, conditions: [condition])
    }

    /// Whether the claim's entry for `device` is the one this container's ADD wrote, so that its
    /// DEL may take it out: our `Ready` condition, where there is one, names this container (a
    /// newer sandbox of the same pod may have written the entry since); without it, the
    /// networkData is what we would write.
    static func isWritten(by containerID: String, _ device: AttachedDRADevice, in claim: ResourceClaim) -> Bool {
        guard let entry = claim.deviceStatus(DeviceStatusKey(device.dra.allocation)) else { return false }
        if let ready = ready(in: entry), ready["reason"] == .string(readyReason) {
            return ready["message"]?.stringValue?.contains("(\(containerMark(containerID)))") ?? false
        }
        return NetworkDeviceData(json: entry["networkData"] ?? .null) == device.networkData
    }

    private static func ready(in entry: JSONObject?) -> JSONObject? {
        entry?["conditions"]?.arrayValue?.lazy.compactMap(\.objectValue).first { $0["type"] == .string(readyType) }
    }

    /// How a condition names the container that wrote it: `container <first 12 characters>`, as
    /// `crictl ps` shows IDs.
    static func containerMark(_ containerID: String) -> String { "container \(containerID.prefix(12))" }
}

/// A ResourceClaim by namespace and name.
struct ClaimName: Sendable, Hashable, CustomStringConvertible {
    var namespace: Namespace
    /// A DRA claim's name, as the pod's status gives it; it goes into a path only after a namespace that passed.
    var name: String

    /// From `namespace/name`, as `DRADevice.claim` holds it.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, let namespace = try? Namespace(String(parts[0])) else { return nil }
        self.namespace = namespace
        name = String(parts[1])
    }

    var description: String { "\(namespace)/\(name)" }
}

/// A DRA device one attachment was given, with the result it was attached with.
struct AttachedDRADevice: Sendable, Hashable {
    var attachment: Attachment
    var dra: DRADevice
    var result: CNIResult

    var networkData: NetworkDeviceData { ClaimDeviceStatus.networkData(attachment, result: result) }
    /// `driver/pool/device (net1)`, for messages.
    var label: String { "\(dra.allocation) (\(attachment.ifName))" }
}
