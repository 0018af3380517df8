import CNI

/// `k8s.v1.cni.cncf.io/network-status`: what each attachment gave the pod, in the format of the
/// Network Plumbing WG spec that Multus writes (and tools such as kubectl plugins read).
enum NetworkStatus {
    static let annotation = "k8s.v1.cni.cncf.io/network-status"

    /// One entry per pod-side interface of each attachment, in plan order.
    /// - Parameters:
    ///   - isDefault: whether an attachment holds the pod's default route.
    ///   - deviceInfo: its `device-info`, for a device-plugin device.
    static func entries(_ attachments: [(attachment: Attachment, result: CNIResult)], isDefault: (Attachment) -> Bool = { $0.role == .main },
                        deviceInfo: (Attachment) -> JSONValue? = { _ in nil }) -> [JSONValue] {
        attachments.flatMap { entries(for: $0.attachment, result: $0.result, isDefault: isDefault($0.attachment), deviceInfo: deviceInfo($0.attachment)) }
    }

    static func entries(for attachment: Attachment, result: CNIResult, isDefault: Bool, deviceInfo: JSONValue?) -> [JSONValue] {
        // A default route without `gw` goes through the IPAM gateway of its family (the spec's
        // "if omitted, a default gateway is assumed"), and that is the gateway to report. Each
        // is listed once as written (two spellings of one address are listed as written).
        var gateways: [String] = []
        for route in result.routes where route.dst.isDefaultRoute {
            if let gw = (route.gw ?? result.ips.first(where: { $0.family == route.family && $0.gateway != nil })?.gateway)?.text,
               !gateways.contains(gw) { gateways.append(gw) }
        }
        let podSide = result.interfaces.indices.filter { result.interfaces[$0].sandbox.map { !$0.isEmpty } ?? false }
        func entry(interface: CNIResult.Interface?, ips: [CNIResult.IPConfig], isDefault: Bool) -> JSONValue {
            var o = JSONObject()
            o["name"] = .string(attachment.statusName)
            if let interface { o["interface"] = .string(interface.name) }
            if !ips.isEmpty { o["ips"] = .array(ips.map { .string($0.address.address.text) }) }
            if let mac = interface?.mac, !mac.isEmpty { o["mac"] = .string(mac) }
            if let mtu = interface?.mtu, mtu > 0 { o["mtu"] = JSONValue(mtu) }
            if isDefault { o["default"] = true }
            o["dns"] = result.dns.json
            if let deviceInfo { o["device-info"] = deviceInfo }
            if !gateways.isEmpty { o["gateway"] = .array(gateways.map { .string($0) }) }
            return .object(o)
        }
        guard let lastPodInterface = podSide.last else {
            // A result naming no pod interface (0.2.0 style): one entry on the requested name;
            // none for the auxiliary chain, which has no interface of its own.
            guard attachment.role != .auxiliary else { return [] }
            return [entry(interface: CNIResult.Interface(name: attachment.ifName.text), ips: result.ips, isDefault: isDefault)]
        }
        let defaultIndex = isDefault ? Self.defaultInterface(of: result, among: podSide) : nil
        return podSide.map { index in
            // IPs that name no interface (or one that is not there) belong to the last pod interface, as in Multus.
            let ips = result.ips.filter { ip in
                guard let owner = ip.interface, result.interfaces.indices.contains(owner) else { return index == lastPodInterface }
                return owner == index
            }
            return entry(interface: result.interfaces[index], ips: ips, isDefault: index == defaultIndex)
        }
    }

    /// The one pod interface of the default network that network-status marks `default`: the
    /// first that an IP with a gateway names, else the first. Multus v4.1+ (the NAD client's
    /// CreateNetworkStatuses) picks the same, except that when the gateway's IP names a host-side
    /// interface it marks none; a reader looking for the default entry then finds nothing.
    static func defaultInterface(of result: CNIResult, among podSide: [Int]) -> Int? {
        let viaGateway = result.ips.first { ip in ip.gateway != nil && ip.interface.map(podSide.contains) == true }?.interface
        return viaGateway ?? podSide.first
    }

    static func annotationValue(_ entries: [JSONValue]) -> String { JSONValue.array(entries).serialized() }
}
