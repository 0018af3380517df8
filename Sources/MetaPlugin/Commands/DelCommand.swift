import CNI
import CNIExec
import KubeClient
import System

/// DEL: tear down what the cache says was attached, newest first.
///
/// A pod must never be stuck terminating over an attachment that does not exist: an unknown
/// container, a vanished netns, a second DEL all succeed. Errors are reported only for
/// attachments whose ADD completed, because only those can hold resources worth a retry.
///
/// Where the attachments are known from: our cache, else what Multus recorded before the node was
/// upgraded, else a tombstone of a DEL that already completed (nothing to do), else the config
/// and the pod's networks resolved again. Only the last needs the API: DEL leaves network-status
/// alone, as Multus does (the pod is going away, or its next ADD writes a fresh one). The one
/// exception is `draDeviceStatus`: a cache entry whose ADD reported DRA devices in their claims'
/// `status.devices` has those reports taken out, which reads and writes each such claim.
struct DelCommand {
    let context: PluginContext

    func run() throws(MetaError) {
        let (containerID, ifName) = (try context.containerID(), try context.mainIfName())
        if let entry = ourEntry(containerID) {
            try release(entry)
            if let stale = multusRecord(containerID, ifName) { context.cache.multus.remove(stale) }
        } else if let record = multusRecord(containerID, ifName) {
            try release(record)
        } else if context.cache.deleted.contains(containerID, ifName: ifName) {
            return
        } else if tearDownFromConfig(containerID, ifName) == .partial {
            // No tombstone: the next DEL must try again what this one could not reach.
            return
        }
        context.cache.deleted.record(containerID, ifName: ifName)
    }

    /// Our cache's entry for the container. One that cannot be read is noted and removed: the
    /// config then decides, as if there were none.
    private func ourEntry(_ containerID: ContainerID) -> CacheEntry? {
        do {
            return try context.cache.load(containerID)
        } catch {
            context.diagnostics.note("\(ErrorMapping.cniError(error, context: nil).msg); tearing down from the config instead")
            try? context.cache.remove(containerID)
            return nil
        }
    }

    /// What our ADD attached: torn down, its DRA devices' status withdrawn, what failed kept.
    private func release(_ entry: CacheEntry) throws(MetaError) {
        let outcome = Teardown(context: context).run(entry, netns: context.invocation.netns, purpose: .release)
        withdrawDeviceStatus(of: entry, detached: outcome.released)
        try context.cache.keep(outcome.kept)
        try outcome.requireComplete()
    }

    /// With `draDeviceStatus`, the claim entries ADD wrote for the DRA devices now detached (one
    /// still attached keeps its entry until the DEL that detaches it). Only for an entry whose
    /// ADD completed, as only that one wrote any; everything needed is in the cache.
    private func withdrawDeviceStatus(of entry: CacheEntry, detached: [CachedAttachment]) {
        guard context.config.draDeviceStatus, entry.state == .added else { return }
        guard !ClaimDeviceStatus.byClaim(detached).isEmpty else { return }
        // The runtime may have forgotten the pod's identity by now; ADD's CNI_ARGS still name it.
        let reference = context.pod ?? (try? PodReference(args: entry.args))
        let api: (any KubeAPI)?
        do { api = try context.kube.api() } catch {
            context.diagnostics.error("status.devices of the DRA devices of container \(entry.containerID) not removed: \(ErrorMapping.cniError(error, context: nil).msg)")
            return
        }
        guard let api, let reference else { return }
        let pod = ObjectMeta(name: reference.name.text, namespace: reference.namespace.text, uid: reference.uid?.text ?? "")
        let events = context.config.events ? EventRecorder(api: api, pod: pod, diagnostics: context.diagnostics) : .disabled(context.diagnostics)
        defer { events.finish() }
        DeviceStatusReporter(api: api, pod: reference.description, containerID: entry.containerID.text, events: events, diagnostics: context.diagnostics)
            .withdraw(detached)
    }

