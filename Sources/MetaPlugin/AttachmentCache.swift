import CNI
import Glibc

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
    public var containerID: String
    public var netns: String
    /// CNI_ARGS as ADD received it: delegates get the same on a DEL that carries none.
    public var args: CNIArgs
    public var attachments: [CachedAttachment]
}

public struct CachedAttachment: Sendable, Hashable {
    public var attachment: Attachment
    /// Nil until the delegate's ADD succeeded.
    public var result: CNIResult?
}

/// Per-container cache files in `<cniDir>/attachments/`. One file per container means two pods
/// attached in parallel never touch the same file; each write is atomic.
public struct AttachmentCache: Sendable {
    public let directory: String

    public init(cniDir: String) { directory = FileSystem.join(cniDir, "attachments") }

    public func path(for containerID: String) -> String { FileSystem.join(directory, containerID + ".json") }

    /// The entry for `containerID`, or nil when there is none.
    /// - Throws: `MetaError.corruptCache` when the file exists but cannot be read as an entry.
    public func load(_ containerID: String) throws(MetaError) -> CacheEntry? {
        let path = path(for: containerID)
        guard FileSystem.exists(path) else { return nil }
        let bytes = try FileSystem.readFile(path)
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

    public func store(_ entry: CacheEntry) throws(MetaError) {
        try FileSystem.ensureDirectory(directory)
        try FileSystem.writeAtomically(entry.json.serializedBytes(), to: path(for: entry.containerID))
    }

    public func remove(_ containerID: String) throws(MetaError) {
        try FileSystem.remove(path(for: containerID))
    }
}

// MARK: - Wire format

extension CacheEntry {
    static let format = "swift-multus/attachments/v1"

    var json: JSONValue {
        var o = JSONObject()
        o["format"] = .string(Self.format)
        o["state"] = .string(state.rawValue)
        o["containerID"] = .string(containerID)
        o["netns"] = .string(netns)
        o["args"] = .string(args.serialized)
        o["attachments"] = .array(attachments.map(\.json))
        return .object(o)
    }

    init(json: JSONValue) throws(SpecError) {
        let f = try JSONFields(json, path: "")
        let format = try f.requiredString("format")
        guard format == Self.format else { throw .invalidField(path: "format", reason: "unknown cache format \"\(format)\"") }
        let stateText = try f.requiredString("state")
        guard let state = State(rawValue: stateText) else { throw .invalidField(path: "state", reason: "unknown state \"\(stateText)\"") }
        var attachments: [CachedAttachment] = []
        for a in try f.objects("attachments") { attachments.append(try CachedAttachment(fields: a)) }
        self.init(state: state, containerID: try f.requiredString("containerID"), netns: try f.string("netns") ?? "",
                  args: try CNIArgs(parsing: try f.string("args") ?? ""), attachments: attachments)
    }
}

extension CachedAttachment {
    var json: JSONValue {
        var o = JSONObject()
        o["network"] = .object(attachment.network.raw)
        o["ifName"] = .string(attachment.ifName)
        o["role"] = .string(attachment.role.rawValue)
        o["source"] = .string(attachment.source)
        if !attachment.capabilityArgs.isEmpty { o["capabilityArgs"] = .object(attachment.capabilityArgs) }
        if attachment.statusName != attachment.network.name { o["statusName"] = .string(attachment.statusName) }
        if !attachment.extraArgs.isEmpty { o["extraArgs"] = .string(attachment.extraArgs.serialized) }
        if let result { o["result"] = result.json }
        return .object(o)
    }

    init(fields f: JSONFields) throws(SpecError) {
        guard let networkJSON = f.object["network"] else { throw .missingField(path: f.path("network")) }
        let network = try NetworkConfigList(json: networkJSON, path: f.path("network"))
        let roleText = try f.requiredString("role")
        guard let role = Attachment.Role(rawValue: roleText) else { throw .invalidField(path: f.path("role"), reason: "unknown role \"\(roleText)\"") }
        let attachment = Attachment(network: network, ifName: try f.requiredString("ifName"), role: role,
                                    capabilityArgs: try f.object("capabilityArgs") ?? JSONObject(), source: try f.string("source") ?? "cache",
                                    statusName: try f.string("statusName"), extraArgs: try CNIArgs(parsing: try f.string("extraArgs") ?? ""))
        var result: CNIResult?
        if let r = f.object["result"], r != .null {
            result = try CNIResult(json: r, fallbackVersion: network.cniVersion, path: f.path("result"))
        }
        self.init(attachment: attachment, result: result)
    }
}
