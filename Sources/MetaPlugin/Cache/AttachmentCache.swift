import CNI
import KubeClient
import System

/// What one container's attachments look like on disk, so DEL and CHECK need nothing else:
/// each delegate's config exactly as it was run (every plugin-specific key) and its result.
public struct CacheEntry: Sendable, Hashable {
    public enum State: String, Sendable {
        /// Written before the first delegate runs; still there means ADD did not finish (a
        /// crash, or a rollback whose DELs failed), and DEL must clean up whatever it lists.
        case adding
        /// ADD returned success.
        case added
    }

    public var state: State
    public var containerID: ContainerID
    public var netns: String
    /// CNI_ARGS as ADD received it: delegates get the same on a DEL that carries none.
    public var args: CNIArgs
    public var attachments: [CachedAttachment]
}

public struct CachedAttachment: Sendable, Hashable {
    public var attachment: Attachment
    /// Nil until the delegate's ADD succeeded, and when its cached result cannot be read.
    public var result: CNIResult?
    /// Why the cached result of an ADD that completed cannot be read (a damaged cache file). Its
    /// DEL goes on without a prevResult, as libcni's DelNetworkList does since v1.2.0 (and
    /// DelNetwork at HEAD), and a failure of that DEL counts as any completed attachment's; CHECK
    /// refuses it, as libcni's CheckNetworkList does.
    public var unreadableResult: String? = nil

    /// Whether the delegate's ADD completed: a DEL that fails may have left something behind.
    var addCompleted: Bool { result != nil || unreadableResult != nil }
}

/// Per-container cache files in `<cniDir>/attachments/`. One file per container means two pods
/// attached in parallel never touch the same file; each write is atomic.
public struct AttachmentCache: Sendable {
    public let directory: String
    /// Containers whose DEL completed and whose entry is therefore gone.
    public let deleted: DeletedContainers
    /// What Multus recorded for the containers it attached before this node was upgraded.
    let multus: MultusScratchCache

    public init(cniDir: String) {
        directory = Files.join(cniDir, "attachments")
        deleted = DeletedContainers(cniDir: cniDir)
        multus = MultusScratchCache(cniDir: cniDir)
    }

    public func path(for containerID: ContainerID) -> String { Files.join(directory, containerID.text + ".json") }

    /// The entry for `containerID`, or nil when there is none.
    /// - Throws: `MetaError.corruptCache` when the file exists but cannot be read as an entry.
    public func load(_ containerID: ContainerID) throws(MetaError) -> CacheEntry? {
        let path = path(for: containerID)
        guard Files.exists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: wholeFileLimit, symlinks: .refuse) } catch { throw .file(error, path: path) }
        do {
            return try CacheEntry(json: try JSONValue.parse(bytes))
        } catch let error as JSONSyntaxError {
            throw .corruptCache(path: path, reason: error.description)
        } catch let error as SpecError {
            throw .corruptCache(path: path, reason: error.description)
        } catch {
            throw .corruptCache(path: path, reason: "\(error)")
        }
    }

    /// Writes `entry` in place of the container's file. `durability` is `.synced` unless the
    /// file on disk already holds, synced, an entry that would do in this one's place.
    public func store(_ entry: CacheEntry, durability: ReplacementDurability = .synced) throws(MetaError) {
        try makeDirectory()
        let path = path(for: entry.containerID)
        do { try Files.writeAtomically(entry.json.serializedBytes(), to: path, permissions: 0o600, durability: durability) } catch { throw .file(error, path: path) }
    }

    public func remove(_ containerID: ContainerID) throws(MetaError) {
        let path = path(for: containerID)
        do { try Files.remove(path) } catch { throw .file(error, path: path) }
    }

    /// After a teardown: the entry as it stays (`Teardown.Outcome.kept`), or none when nothing is
    /// left, so the next DEL retries exactly what failed.
    func keep(_ entry: CacheEntry) throws(MetaError) {
        guard !entry.attachments.isEmpty else { return try remove(entry.containerID) }
        try store(entry)
    }

    /// After a teardown of Multus's record (`MultusRecord.adopted`): what stays moves into our
    /// cache, where the next DEL retries it. Nothing when everything went: our cache never had it,
    /// and an entry of ours for the same container is not this one's to remove.
    func adopt(_ entry: CacheEntry) throws(MetaError) {
        guard !entry.attachments.isEmpty else { return }
        try store(entry)
    }

    /// Every entry on disk, each read on its own: one corrupt file does not hide the others. A
    /// file whose name is no container ID is not one of ours (we name each after a checked one),
    /// and is passed over as Multus's scan passes over such names.
    func allEntries() -> [ListedEntry] {
        guard let names = try? Files.list(directory) else { return [] }
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            guard let containerID = try? ContainerID(String(name.dropLast(".json".count))) else { return nil }
            let path = Files.join(directory, name)
            let entry: Result<CacheEntry, MetaError>
            do throws(MetaError) {
                // Gone since the listing (a DEL finished): nothing to do.
                guard let loaded = try load(containerID) else { return nil }
                entry = .success(loaded)
            } catch {
                entry = .failure(error)
            }
            return ListedEntry(containerID: containerID, path: path, age: Files.age(of: path), entry: entry)
        }
    }

    /// Holds an exclusive lock on the cache directory for `body`: two GC scans never interleave.
    /// GC also sweeps the temporary files of writes that were killed before their rename.
    func withExclusiveLock<R>(_ body: () throws(MetaError) -> R) throws(MetaError) -> R {
        try makeDirectory()
        let lockPath = Files.join(directory, ".gc.lock")
        let lock: FileDescriptor
        do { lock = try Files.lockExclusively(lockPath) } catch { throw .file(error, path: lockPath) }
        defer {
            lock.unlock()
            lock.close()
        }
        TemporaryFile.sweep(directory)
        return try body()
    }
}

