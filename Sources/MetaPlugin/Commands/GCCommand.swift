import CNI
import CNIExec
import System

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

    /// As the runtime lists them, unchecked: a key only ever matches an entry of ours, whose names were checked.
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

    /// What a scan of the cache found: the live entries, whose networks are told they are still
    /// valid, and every failure so far.
    private struct Scan {
        var live: [CacheEntry] = []
        var failures: [String] = []
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
        var scan = try collectStale(valid: valid)
        // Tombstones: a container the runtime no longer lists has no DEL left to come.
        context.cache.deleted.sweep(keeping: Set(valid.map(\.containerID)))
        if networksCanBeTold(valid: valid, live: scan.live) {
            scan.failures += forwardGC(scan.live)
        }
        guard scan.failures.isEmpty else { throw .gc(scan.failures) }
    }

    /// Our entries, then Multus's records, under the scan lock: two GCs never tear down the same
    /// stale entry.
    private func collectStale(valid: Set<AttachmentKey>) throws(MetaError) -> Scan {
        try context.cache.withExclusiveLock { () throws(MetaError) -> Scan in
            var scan = collectEntries(valid: valid)
            collectMultusRecords(valid: valid, into: &scan)
            return scan
        }
    }

    /// Our cache: every entry the runtime no longer lists, and no ADD is still writing, is torn
    /// down; the rest is live.
    private func collectEntries(valid: Set<AttachmentKey>) -> Scan {
        var scan = Scan()
        for listed in context.cache.allEntries() {
            switch listed.entry {
            case .failure(let error):
                scan.failures.append(ErrorMapping.cniError(error, context: nil).msg)
            case .success(let entry):
                let mainIfName = entry.attachments.first { $0.attachment.role == .main }?.attachment.ifName.text ?? ""
                if valid.contains(AttachmentKey(containerID: entry.containerID.text, ifName: mainIfName)) || isInProgress(listed, entry) {
                    scan.live.append(entry)
                } else {
                    scan.failures += collect(entry, from: .ourCache).failures
                }
            }
        }
        return scan
    }

    /// What Multus attached before the upgrade: containers the runtime no longer lists are torn
    /// down from Multus's record (which then goes); the live ones are returned, as entries, so
    /// their networks are told they are still valid.
    private func collectMultusRecords(valid: Set<AttachmentKey>, into scan: inout Scan) {
        let multus = context.cache.multus
        for containerID in multus.containerIDs() {
            let listed = valid.first { $0.containerID == containerID.text }
            let record: MultusRecord?
            do {
                record = try multus.load(containerID, mainIfName: listed?.ifName ?? multus.mainIfName(of: containerID), config: context.config)
            } catch {
                scan.failures.append(ErrorMapping.cniError(error, context: nil).msg)
                continue
            }
            guard let record else { continue }
            let entry = record.adopted(netns: "", args: CNIArgs())
            guard listed == nil else {
                scan.live.append(entry)
                continue
            }
            let collected = collect(entry, from: .multusCache)
            scan.failures += collected.failures
            // What failed is in our cache now; until it is, the record is all there is of it.
            if collected.kept { multus.remove(record) }
        }
    }

    /// Where a stale entry was found, which decides where what stays is kept.
    private enum Origin {
        case ourCache
        /// Multus's record (`MultusRecord.adopted`): what stays moves into our cache.
        case multusCache

        var label: String { self == .ourCache ? "" : " (Multus's cache)" }
    }

    /// DELs every network of a stale entry, newest first. What could not be undone stays in our
    /// cache for the next GC or DEL; the rest of the entry goes.
    /// - Returns: the failures, and whether our cache now holds what stays.
    private func collect(_ entry: CacheEntry, from origin: Origin) -> (failures: [String], kept: Bool) {
        // The netns ADD used, while it exists: its interfaces go too, not only the leases.
        let outcome = Teardown(context: context).run(entry, netns: entry.netns, purpose: .release)
        var failures = outcome.failures.map { "container \(entry.containerID)\(origin.label): DEL of \($0.attachment): \($0.error)" }
        do {
            switch origin {
            case .ourCache: try context.cache.keep(outcome.kept)
            case .multusCache: try context.cache.adopt(outcome.kept)
            }
            return (failures, true)
        } catch {
            failures.append(ErrorMapping.cniError(error, context: nil).msg)
            return (failures, false)
        }
    }

    /// Whether each network may be told which of its attachments are valid. Not while the runtime
    /// lists a live attachment we cannot tell the networks of (attached by something that left
    /// no record we can read): it could be on any network, and telling a plugin it is not valid
    /// would release its addresses while the pod runs.
    private func networksCanBeTold(valid: Set<AttachmentKey>, live: [CacheEntry]) -> Bool {
        let known = Set(live.map(\.containerID.text))
        let unknown = valid.filter { !known.contains($0.containerID) }.sorted { ($0.containerID, $0.ifName) < ($1.containerID, $1.ifName) }
        guard !unknown.isEmpty else { return true }
        let listed = unknown.prefix(5).map { "\($0.containerID)/\($0.ifName)" }.joined(separator: ", ")
        context.diagnostics.note("GC: plugin-level GC skipped for every network: the runtime lists \(unknown.count) live attachment(s) "
            + "with no record here or in Multus's cache (\(listed)), which may be using any of them")
        return false
    }

    /// GC for each distinct network, with the valid attachments that are its own.
    private func forwardGC(_ live: [CacheEntry]) -> [String] {
        var failures: [String] = []
        for (network, attachments) in networksToTell(live) {
            do {
                try context.runner.gc(network, context.containerlessRuntimeConf, validAttachments: attachments)
            } catch {
                failures.append("GC of network \(Echo.quoted(network.name)): \(error)")
            }
        }
        return failures
    }

    /// Each distinct network, by name, in the order first met: those of the live entries, with
    /// their attachments (`cni.dev/valid-attachments`), then those the config names, which may
    /// have none left.
    private func networksToTell(_ live: [CacheEntry]) -> [(network: NetworkConfigList, attachments: [JSONValue])] {
        var networks: [(network: NetworkConfigList, attachments: [JSONValue])] = []
        func record(_ network: NetworkConfigList, _ attachment: JSONValue?) {
            if let index = networks.firstIndex(where: { $0.network.name == network.name }) {
                if let attachment { networks[index].attachments.append(attachment) }
            } else {
                networks.append((network, attachment.map { [$0] } ?? []))
            }
        }
        for entry in live {
            for cached in entry.attachments {
                record(cached.attachment.network, ["containerID": .string(entry.containerID.text), "ifname": .string(cached.attachment.ifName.text)])
            }
        }
        if let plan = try? context.resolver(api: nil).plan(for: nil, mainIfName: .eth0) {
            for attachment in plan.attachments { record(attachment.network, nil) }
        }
        return networks
    }
}
