import CNI
import CNIExec

/// CHECK: every cached attachment, main and secondary, asks its plugins whether it is still as
/// ADD left it.
struct CheckCommand {
    let context: PluginContext

    func run() throws(MetaError) {
        guard context.config.cniVersion.supportsCheck else {
            throw .incompatibleVersion("CHECK needs cniVersion 0.4.0 or later; the multus config says \(context.config.cniVersion)")
        }
        let containerID = try context.containerID()
        if let entry = try context.cache.load(containerID) {
            guard entry.state == .added else {
                throw .notAttached(containerID: containerID, reason: "its ADD did not complete (cache entry \(context.cache.path(for: containerID)))")
            }
            try check(entry.attachments, cachedArgs: entry.args, source: context.cache.path(for: containerID))
        } else if let record = try context.cache.multus.load(containerID, mainIfName: try context.mainIfName().text, config: context.config) {
            // Attached by Multus before the upgrade: libcni's cached results stand in for ours.
            if let missing = record.attachments.first(where: { !$0.addCompleted }) {
                throw .notAttached(containerID: containerID, reason: "Multus's cache \(record.path) has no cached result for \(missing.attachment.label) "
                    + "(looked in \(context.cache.multus.resultDirectories.joined(separator: ", ")))")
            }
            try check(record.attachments, cachedArgs: nil, source: record.path)
        } else {
            throw .notAttached(containerID: containerID, reason: "no cache entry at \(context.cache.path(for: containerID)), nor Multus's at \(context.cache.multus.path(for: containerID))")
        }
    }

    /// A cached result that cannot be read fails CHECK, as libcni's CheckNetworkList fails: there
    /// is nothing to compare the attachment with.
    private func check(_ attachments: [CachedAttachment], cachedArgs: CNIArgs?, source: String) throws(MetaError) {
        for cached in attachments {
            if let why = cached.unreadableResult {
                throw .corruptCache(path: source, reason: "the cached result of \(cached.attachment.label): \(why)")
            }
            guard let result = cached.result else { continue }
            do {
                try context.runner.check(cached.attachment.network, context.runtimeConf(for: cached.attachment, netns: context.invocation.netns, cachedArgs: cachedArgs),
                                         cachedResult: result)
            } catch {
                throw .delegate(error, attachment: cached.attachment.label, rollback: [])
            }
        }
    }
}