extension AttachmentCache {
    /// The cache's directory, made (0700, with its parents) if missing.
    private func makeDirectory() throws(MetaError) {
        do { try Files.makeDirectories(directory, permissions: 0o700) } catch { throw .file(error, path: directory) }
    }
}

/// One cache file as GC sees it.
struct ListedEntry {
    var containerID: ContainerID
    var path: String
    /// Time since the file was last written.
    var age: Duration
    var entry: Result<CacheEntry, MetaError>
}

// MARK: - Wire format

extension CacheEntry {
    static let format = "swift-multus/attachments/v1"

    var json: JSONValue {
        var o = JSONObject()
        o["format"] = .string(Self.format)
        o["state"] = .string(state.rawValue)
        o["containerID"] = .string(containerID.text)
        o["netns"] = .string(netns)
        o["args"] = .string(args.serialized)
        o["attachments"] = .array(attachments.map(\.json))
        return .object(o)
    }

    init(json: JSONValue) throws(SpecError) {
        let f = try JSONFields(json, path: "")
        let format = try f.requiredString("format")
        guard format == Self.format else { throw .invalidField(path: "format", reason: "unknown cache format \(Echo.quoted(format))") }
        let stateText = try f.requiredString("state")
        guard let state = State(rawValue: stateText) else { throw .invalidField(path: "state", reason: "unknown state \(Echo.quoted(stateText))") }
        var attachments: [CachedAttachment] = []
        for a in try f.objects("attachments") { attachments.append(try CachedAttachment(fields: a)) }
        let containerIDText = try f.requiredString("containerID")
        let containerID: ContainerID
        do throws(NameError) { containerID = try ContainerID(containerIDText) } catch { throw .invalidField(path: "containerID", reason: error.reason) }
        self.init(state: state, containerID: containerID, netns: try f.string("netns") ?? "",
                  args: try CNIArgs(parsing: try f.string("args") ?? ""), attachments: attachments)
    }
}

