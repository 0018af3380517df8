import CNI

/// `default-route` in the pod's networks annotation, applied after every network is attached.
///
/// For each family with a requested gateway, that gateway on its network's interface becomes the
/// pod's only default route of that family: eth0's goes too. Routes of the other family are not
/// touched (Multus strips both families, and also strips eth0's routes when no gateway is given).
/// The cached and merged results are rewritten to match what the kernel now holds, so that CHECK
/// of every plugin still passes.
enum DefaultRoutes {
    /// Changes the routes in `netns`, then the results in `entry` to match.
    /// - Throws: `MetaError.route` naming the network, interface and gateway.
    static func apply(_ entry: inout CacheEntry, netns: String) throws(MetaError) {
        for index in entry.attachments.indices {
            let attachment = entry.attachments[index].attachment
            for gateway in attachment.defaultGateways {
                let family = gateway.family
                do {
                    try PodRoutes.setDefaultRoute(netns: netns, gateway: gateway, ifName: attachment.ifName.text)
                } catch {
                    throw .route(error.description, attachment: attachment.label)
                }
                for other in entry.attachments.indices {
                    entry.attachments[other].result?.routes.removeAll { isDefault($0, family) }
                }
                entry.attachments[index].result?.routes.append(
                    CNIResult.Route(dst: .defaultRoute(family), gw: .address(gateway)))
            }
        }
    }

    static func isDefault(_ route: CNIResult.Route, _ family: IPFamily) -> Bool {
        route.family == family && route.dst.isDefaultRoute
    }

    /// Which attachments network-status marks `default`: those holding a requested default
    /// route; without any request, the main network (as Multus).
    static func isDefault(_ attachment: Attachment, among all: [Attachment]) -> Bool {
        all.contains { !$0.defaultGateways.isEmpty } ? !attachment.defaultGateways.isEmpty : attachment.role == .main
    }
}
