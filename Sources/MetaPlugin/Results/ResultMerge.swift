import CNI

/// One result out of many: what the runtime is told about the pod's networking.
///
/// By default the runtime gets the main network's result alone, as Multus returns it, but in the
/// multus config's cniVersion (Multus hands back the delegate's own version, which a runtime that
/// asked for another refuses). CRI-O and podman put every IP of a result into the pod (podIPs,
/// hostPort DNAT, /etc/hosts), so anything more would leak secondary addresses there.
///
/// `merged` adds the secondaries for containerd, which reads only eth0's IPs, and for people
/// running the plugin by hand, under rules every runtime can live with: the main result first and
/// untouched; each secondary interface in the sandbox with a MAC; each secondary IP pointing at
/// its own interface (containerd counts an IP without an index as eth0's).
public enum ResultMerge {
    /// One attachment's result, with what the merged form needs of it.
    public struct Attached: Sendable {
        public var role: Attachment.Role
        public var ifName: InterfaceName
        public var result: CNIResult

        public init(role: Attachment.Role, ifName: InterfaceName, result: CNIResult) {
            self.role = role
            self.ifName = ifName
            self.result = result
        }
    }

    /// Where the secondaries' interfaces live, for the merged form's `sandbox` and `mac`.
    public struct Sandbox: Sendable {
        /// The pod's netns path (CNI_NETNS).
        public var netns: String
        /// The MAC of each interface in the netns, by name, for interfaces a delegate reported
        /// without a usable one (and for results of versions that carry no interfaces).
        public var macs: [String: String]

        public init(netns: String, macs: [String: String]) {
            self.netns = netns
            self.macs = macs
        }
    }

    /// - Parameters:
    ///   - results: each attachment's result, in plan order (main first).
    ///   - version: the multus config's cniVersion: the result's version whatever the delegates'.
    ///   - sandbox: consulted only in `.merged` mode; made on demand (reading MACs enters the netns).
    /// - Returns: the result and, for `.merged`, one note per secondary interface left out (no MAC).
    /// - Throws: `SpecError.unconvertible` when the target version cannot carry the result.
    public static func result(_ results: [Attached], version: SpecVersion, mode: MultusConfig.ResultMode,
                              sandbox: () -> Sandbox) throws(SpecError) -> (result: CNIResult, notes: [String]) {
        let main = results.first { $0.role == .main }
        switch mode {
        case .main:
            return (try (main?.result ?? CNIResult(cniVersion: version)).converted(to: version), [])
        case .merged:
            var merged = try (main?.result ?? CNIResult(cniVersion: .latest)).converted(to: .latest)
            var notes: [String] = []
            let place = sandbox()
            for secondary in results where secondary.role != .main {
                notes += append(try secondary.result.converted(to: .latest), ifName: secondary.ifName.text, to: &merged, sandbox: place)
            }
            return (try merged.converted(to: version), notes)
        }
    }

    /// Adds one secondary's container-side interfaces and its IPs, each IP re-pointed at its own
    /// interface. Host-side interfaces (a bridge, a veth peer) are not the pod's and are dropped.
    static func append(_ secondary: CNIResult, ifName: String, to merged: inout CNIResult, sandbox: Sandbox) -> [String] {
        var notes: [String] = []
        var newIndex: [Int: Int] = [:]
        for (old, interface) in secondary.interfaces.enumerated() where !(interface.sandbox ?? "").isEmpty {
            guard let placed = placed(interface, sandbox: sandbox) else {
                notes.append("merged result: interface \(interface.name) of \(ifName)'s network has no MAC; it and its IPs are left out")
                continue
            }
            newIndex[old] = merged.interfaces.count
            merged.interfaces.append(placed)
        }
        for ip in secondary.ips {
            guard let target = ip.interface.flatMap({ newIndex[$0] }) ?? ownInterface(ifName, in: &merged, sandbox: sandbox, notes: &notes) else { continue }
            var ip = ip
            ip.interface = target
            merged.ips.append(ip)
        }
        for route in secondary.routes where !merged.routes.contains(route) { merged.routes.append(route) }
        return notes.reduce(into: []) { unique, note in if !unique.contains(note) { unique.append(note) } }
    }

    /// The index of the interface named `ifName` in the pod, added (from the netns) when the
    /// delegate did not report it; nil when it has no MAC to report.
    private static func ownInterface(_ ifName: String, in merged: inout CNIResult, sandbox: Sandbox, notes: inout [String]) -> Int? {
        if let index = merged.interfaces.lastIndex(where: { $0.name == ifName && $0.sandbox == sandbox.netns }) { return index }
        guard let interface = placed(CNIResult.Interface(name: ifName, sandbox: sandbox.netns), sandbox: sandbox) else {
            notes.append("merged result: IPs of \(ifName) left out: the interface has no MAC in the pod")
            return nil
        }
        merged.interfaces.append(interface)
        return merged.interfaces.count - 1
    }

    /// `interface` with a valid MAC (its own, else the netns's), or nil when neither has one.
    private static func placed(_ interface: CNIResult.Interface, sandbox: Sandbox) -> CNIResult.Interface? {
        var interface = interface
        if interface.mac.map(isValidMAC) != true { interface.mac = sandbox.macs[interface.name] }
        return interface.mac.map(isValidMAC) == true ? interface : nil
    }

    /// What Go's `net.ParseMAC` accepts in its colon form (6, 8 or 20 octets), which podman
    /// applies to every interface of a result, failing the whole result on one bad MAC.
    static func isValidMAC(_ text: String) -> Bool {
        let octets = text.split(separator: ":", omittingEmptySubsequences: false)
        guard [6, 8, 20].contains(octets.count) else { return false }
        return octets.allSatisfy { $0.utf8.count == 2 && $0.allSatisfy(\.isHexDigit) }
    }
}

extension ResultMerge {
    /// What ADD prints for `entry`, in the config's version and result mode. Interfaces left out
    /// of a merged result are noted on stderr.
    static func result(for entry: CacheEntry, context: PluginContext) throws(SpecError) -> CNIResult {
        let attached = entry.attachments.compactMap { cached in
            cached.result.map { Attached(role: cached.attachment.role, ifName: cached.attachment.ifName, result: $0) }
        }
        let netns = context.invocation.netns
        let (result, notes) = try result(attached, version: context.config.cniVersion, mode: context.config.resultMode) {
            do { return Sandbox(netns: netns, macs: try PodRoutes.hardwareAddresses(netns: netns)) } catch {
                context.diagnostics.note("merged result: cannot read the pod's MACs: \(error)")
                return Sandbox(netns: netns, macs: [:])
            }
        }
        notes.forEach(context.diagnostics.note)
        return result
    }
}