extension CachedAttachment {
    var json: JSONValue {
        var o = JSONObject()
        o["network"] = .object(attachment.network.raw)
        o["ifName"] = .string(attachment.ifName.text)
        o["role"] = .string(attachment.role.rawValue)
        o["source"] = .string(attachment.source)
        if !attachment.capabilityArgs.isEmpty { o["capabilityArgs"] = .object(attachment.capabilityArgs) }
        if attachment.statusName != attachment.network.name { o["statusName"] = .string(attachment.statusName) }
        if !attachment.extraArgs.isEmpty { o["extraArgs"] = .string(attachment.extraArgs.serialized) }
        if !attachment.defaultGateways.isEmpty { o["defaultGateways"] = .array(attachment.defaultGateways.map { .string($0.text) }) }
        if let device = attachment.device { o["device"] = device.json }
        if let result { o["result"] = result.json } else if let unreadableResult { o["unreadableResult"] = .string(unreadableResult) }
        return .object(o)
    }

    init(fields f: JSONFields) throws(SpecError) {
        guard let networkJSON = f.object["network"] else { throw .missingField(path: f.path("network")) }
        let network = try NetworkConfigList(json: networkJSON, path: f.path("network"))
        let roleText = try f.requiredString("role")
        guard let role = Attachment.Role(rawValue: roleText) else { throw .invalidField(path: f.path("role"), reason: "unknown role \(Echo.quoted(roleText))") }
        let ifName: InterfaceName
        let ifNameText = try f.requiredString("ifName")
        do throws(NameError) { ifName = try InterfaceName(ifNameText) } catch {
            throw .invalidField(path: f.path("ifName"), reason: error.reason)
        }
        let attachment = Attachment(network: network, ifName: ifName, role: role,
                                    capabilityArgs: try f.object("capabilityArgs") ?? JSONObject(), source: try f.string("source") ?? "cache",
                                    statusName: try f.string("statusName"), extraArgs: try CNIArgs(parsing: try f.string("extraArgs") ?? ""),
                                    device: try f.fields("device").map(AttachedDevice.init(fields:)), defaultGateways: try Self.gateways(f))
        var result: CNIResult?
        var unreadable = try f.string("unreadableResult")
        if let r = f.object["result"], r != .null {
            // One damaged result costs that delegate its prevResult, not the whole entry.
            do { result = try CNIResult(json: r, fallbackVersion: network.cniVersion, path: f.path("result")) } catch { unreadable = error.description }
        }
        self.init(attachment: attachment, result: result, unreadableResult: unreadable)
    }

    /// The gateways written from the pod's `default-route`, which were addresses when they were
    /// written; one that is not (a hand-edited file) makes the record unreadable, like any other
    /// field of the wrong kind.
    private static func gateways(_ f: JSONFields) throws(SpecError) -> [IPAddress] {
        try f.strings("defaultGateways").enumerated().map { (i, text) throws(SpecError) in
            guard let gateway = IPAddress(text) else {
                throw .invalidField(path: "\(f.path("defaultGateways"))[\(i)]", reason: "\(Echo.quoted(text)) is not an IP address")
            }
            return gateway
        }
    }
}

extension AttachedDevice {
    /// `dra` only for a device found through resource.k8s.io/v1: what a later status write (and
    /// its removal on DEL) needs to name the claim's entry.
    var json: JSONValue {
        var o: JSONObject = ["resourceName": .string(resourceName), "deviceID": .string(deviceID), "infoFile": .string(infoFile)]
        if let dra {
            var allocation: JSONObject = ["claim": .string(dra.claim), "request": .string(dra.allocation.request), "driver": .string(dra.allocation.driver),
                                          "pool": .string(dra.allocation.pool), "device": .string(dra.allocation.device)]
            if let shareID = dra.allocation.shareID { allocation["shareID"] = .string(shareID) }
            o["dra"] = .object(allocation)
        }
        return .object(o)
    }

    init(fields d: JSONFields) throws(SpecError) {
        self.init(resourceName: try d.requiredString("resourceName"), deviceID: try d.requiredString("deviceID"), infoFile: try d.requiredString("infoFile"),
                  dra: try d.fields("dra").map { a throws(SpecError) in
                      DRADevice(claim: try a.requiredString("claim"), allocation: DeviceAllocation(
                          request: try a.string("request") ?? "", driver: try a.requiredString("driver"), pool: try a.requiredString("pool"),
                          device: try a.requiredString("device"), shareID: try a.string("shareID")))
                  })
    }
}
