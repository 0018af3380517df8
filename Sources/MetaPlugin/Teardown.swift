import CNI
import CNIExec

/// Undoing attachments. ADD's rollback, DEL, GC and the DEL of what Multus attached all come
/// here, so the rules live once: newest first; each network's device-info file removed with it;
/// an attachment whose ADD completed and whose DEL failed is kept, because it may still hold an
/// interface or a lease and the next DEL must try again.
struct Teardown {
    let context: PluginContext

    struct Outcome {
        /// Attachments whose ADD had completed and whose DEL failed, in plan order: they may hold
        /// an interface or a lease, so they stay in the cache and the next DEL must succeed on them.
        var remaining: [CachedAttachment] = []
        /// Everything whose DEL failed, in plan order: `remaining` plus attachments whose ADD never
        /// completed. A rollback keeps these too, for one more try by the runtime's DEL.
        var undone: [CachedAttachment] = []
        /// The DEL failures of `remaining`, newest first.
        var failures: [DelegateFailure] = []
        /// The DEL failures of attachments whose ADD never completed: reported, never blocking.
        var ignored: [DelegateFailure] = []

        var isComplete: Bool { remaining.isEmpty }
    }

    /// DELs `attachments` newest first.
    /// - Parameters:
    ///   - containerID: whose attachments these are (GC tears down other containers than the call's).
    ///   - cachedArgs: CNI_ARGS as ADD had them, for a call that carries none.
    func run(_ attachments: [CachedAttachment], containerID: String, netns: String, cachedArgs: CNIArgs?) -> Outcome {
        var outcome = Outcome()
        for cached in attachments.reversed() {
            let rt = context.runtimeConf(for: cached.attachment, netns: netns, cachedArgs: cachedArgs, containerID: containerID)
            do {
                try context.runner.del(cached.attachment.network, rt, cachedResult: cached.result)
                cached.attachment.device.map { DeviceInfo.remove($0.infoFile) }
            } catch {
                let failure = DelegateFailure(error: error, attachment: cached.attachment.label)
                outcome.undone.insert(cached, at: 0)
                if cached.result == nil {
                    outcome.ignored.append(failure)
                } else {
                    outcome.failures.append(failure)
                    outcome.remaining.insert(cached, at: 0)
                }
            }
        }
        return outcome
    }
}
