import CNI
import KubeClient
import MetaPlugin
import PodResources
import System

/// Group 4: what is on the node: the readiness file, cniDir, leftovers, the kubelet's socket.
/// It only reads; what it reports as leftover is what the plugin's GC and sweep remove.
struct NodeChecks {
    let config: MultusConfig
    let cniDir: String
    let seams: DoctorSeams

    func run(nads: [NetworkAttachmentDefinition]) -> [Check] {
        var checks = [readiness(), cniDirectory()]
        let inventory = NodeInventory(cniDir: cniDir)
        checks.append(goneNamespaces(inventory))
        checks.append(multusLeftovers(inventory))
        checks.append(temporaryFiles(inventory))
        if let socketCheck = podResources(nads) { checks.append(socketCheck) }
        return checks
    }

    private func readiness() -> Check {
        guard let path = config.readinessIndicatorFile else { return .ok("node.readiness", "no readinessindicatorfile configured") }
        if Files.exists(path) { return .ok("node.readiness", "\(path) exists: the main network is ready") }
        return .error("node.readiness", "\(path) does not exist: every ADD waits \(config.readinessIndicatorTimeout.doctorText) for it, then fails",
                      fix: "start the main network's plugin (it writes the file), or correct readinessindicatorfile")
    }

    private func cniDirectory() -> Check {
        let status: FileStatus
        do { status = try Files.status(cniDir) } catch where error.errno == .noSuchFileOrDirectory {
            return .ok("node.cni-dir", "\(cniDir) does not exist yet: the first ADD creates it")
        } catch {
            return .error("node.cni-dir", "cannot stat \(cniDir): \(error.errno)", fix: "check the path and its parent's permissions")
        }
        guard status.kind == .directory else {
            return .error("node.cni-dir", "\(cniDir) is not a directory", fix: "remove it, or point cniDir elsewhere")
        }
        var problems: [String] = []
        if status.owner != 0 { problems.append("owned by uid \(status.owner), not root") }
        if status.permissions & 0o022 != 0 { problems.append("writable by group or others (mode \(String(status.permissions & 0o7777, radix: 8)))") }
        if !Files.isWritable(cniDir) { problems.append("not writable by this user") }
        guard problems.isEmpty else {
            return .error("node.cni-dir", "\(cniDir) is \(problems.joined(separator: ", ")): its cache decides what DEL tears down",
                          fix: "chown root:root \(cniDir) && chmod 0700 \(cniDir)")
        }
        return .ok("node.cni-dir", "\(cniDir): root's, mode \(String(status.permissions & 0o7777, radix: 8))")
    }

    private func goneNamespaces(_ inventory: NodeInventory) -> Check {
        let entries = inventory.cachedContainers()
        let unreadable = entries.filter { $0.unreadable != nil }
        let gone = entries.filter { $0.unreadable == nil && !$0.netns.isEmpty && !Files.exists($0.netns) }
        var parts: [String] = []
        if !gone.isEmpty {
            parts.append("\(gone.count) cache entr\(gone.count == 1 ? "y" : "ies") whose network namespace is gone (leftover attachments): "
                         + Self.list(gone.map { "\($0.containerID) (\($0.netns))" }))
        }
        if !unreadable.isEmpty { parts.append("\(unreadable.count) unreadable: " + Self.list(unreadable.map(\.path))) }
        guard !parts.isEmpty else { return .ok("node.cache", "\(entries.count) cache entr\(entries.count == 1 ? "y" : "ies"), each with its network namespace") }
        return .warning("node.cache", parts.joined(separator: "; "),
                        fix: "the runtime's GC (CNI 1.1) or a DEL for each container removes them; with an older runtime, delete the pods' sandboxes (crictl rmp)")
    }

    private func multusLeftovers(_ inventory: NodeInventory) -> Check {
        let records = inventory.multusRecords()
        guard !records.isEmpty else { return .ok("node.multus-cache", "no Multus cache files in \(cniDir)") }
        return .warning("node.multus-cache", "\(records.count) Multus cache file\(records.count == 1 ? "" : "s") from before an upgrade in \(cniDir): "
                        + Self.list(records.map(\.text)),
                        fix: "nothing to do while their pods run: DEL and GC read them; a file whose pod is gone goes at the runtime's next GC")
    }

    private func temporaryFiles(_ inventory: NodeInventory) -> Check {
        let directories = [cniDir, inventory.cacheDirectory, config.confDir]
        let stale = directories.flatMap { directory in TemporaryFile.leftovers(in: directory).map { Files.join(directory, $0) } }
        guard !stale.isEmpty else { return .ok("node.temp-files", "no stale temporary files") }
        return .warning("node.temp-files", "\(stale.count) temporary file\(stale.count == 1 ? "" : "s") older than \(TemporaryFile.leftoverAge.doctorText) (a writer killed before its rename): "
                        + Self.list(stale),
                        fix: "harmless; the runtime's next GC removes them, or remove them by hand")
    }

    /// Only when a NAD asks for a device (`resourceName`): then ADD reads the kubelet's socket.
    private func podResources(_ nads: [NetworkAttachmentDefinition]) -> Check? {
        guard nads.contains(where: { !($0.metadata.annotations[NetworkAttachmentDefinition.resourceNameAnnotation] ?? "").isEmpty }) else { return nil }
        let started = ContinuousClock.now
        do {
            try seams.podResources()
            return .ok("node.pod-resources", "\(seams.podResourcesSocket) answers List in \((ContinuousClock.now - started).doctorText)")
        } catch {
            return .error("node.pod-resources", "\(error) (NADs with a resourceName need it)",
                          fix: "check that the kubelet runs and that the DaemonSet mounts /var/lib/kubelet/pod-resources")
        }
    }

    /// At most five names, then how many more.
    static func list(_ items: [String]) -> String {
        items.count <= 5 ? items.joined(separator: ", ") : items.prefix(5).joined(separator: ", ") + " and \(items.count - 5) more"
    }
}
