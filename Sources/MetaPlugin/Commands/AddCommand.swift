import CNI
import CNIExec
import KubeClient
import Synchronization
import System

/// ADD: attach every network of the plan, the main one first; on any failure, undo what was done.
struct AddCommand {
    let context: PluginContext

    func run() throws(MetaError) -> CNIResult {
        try Readiness.waitFor(context.config.readinessIndicatorFile, timeout: context.config.readinessIndicatorTimeout)
        let kube = context.pod == nil ? nil : try context.kube.api()
        // With draDeviceStatus, the claims planning reads are kept for the status write.
        let claims = context.writesDeviceStatus ? kube.map(ClaimsAsRead.init) : nil
        let api: (any KubeAPI)? = claims ?? kube
        let pod = try context.lookUpPod(api)
        if case .unknownToAPI(let reference) = pod {
            context.diagnostics.note("warning: pod \(reference) is not in the Kubernetes API (a static pod whose mirror pod is not created yet?): "
                + "attaching only the networks the multus config gives, and writing no network-status")
        }
        let events = context.config.events ? EventRecorder(api: api, pod: pod.apiPod?.metadata, diagnostics: context.diagnostics)
                                           : .disabled(context.diagnostics)
        defer { events.finish() }
        let plan = try context.resolver(api: api, events: events).plan(for: pod.podForPlan, mainIfName: try context.mainIfName())
        var entry = try recordIntent(plan)
        try attach(&entry, events: events)
        do {
            try DefaultRoutes.apply(&entry, netns: context.invocation.netns)
        } catch {
            throw rollBack(entry.attachments, of: entry, cause: error)
        }
        let merged: CNIResult
        do {
            merged = try ResultMerge.result(for: entry, context: context)
        } catch {
            throw rollBack(entry.attachments, of: entry, cause: .spec(error, source: "the merged result"))
        }
        entry.state = .added
        let deviceStatus = api.flatMap { deviceStatusReporter($0, pod: pod.apiPod, events: events, claims: claims) }
        if let error = recordAttached(entry, api: api, pod: pod.apiPod, deviceStatus: deviceStatus) {
            deviceStatus?.withdraw(entry.attachments)
            throw rollBack(entry.attachments, of: entry, cause: error)
        }
        return merged
    }

    /// Who reports the DRA devices attached in their claims' `status.devices`: nil without
    /// `draDeviceStatus`, or for a pod the API does not have (it has no claims we could know).
    private func deviceStatusReporter(_ api: any KubeAPI, pod: Pod?, events: EventRecorder, claims: ClaimsAsRead?) -> DeviceStatusReporter? {
        guard context.writesDeviceStatus, let pod else { return nil }
        return DeviceStatusReporter(api: api, pod: "\(pod.metadata.namespace)/\(pod.metadata.name)", containerID: context.invocation.containerID?.text ?? "",
                                    events: events, diagnostics: context.diagnostics, claimsAsRead: claims)
    }

    /// The main network first and alone (the others may need what it set up), then the
    /// secondaries, up to `attachConcurrency` at once. The plan fixed interface names, devices
    /// and the cache's intent before this, and each result goes to its own place in `entry`, so
    /// nothing depends on which delegate finishes first. A failure starts nothing new, waits for
    /// the delegates still running, rolls back every network that ran, and reports the first
    /// failure in plan order.
    private func attach(_ entry: inout CacheEntry, events: EventRecorder) throws(MetaError) {
        let roles = entry.attachments.map(\.attachment.role)
        // The auxiliary chain acts on what the others made: it runs last, alone.
        let stages = [(roles.indices.filter { roles[$0] == .main }, 1),
                      (roles.indices.filter { roles[$0] == .secondary }, context.config.attachConcurrency),
                      (roles.indices.filter { roles[$0] == .auxiliary }, 1)]
        let attachments = entry.attachments.map(\.attachment)
        var outcomes = [Result<CNIResult, DelegateError>?](repeating: nil, count: roles.count)
        for (stage, width) in stages where !outcomes.contains(where: { $0?.isFailure == true }) {
            let ran = BoundedParallel(width: width, afterFailure: .startNoMore).run(stage.count) { [self] position in
                add(attachments[stage[position]], events: events)
            }
            for (position, outcome) in ran.enumerated() { outcomes[stage[position]] = outcome }
        }
        for case (let index, .success(let result)?) in outcomes.enumerated() { entry.attachments[index].result = result }
        for case (let index, .failure(let error)?) in outcomes.enumerated() {
            let ran = outcomes.indices.filter { outcomes[$0] != nil }.map { entry.attachments[$0] }
            throw rollBack(ran, of: entry, cause: .delegate(error, attachment: entry.attachments[index].attachment.label, rollback: []))
        }
    }

    /// One network's ADD, on whichever thread runs it. Its `AddedInterface` event is recorded as
    /// it finishes: events say what happened when, unlike the result, which follows the plan.
    private func add(_ attachment: Attachment, events: EventRecorder) -> Result<CNIResult, DelegateError> {
        prepareDeviceInfo(attachment)
        return Result { () throws(DelegateError) in
            let result = try context.runner.add(attachment.network, context.runtimeConf(for: attachment, netns: context.invocation.netns),
                                                startingFrom: attachment.role == .auxiliary ? CNIResult(cniVersion: attachment.network.cniVersion) : nil)
            events.addedInterface(attachment, result: result)
            return result
        }
    }

