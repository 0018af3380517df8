import CNI
import CNIExec
import KubeClient

/// DEL: tear down what the cache says was attached, newest first.
///
/// A pod must never be stuck terminating over an attachment that does not exist: an unknown
/// container, a vanished netns, a second DEL all succeed. Errors are reported only for
/// attachments whose ADD completed, because only those can hold resources worth a retry.
///
/// DEL makes no API call when the cache has the container (as Multus, it leaves network-status
/// alone: the pod is going away, or its next ADD writes a fresh one), nor when a DEL of it
/// already completed.
struct DelCommand {
    let context: PluginContext

    func run() throws(MetaError) {
        let containerID = context.invocation.containerID
        let netns = netnsForDelegates()
        let entry: CacheEntry?
        do {
            entry = try context.cache.load(containerID)
        } catch {
            context.diagnostics.note("\(ErrorMapping.cniError(error, context: nil).msg); tearing down from the config instead")
            try? context.cache.remove(containerID)
            entry = nil
        }
        if let entry {
            try tearDown(entry, netns: netns)
        } else if context.cache.deleted.contains(containerID, ifName: context.invocation.ifName) {
            return
        } else {
            tearDownFromConfig(netns: netns)
        }
        context.cache.deleted.record(containerID, ifName: context.invocation.ifName)
    }

    private func tearDown(_ entry: CacheEntry, netns: String) throws(MetaError) {
        var remaining: [CachedAttachment] = []
        var failures: [DelegateFailure] = []
        for cached in entry.attachments.reversed() {
            do {
                try context.runner.del(cached.attachment.network, context.runtimeConf(for: cached.attachment, netns: netns, cachedArgs: entry.args),
                                       cachedResult: cached.result)
                cached.attachment.device.map { DeviceInfo.remove($0.infoFile) }
            } catch where cached.result == nil {
                context.diagnostics.note("ignored: DEL of \(cached.attachment.label), which ADD never completed: \(error)")
            } catch {
                failures.append(DelegateFailure(error: error, attachment: cached.attachment.label))
                remaining.insert(cached, at: 0)
            }
        }
        guard failures.isEmpty else {
            var leftover = entry
            leftover.attachments = remaining
            try context.cache.store(leftover)
            throw .teardown(failures)
        }
        try context.cache.remove(entry.containerID)
    }

    /// Plugins treat an empty CNI_NETNS as "the namespace is gone, release what you hold", which
    /// is what a path that no longer exists means.
    private func netnsForDelegates() -> String {
        let netns = context.invocation.netns
        return netns.isEmpty || FileSystem.exists(netns) ? netns : ""
    }

    /// No cache (never attached, or the cache was lost): DEL the networks the config and, if it
    /// still exists, the pod name, so leases cannot leak; ignore their errors.
    private func tearDownFromConfig(netns: String) {
        let plan: AttachmentPlan
        do {
            // Best effort: without the API or the pod, the config alone decides.
            let api = context.pod == nil ? nil : (try? context.kube.api()) ?? nil
            let pod = (try? context.lookUpPod(api))?.podForPlan
            plan = try context.resolver(api: pod == nil ? nil : api).plan(for: pod, mainIfName: context.invocation.ifName)
        } catch {
            context.diagnostics.note("no cache entry and the configured networks cannot be loaded (\(ErrorMapping.cniError(error, context: nil).msg)); nothing to delete")
            return
        }
        for attachment in plan.attachments.reversed() {
            do {
                try context.runner.del(attachment.network, context.runtimeConf(for: attachment, netns: netns), cachedResult: nil)
            } catch {
                context.diagnostics.note("ignored: DEL of \(attachment.label) without a cache entry: \(error)")
            }
        }
    }
}
