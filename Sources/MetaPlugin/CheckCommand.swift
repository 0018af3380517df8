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
        let containerID = context.invocation.containerID
        guard let entry = try context.cache.load(containerID) else {
            throw .notAttached(containerID: containerID, reason: "no cache entry at \(context.cache.path(for: containerID))")
        }
        guard entry.state == .added else {
            throw .notAttached(containerID: containerID, reason: "its ADD did not complete (cache entry \(context.cache.path(for: containerID)))")
        }
        for cached in entry.attachments {
            guard let result = cached.result else { continue }
            do {
                try context.runner.check(cached.attachment.network, context.runtimeConf(for: cached.attachment, netns: context.invocation.netns, cachedArgs: entry.args),
                                         cachedResult: result)
            } catch {
                throw .delegate(error, attachment: cached.attachment.label, rollback: [])
            }
        }
    }
}