    /// Writes network-status and the finished cache entry, side by side: neither needs the other,
    /// and the cache write then costs the ADD nothing beyond the API round trip. Either failing
    /// fails the ADD.
    /// Once the cache holds the entry (so that a DEL can always take them out again), the DRA
    /// devices' claim entries go out too, while network-status is written (the two requests
    /// share the invocation's connection); they never fail the ADD.
    private func recordAttached(_ entry: CacheEntry, api: (any KubeAPI)?, pod: Pod?, deviceStatus: DeviceStatusReporter?) -> MetaError? {
        let statusFailure = Mutex<MetaError?>(nil)
        // A pod was read, so the runtime named one.
        let statusWrite = if let api, let pod, let reference = context.pod, context.writesNetworkStatus {
            Thread { [self] in
                do throws(MetaError) { try writeNetworkStatus(entry, api: api, pod: pod, reference: reference) } catch { statusFailure.withLock { $0 = error } }
            }
        } else { nil as Thread? }
        var cacheFailure: MetaError?
        // One fsync per ADD, the intent's: it is durable before any delegate runs, and it lists
        // every attachment this entry does, so a DEL after a crash that lost this write (the
        // rename is atomic: the file is the intent, this entry, or on some filesystems empty,
        // which DEL reads as no entry and tears down from the config) still releases them all.
        do { try context.cache.store(entry, durability: .unsynced) } catch { cacheFailure = error }
        if cacheFailure == nil { deviceStatus?.publish(entry.attachments) }
        statusWrite?.join()
        return statusFailure.withLock { $0 } ?? cacheFailure
    }

    /// What was attached, on the pod as ADD read it (as Multus, not for pods in
    /// `systemNamespaces`). A pod whose status cannot be written fails ADD: Multus does the same,
    /// and a pod whose attachments nobody can see is worse than a retried sandbox. A pod deleted
    /// meanwhile is no failure: nobody will read its status.
    private func writeNetworkStatus(_ entry: CacheEntry, api: any KubeAPI, pod: Pod, reference: PodReference) throws(MetaError) {
        let attached = entry.attachments.compactMap { cached in cached.result.map { (cached.attachment, $0) } }
        let all = entry.attachments.map(\.attachment)
        let value = NetworkStatus.annotationValue(NetworkStatus.entries(
            attached, isDefault: { DefaultRoutes.isDefault($0, among: all) }, deviceInfo: { $0.device.flatMap(DeviceInfo.forNetworkStatus) }))
        do {
            if try NetworkStatusWriter(api: api).write(value, to: pod, namespace: reference.namespace, name: reference.name) == .podGone {
                context.diagnostics.note("pod \(reference) was deleted before its \(NetworkStatus.annotation) could be written; nothing to record it on")
            }
        } catch {
            throw .kube(error, context: "writing \(NetworkStatus.annotation) of pod \(reference)")
        }
    }

    /// A device plugin's device-info for the device a network was given goes where the delegate
    /// and network-status look for it. Best effort, as in Multus: a delegate may write its own.
    private func prepareDeviceInfo(_ attachment: Attachment) {
        guard let device = attachment.device else { return }
        do {
            try DeviceInfo.ensureCNIFile(at: device.infoFile, resourceName: device.resourceName, deviceID: device.deviceID,
                                         baseDirectory: context.devices.infoDirectory)
        } catch {
            context.diagnostics.note("device-info for \(attachment.label): \(error)")
        }
    }

    /// Writes the plan to the cache before anything is attached, so that a DEL after a crash
    /// halfway through still knows what to tear down.
    private func recordIntent(_ plan: AttachmentPlan) throws(MetaError) -> CacheEntry {
        // A container ID attached again is no longer deleted: its next DEL must run.
        let containerID = try context.containerID()
        context.cache.deleted.forget(containerID)
        let entry = CacheEntry(state: .adding, containerID: containerID, netns: context.invocation.netns,
                               args: context.invocation.args, attachments: plan.attachments.map { CachedAttachment(attachment: $0, result: nil) })
        try context.cache.store(entry)
        return entry
    }

    /// DELs the attachments that ran (the failed ones included: a plugin may have half made its
    /// interface or taken a lease before failing), by the teardown path DEL takes. Whatever could
    /// not be undone stays in the cache so the runtime's DEL retries it (`Teardown.Purpose.rollBack`).
    /// Returns the error ADD reports: a delegate's failure carries every undo that failed in its
    /// details, because the runtime shows that error to the pod's owner, and an attachment left
    /// behind is what they must know of; each is also noted on stderr, for the node's log.
    private func rollBack(_ ran: [CachedAttachment], of entry: CacheEntry, cause: MetaError) -> MetaError {
        var attempted = entry
        attempted.attachments = ran
        let outcome = Teardown(context: context).run(attempted, netns: context.invocation.netns, purpose: .rollBack)
        var undoFailures = outcome.failures.map { "rollback of \($0.attachment) failed: \($0.error)" }
        do {
            try context.cache.keep(outcome.kept)
        } catch {
            undoFailures.append("updating the cache after rollback failed: \(ErrorMapping.cniError(error, context: nil).msg)")
        }
        undoFailures.forEach(context.diagnostics.note)
        if case .delegate(let error, let label, _) = cause {
            return .delegate(error, attachment: label, rollback: undoFailures)
        }
        return cause
    }
}