    /// Multus's record of this container, if it left one we can read (one it cannot is noted and
    /// passed over: the config then decides).
    private func multusRecord(_ containerID: ContainerID, _ ifName: InterfaceName) -> MultusRecord? {
        do {
            return try context.cache.multus.load(containerID, mainIfName: ifName.text, config: context.config)
        } catch {
            context.diagnostics.note("\(ErrorMapping.cniError(error, context: nil).msg); not using it")
            return nil
        }
    }

    /// What Multus attached. Whatever fails moves into our own cache (with its result), so the
    /// next DEL retries it from there; Multus's record goes either way.
    private func release(_ record: MultusRecord) throws(MetaError) {
        let entry = record.adopted(netns: context.invocation.netns, args: context.invocation.args)
        let outcome = Teardown(context: context).run(entry, netns: context.invocation.netns, purpose: .release)
        try context.cache.adopt(outcome.kept)
        context.cache.multus.remove(record)
        try outcome.requireComplete()
    }

    /// How much a DEL without any record could tear down.
    enum Reach {
        /// Every network the pod can have: the config's, and those of the pod as the API has it
        /// (or the config's alone, without Kubernetes or once the pod is gone).
        case complete
        /// Some networks were skipped (the API away, a NAD unreadable) or a delegate's DEL failed.
        case partial
    }

    /// No record at all (never attached, or the cache was lost): DEL every network the config
    /// and, if it still exists, the pod name, so leases cannot leak. A network that cannot be
    /// resolved (its NAD deleted, the API away) is skipped and named; it never stops the others.
    /// Delegates' errors are noted, never returned: there may be nothing to delete. Either makes
    /// the teardown partial, and then no tombstone is left: a later DEL must try again.
    private func tearDownFromConfig(_ containerID: ContainerID, _ mainIfName: InterfaceName) -> Reach {
        var reach = Reach.complete
        let (api, pod) = podForTeardown(&reach)
        let plan = context.resolver(api: api).teardownPlan(for: pod, mainIfName: mainIfName)
        for skipped in plan.skipped {
            context.diagnostics.note("no cache entry, and a network cannot be resolved to DEL it (skipped): \(ErrorMapping.cniError(skipped, context: nil).msg)")
            reach = .partial
        }
        // Nothing on record: no ADD is known to have completed, so every failure is ignored.
        let unrecorded = CacheEntry(state: .adding, containerID: containerID, netns: context.invocation.netns,
                                    args: context.invocation.args, attachments: plan.attachments.map { CachedAttachment(attachment: $0, result: nil) })
        let outcome = Teardown(context: context).run(unrecorded, netns: context.invocation.netns, purpose: .release)
        if !outcome.ignored.isEmpty { reach = .partial }
        if reach == .partial { context.diagnostics.note("tore down only what could be reached; a later DEL will try the rest again") }
        return reach
    }

    /// The API and the pod, for the plan. Without Kubernetes, or for a pod the API no longer has
    /// (gone, or recreated under a new UID), the config alone decides, and that is all there will
    /// ever be. An API that cannot be reached or read hides the pod's own networks: the teardown
    /// is then partial.
    private func podForTeardown(_ reach: inout Reach) -> (api: (any KubeAPI)?, pod: Pod?) {
        guard context.pod != nil else { return (nil, nil) }
        func partial(_ error: MetaError) {
            context.diagnostics.note("no cache entry, and the pod's own networks cannot be known (skipped): \(ErrorMapping.cniError(error, context: nil).msg)")
            reach = .partial
        }
        let api: (any KubeAPI)?
        do { api = try context.kube.api() } catch {
            partial(error)
            return (nil, nil)
        }
        guard let api else { return (nil, nil) }
        do { return (api, try context.lookUpPod(api).podForPlan) } catch {
            if case .kube = error { partial(error) }
            return (api, nil)
        }
    }
}
