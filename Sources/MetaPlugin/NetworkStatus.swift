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
        // "if omitted, a default gateway is assumed"), and that is the gateway to report.
        var gateways: [String] = []
        for route in result.routes where route.dst == "0.0.0.0/0" || route.dst == "::/0" {
            if let gw = route.gw ?? result.ips.first(where: { $0.family == route.family && $0.gateway != nil })?.gateway,
               !gateways.contains(gw) { gateways.append(gw) }
        }
        let podSide = result.interfaces.indices.filter { result.interfaces[$0].sandbox.map { !$0.isEmpty } ?? false }
        func entry(interface: CNIResult.Interface?, ips: [String]) -> JSONValue {
            var o = JSONObject()
            o["name"] = .string(attachment.statusName)
            if let interface { o["interface"] = .string(interface.name) }
            if !ips.isEmpty { o["ips"] = .array(ips.map { .string($0) }) }
            if let mac = interface?.mac, !mac.isEmpty { o["mac"] = .string(mac) }
            if let mtu = interface?.mtu, mtu > 0 { o["mtu"] = JSONValue(mtu) }
            if isDefault { o["default"] = true }
            o["dns"] = result.dns.json
            if let deviceInfo { o["device-info"] = deviceInfo }
            if !gateways.isEmpty { o["gateway"] = .array(gateways.map { .string($0) }) }
            return .object(o)
        }
        let bare = { (ip: CNIResult.IPConfig) in String(ip.address.prefix { $0 != "/" }) }
        guard !podSide.isEmpty else {
            // A result naming no pod interface (0.2.0 style): one entry on the requested name.
            return [entry(interface: CNIResult.Interface(name: attachment.ifName), ips: result.ips.map(bare))]
        }
        return podSide.map { index in
            entry(interface: result.interfaces[index], ips: result.ips.filter { $0.interface == index }.map(bare))
        }
    }

    static func annotationValue(_ entries: [JSONValue]) -> String { JSONValue.array(entries).serialized() }
}
