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
    /// Saturating: `delegateTimeout` may be any positive number of seconds.
    func isInProgress(_ listed: ListedEntry, _ entry: CacheEntry) -> Bool {
        guard entry.state == .adding else { return false }
        let (allDelegates, overflow) = context.config.delegateTimeout.components.seconds
            .multipliedReportingOverflow(by: Int64(max(1, entry.attachments.count)))
        return overflow || listed.age < .seconds(allDelegates) + .seconds(60)
    }

    /// The attachments the runtime says are still in use: `cni.dev/valid-attachments`, else the
    /// legacy `cni.dev/attachments` (the spec's first name, which libcni still sends beside it).
    /// nil when neither key is there, as when libcni's GC is called without a list (cnitool gc);
    /// `null` or `[]` means nothing is valid.
    static func validAttachments(_ json: JSONValue) throws(MetaError) -> Set<AttachmentKey>? {
        do throws(SpecError) {
            let fields = try JSONFields(json, path: "")
            guard let key = ["cni.dev/valid-attachments", "cni.dev/attachments"].first(where: { fields.object[$0] != nil }) else { return nil }
            guard fields.object[key] != .null else { return [] }
            var keys = Set<AttachmentKey>()
            for element in try fields.objects(key) {
                keys.insert(AttachmentKey(containerID: try element.requiredString("containerID"), ifName: try element.requiredString("ifname")))
            }
            return keys
        } catch {
            throw .spec(error, source: "the GC config (stdin)")
        }
    }

    func run() throws(MetaError) {
        guard context.config.cniVersion.supportsStatusAndGC else {
            throw .incompatibleVersion("GC needs cniVersion 1.1.0 or later; the multus config says \(context.config.cniVersion)")
        }
        guard let valid = try Self.validAttachments(request) else {
            // Never read as "nothing is valid": a runtime that forgot the list must not tear
            // down every pod's networks.
            context.diagnostics.note("GC: nothing collected: the runtime listed no attachments (neither cni.dev/valid-attachments nor cni.dev/attachments)")
            return
        }
        var failures: [String] = []
        // Under the scan lock: two GCs never tear down the same stale entry.
        let live = try context.cache.withExclusiveLock { () throws(MetaError) -> [CacheEntry] in
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
            let (multusLive, multusFailures) = collectMultusRecords(valid: valid)
            failures += multusFailures
            return kept + multusLive
        }
        context.cache.deleted.sweep(keeping: Set(valid.map(\.containerID)))
        let known = Set(live.map(\.containerID))
        let unknown = valid.filter { !known.contains($0.containerID) }.sorted { ($0.containerID, $0.ifName) < ($1.containerID, $1.ifName) }
        if unknown.isEmpty {
            failures += forwardGC(live)
        } else {
            // A live attachment we cannot tell the networks of (attached by something that left
            // no record we can read) could be on any network: telling a plugin it is not valid
            // would release its addresses while the pod runs.
            let listed = unknown.prefix(5).map { "\($0.containerID)/\($0.ifName)" }.joined(separator: ", ")
            context.diagnostics.note("GC: plugin-level GC skipped for every network: the runtime lists \(unknown.count) live attachment(s) "
                + "with no record here or in Multus's cache (\(listed)), which may be using any of them")
        }
        guard failures.isEmpty else { throw .gc(failures) }
    }

    /// What Multus attached before the upgrade: containers the runtime no longer lists are torn
    /// down from Multus's record (which then goes); the live ones are returned, as entries, so
    /// their networks are told they are still valid.
    private func collectMultusRecords(valid: Set<AttachmentKey>) -> (live: [CacheEntry], failures: [String]) {
        var live: [CacheEntry] = []
        var failures: [String] = []
        let multus = context.cache.multus
        for containerID in multus.containerIDs() {
            let listed = valid.first { $0.containerID == containerID }
            do {
                guard let record = try multus.load(containerID, mainIfName: listed?.ifName ?? multus.mainIfName(of: containerID), config: context.config)
                else { continue }
                let entry = record.adopted(netns: "", args: CNIArgs())
                if listed != nil {
                    live.append(entry)
                    continue
                }
                let outcome = Teardown(context: context).run(entry, netns: entry.netns, purpose: .release)
                failures += outcome.failures.map { "container \(containerID) (Multus's cache): DEL of \($0.attachment): \($0.error)" }
                try context.cache.adopt(outcome.kept)
                multus.remove(record)
            } catch {
                failures.append(ErrorMapping.cniError(error, context: nil).msg)
            }
        }
        return (live, failures)
    }

    /// DELs every network of a stale entry, newest first. What could not be undone stays in the
    /// cache for the next GC or DEL; the rest of the entry goes.
    private func collect(_ entry: CacheEntry) -> [String] {
        // The netns ADD used, while it exists: its interfaces go too, not only the leases.
        let outcome = Teardown(context: context).run(entry, netns: entry.netns, purpose: .release)
        var failures = outcome.failures.map { "container \(entry.containerID): DEL of \($0.attachment): \($0.error)" }
        do {
            try context.cache.keep(outcome.kept)
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
                failures.append("GC of network \(Echo.quoted(network.name)): \(error)")
            }
        }
        return failures
    }
}
