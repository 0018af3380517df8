import CNI
import CNIExec

/// GC (CNI 1.1): the runtime lists the attachments that are still valid; every cached attachment
/// that is not gets a DEL of all its networks, main and secondary, from the cache. Then each
/// network is told which of its own attachments remain (`cni.dev/valid-attachments` per network).
///
/// Multus's GC only forwards to the main network and ignores the valid list; ours reaches every
/// network. Best effort throughout: every failure is collected and reported at the end.
struct GCCommand {
    let context: PluginContext
    /// The GC call's stdin, which carries `cni.dev/valid-attachments`.
    let request: JSONValue

    struct AttachmentKey: Hashable { var containerID: String; var ifName: String }

    /// An entry still being written by an ADD is left alone unless it is older than any ADD can
    /// take (every delegate at its timeout, plus a minute): then the ADD that wrote it is gone.
    func isInProgress(_ listed: ListedEntry, _ entry: CacheEntry) -> Bool {
        guard entry.state == .adding else { return false }
        let longestAdd = context.config.delegateTimeout * max(1, entry.attachments.count) + .seconds(60)
        return listed.age < longestAdd
    }

    func run() throws(MetaError) {
        guard context.config.cniVersion.supportsStatusAndGC else {
            throw .incompatibleVersion("GC needs cniVersion 1.1.0 or later; the multus config says \(context.config.cniVersion)")
        }
        let valid = try MultusPlugin.validAttachments(request)
        var failures: [String] = []
        let remaining = try context.cache.withExclusiveLock { () throws(MetaError) -> [CacheEntry] in
            var kept: [CacheEntry] = []
            for listed in context.cache.allEntries() {
                switch listed.entry {
                case .failure(let error):
                    failures.append(ErrorMapping.cniError(error, context: nil).msg)
                case .success(let entry):
                    let mainIfName = entry.attachments.first { $0.attachment.role == .main }?.attachment.ifName ?? ""
                    if valid.contains(AttachmentKey(containerID: entry.containerID, ifName: mainIfName)) || isInProgress(listed, entry) {
                        kept.append(entry)
                    } else {
                        failures += collect(entry)
                    }
                }
            }
            return kept
        }
        context.cache.deleted.sweep(keeping: Set(valid.map(\.containerID)))
        failures += forwardGC(remaining)
        guard failures.isEmpty else { throw .gc(failures) }
    }

    /// DELs every network of a stale entry, newest first. What could not be undone stays in the
    /// cache for the next GC or DEL; the rest of the entry goes.
    private func collect(_ entry: CacheEntry) -> [String] {
        // The netns ADD used, while it exists: its interfaces go too, not only the leases.
        let netns = !entry.netns.isEmpty && FileSystem.exists(entry.netns) ? entry.netns : ""
        let outcome = Teardown(context: context).run(entry.attachments, containerID: entry.containerID, netns: netns, cachedArgs: entry.args)
        var failures = outcome.failures.map { "container \(entry.containerID): DEL of \($0.attachment): \($0.error)" }
        do {
            try context.cache.keepOnly(outcome.remaining, of: entry)
        } catch {
            failures.append(ErrorMapping.cniError(error, context: nil).msg)
        }
        return failures
    }

    /// GC for each distinct network: the cached ones and those the config names, each with the
    /// valid attachments that are its own.
    private func forwardGC(_ entries: [CacheEntry]) -> [String] {
        var networks: [(network: NetworkConfigList, attachments: [JSONValue])] = []
        func record(_ network: NetworkConfigList, _ attachment: JSONValue?) {
            if let index = networks.firstIndex(where: { $0.network.name == network.name }) {
                if let attachment { networks[index].attachments.append(attachment) }
            } else {
                networks.append((network, attachment.map { [$0] } ?? []))
            }
        }
        for entry in entries {
            for cached in entry.attachments {
                record(cached.attachment.network, ["containerID": .string(entry.containerID), "ifname": .string(cached.attachment.ifName)])
            }
        }
        if let plan = try? context.resolver(api: nil).plan(for: nil, mainIfName: "eth0") {
            for attachment in plan.attachments { record(attachment.network, nil) }
        }
        var failures: [String] = []
        for (network, attachments) in networks {
            do {
                try context.runner.gc(network, context.containerlessRuntimeConf, validAttachments: attachments)
            } catch {
                failures.append("GC of network \"\(network.name)\": \(error)")
            }
        }
        return failures
    }
}
