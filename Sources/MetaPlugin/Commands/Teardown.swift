import CNI
import CNIExec

/// Undoing attachments. ADD's rollback, DEL, GC and the DEL of what Multus attached all come
/// here, so the rules live once: newest first; each network's device-info file removed with it;
/// an attachment whose ADD completed and whose DEL failed is kept, because it may still hold an
/// interface or a lease and the next DEL must try again.
///
/// ADD's order, undone: secondaries newest first, up to `concurrency` at once, and the main
/// network alone after them, since the secondaries may depend on what it set up.
struct Teardown {
    let context: PluginContext
    /// How many secondaries are torn down at once.
    let concurrency: Int

    /// - Parameter concurrency: defaults to the config's `attachConcurrency`: the networks ADD may
    ///   attach side by side are the ones safe to tear down side by side.
    init(context: PluginContext, concurrency: Int? = nil) {
        self.context = context
        self.concurrency = concurrency ?? context.config.attachConcurrency
    }

    struct Outcome {
        /// Attachments whose ADD had completed and whose DEL failed, in plan order: they may hold
        /// an interface or a lease, so they stay in the cache and the next DEL must succeed on them.
        var remaining: [CachedAttachment] = []
        /// Everything whose DEL failed, in plan order: `remaining` plus attachments whose ADD never
        /// completed. A rollback keeps these too, for one more try by the runtime's DEL.
        var undone: [CachedAttachment] = []
        /// The DEL failures of `remaining`, newest first.
        var failures: [DelegateFailure] = []
        /// The DEL failures of attachments whose ADD never completed, newest first: reported,
        /// never blocking.
        var ignored: [DelegateFailure] = []

        var isComplete: Bool { remaining.isEmpty }
    }

    /// DELs `attachments` newest first, stage by stage (`stages(of:)`). The outcome is the same
    /// whatever order concurrent DELs finish in.
    /// - Parameters:
    ///   - containerID: whose attachments these are (GC tears down other containers than the call's).
    ///   - cachedArgs: CNI_ARGS as ADD had them, for a call that carries none.
    func run(_ attachments: [CachedAttachment], containerID: String, netns: String, cachedArgs: CNIArgs?) -> Outcome {
        var errors = [DelegateError?](repeating: nil, count: attachments.count)
        for cached in attachments {
            guard let why = cached.unreadableResult else { continue }
            context.diagnostics.note("DEL of \(cached.attachment.label) goes on without a prevResult, as libcni's does: its cached result is unreadable: \(why)")
        }
        for stage in Self.stages(of: attachments.map(\.attachment.role)) {
            let pool = BoundedParallel(width: concurrency, afterFailure: .startTheRest)
            let outcomes = pool.run(stage.count) { [context] position in
                let cached = attachments[stage[position]]
                let rt = context.runtimeConf(for: cached.attachment, netns: netns, cachedArgs: cachedArgs, containerID: containerID)
                return Result { () throws(DelegateError) in
                    try context.runner.del(cached.attachment.network, rt, cachedResult: cached.result)
                    cached.attachment.device.map { DeviceInfo.remove($0.infoFile) }
                }
            }
            for (position, outcome) in outcomes.enumerated() {
                if case .failure(let error)? = outcome { errors[stage[position]] = error }
            }
        }
        return Self.outcome(attachments, errors: errors)
    }

    /// The order of a teardown: plan positions newest first, cut into stages that run one after
    /// the other. Consecutive secondaries share a stage (run side by side); a main network is a
    /// stage of its own.
    static func stages(of roles: [Attachment.Role]) -> [[Int]] {
        var stages: [[Int]] = []
        for index in roles.indices.reversed() {
            if roles[index] == .secondary, let last = stages.last?.last, roles[last] == .secondary {
                stages[stages.count - 1].append(index)
            } else {
                stages.append([index])
            }
        }
        return stages
    }

    /// Sorts the DELs that failed into what stays and what is only reported.
    private static func outcome(_ attachments: [CachedAttachment], errors: [DelegateError?]) -> Outcome {
        var outcome = Outcome()
        for (cached, error) in zip(attachments, errors).reversed() {
            guard let error else { continue }
            let failure = DelegateFailure(error: error, attachment: cached.attachment.label)
            outcome.undone.insert(cached, at: 0)
            if !cached.addCompleted {
                outcome.ignored.append(failure)
            } else {
                outcome.failures.append(failure)
                outcome.remaining.insert(cached, at: 0)
            }
        }
        return outcome
    }
}
