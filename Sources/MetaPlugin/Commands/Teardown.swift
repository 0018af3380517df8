import CNI
import CNIExec
import System

/// Undoing attachments, and what follows it. ADD's rollback, DEL (from our cache, from Multus's
/// record, from the config when there is no record) and GC all come here, so the rules live once:
/// - the order: newest first (`stages(of:)`), each network's device-info file removed with it;
/// - where the delegates run (`delegateNetns(_:)`);
/// - what stays in the cache afterwards (`Purpose`, `Outcome.kept`);
/// - how a DEL failure that is ignored is reported (`ignoredLine`): on stderr, in one wording.
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

    /// Why attachments are torn down, which settles what stays in the cache afterwards.
    enum Purpose {
        /// DEL and GC. An attachment whose ADD completed and whose DEL failed stays: it may still
        /// hold an interface or a lease, and the next DEL must try again; its failure is the
        /// caller's to return. One with no completed ADD on record goes, and its failure is
        /// ignored: a pod must never be stuck terminating over what may not exist.
        case release
        /// ADD's rollback. Everything whose DEL failed stays, completed or not (a plugin may have
        /// half made its interface or taken a lease before failing), in an entry still `adding`,
        /// for the runtime's DEL; that DEL is where a failure of one that never completed is
        /// ignored. Nothing is ignored here: ADD fails anyway, with its own cause, and every
        /// undo that failed is part of what it reports.
        case rollBack
    }

    struct Outcome {
        /// The entry as the cache keeps it (`AttachmentCache.keep`): only the attachments whose
        /// DEL failed and that `Purpose` keeps, in plan order; none when everything went.
        var kept: CacheEntry
        /// The DEL failures of the attachments kept, newest first.
        var failures: [DelegateFailure] = []
        /// The DEL failures let go (`Purpose.release`), newest first: already reported on
        /// stderr; never the caller's error.
        var ignored: [DelegateFailure] = []
        /// The attachments gone from the cache, in plan order: DELs that succeeded, and those
        /// whose failure was ignored. What was reported about them elsewhere (the DRA devices'
        /// `status.devices`) is withdrawn for these, and only these.
        var released: [CachedAttachment] = []

        var isComplete: Bool { failures.isEmpty }

        /// DEL's verdict: every failure of an attachment that stays, or none.
        func requireComplete() throws(MetaError) {
            guard isComplete else { throw .teardown(failures) }
        }
    }

    /// DELs the attachments of `entry` newest first, stage by stage (`stages(of:)`), and sorts
    /// what failed by `purpose`. The outcome is the same whatever order concurrent DELs finish in.
    /// Each ignored failure is noted on stderr here, for every caller: a DEL or GC that succeeds
    /// prints nothing else, and an error would make the runtime retry what cannot be retried.
    /// - Parameter netns: the namespace the call names (DEL, a rollback) or the one ADD recorded (GC).
    func run(_ entry: CacheEntry, netns: String, purpose: Purpose) -> Outcome {
        let attachments = entry.attachments
        var errors = [DelegateError?](repeating: nil, count: attachments.count)
        for cached in attachments {
            guard let why = cached.unreadableResult else { continue }
            context.diagnostics.note("DEL of \(cached.attachment.label) goes on without a prevResult, as libcni's does: its cached result is unreadable: \(why)")
        }
        let netns = Self.delegateNetns(netns)
        for stage in Self.stages(of: attachments.map(\.attachment.role)) {
            let pool = BoundedParallel(width: concurrency, afterFailure: .startTheRest)
            let outcomes = pool.run(stage.count) { [context] position in
                let cached = attachments[stage[position]]
                let rt = context.runtimeConf(for: cached.attachment, netns: netns, cachedArgs: entry.args, containerID: entry.containerID)
                return Result { () throws(DelegateError) in
                    try context.runner.del(cached.attachment.network, rt, cachedResult: cached.result)
                    cached.attachment.device.map { DeviceInfo.remove($0.infoFile) }
                }
            }
            for (position, outcome) in outcomes.enumerated() {
                if case .failure(let error)? = outcome { errors[stage[position]] = error }
            }
        }
        let outcome = Self.outcome(entry, errors: errors, purpose: purpose)
        for failure in outcome.ignored { context.diagnostics.note(Self.ignoredLine(failure, containerID: entry.containerID)) }
        return outcome
    }

    /// Plugins treat an empty CNI_NETNS as "the namespace is gone, release what you hold", which
    /// is what a path that no longer exists means: given a path that is gone, the delegates get
    /// an empty one, so their DEL releases instead of failing to enter it.
    static func delegateNetns(_ path: String) -> String {
        path.isEmpty || Files.exists(path) ? path : ""
    }

    /// How an ignored DEL failure reads, wherever it happens: which container (GC tears down
    /// many), which network, why it does not count, and the delegate's error.
    static func ignoredLine(_ failure: DelegateFailure, containerID: ContainerID) -> String {
        "ignored: container \(containerID): DEL of \(failure.attachment), which has no completed ADD on record: \(failure.error)"
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
    private static func outcome(_ entry: CacheEntry, errors: [DelegateError?], purpose: Purpose) -> Outcome {
        var kept = entry
        kept.attachments = []
        if purpose == .rollBack { kept.state = .adding }
        var outcome = Outcome(kept: kept)
        for (cached, error) in zip(entry.attachments, errors).reversed() {
            guard let error else {
                outcome.released.insert(cached, at: 0)
                continue
            }
            let failure = DelegateFailure(error: error, attachment: cached.attachment.label)
            if purpose == .release && !cached.addCompleted {
                outcome.ignored.append(failure)
                outcome.released.insert(cached, at: 0)
            } else {
                outcome.failures.append(failure)
                outcome.kept.attachments.insert(cached, at: 0)
            }
        }
        return outcome
    }
}
