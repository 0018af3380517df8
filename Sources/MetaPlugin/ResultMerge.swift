import CNI

/// One result out of many: what the runtime is told about the pod's networking.
///
/// Multus returns only the main network's result, so a runtime (and anything reading its
/// result cache) cannot see secondary interfaces. We return all of them, main first, so a
/// runtime that takes the first IP still gets the pod IP.
public enum ResultMerge {
    /// - Parameters:
    ///   - results: each attachment's result, in plan order (main first).
    ///   - version: the multus config's cniVersion: the result's version whatever the delegates'.
    ///   - mode: `.main` returns only the main network's result (Multus's behaviour).
    /// - Throws: `SpecError.unconvertible` when the target version cannot carry the result.
    public static func merge(_ results: [(role: Attachment.Role, result: CNIResult)], version: SpecVersion,
                             mode: MultusConfig.ResultMode) throws(SpecError) -> CNIResult {
        let ordered = results.filter { $0.role == .main } + results.filter { $0.role != .main }
        let included = mode == .main ? Array(ordered.prefix(1)) : ordered
        var merged = CNIResult(cniVersion: .latest)
        for (index, item) in included.enumerated() {
            let offset = merged.interfaces.count
            merged.interfaces += item.result.interfaces
            merged.ips += item.result.ips.map { ip in
                var ip = ip
                ip.interface = ip.interface.map { $0 + offset }
                return ip
            }
            for route in item.result.routes where !merged.routes.contains(route) { merged.routes.append(route) }
            if index == 0 { merged.dns = item.result.dns }
        }
        return try merged.converted(to: version)
    }
}
