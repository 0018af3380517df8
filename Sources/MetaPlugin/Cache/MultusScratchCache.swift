import CNI
import System

/// What Multus (v3 and v4) left on a node for each container it attached, so that a node upgraded
/// in place can still DEL, CHECK and GC those pods with no API call and no NAD:
/// - `<cniDir>/<containerID>`: the JSON list of its delegates, as Multus's `saveDelegates` writes
///   it (`DelegateNetConf`: the config itself base64-encoded in `Bytes`, beside `Conf`/`ConfList`,
///   the network's `Name` and the pod's requests: `ifnameRequest`, `macRequest`, `ipRequest`, ...);
/// - libcni's result cache, `<cacheDir>/results/<network>-<containerID>-<ifname>`, written by the
///   libcni Multus runs delegates through, with Multus's cniDir as its cache directory.
struct MultusScratchCache {
    let cniDir: String
    /// Where libcni's cached results may be: Multus's cniDir first, then libcni's default.
    var resultDirectories: [String]

    static let libcniResultDirectory = "/var/lib/cni/results"

    init(cniDir: String, resultDirectories: [String]? = nil) {
        self.cniDir = cniDir
        self.resultDirectories = resultDirectories ?? [Files.join(cniDir, "results"), Self.libcniResultDirectory]
    }

    func path(for containerID: ContainerID) -> String { Files.join(cniDir, containerID.text) }

    /// Whether something other than a directory is at `path` (a record or a cached result).
    private static func isFile(_ path: String) -> Bool {
        guard let kind = Files.kind(of: path) else { return false }
        return kind != .directory
    }

    /// The attachments Multus recorded for `containerID`, as we would have cached them; nil when
    /// Multus left nothing for it.
    /// - Parameters:
    ///   - mainIfName: the interface the main network was given (CNI_IFNAME): Multus does not record it.
    ///   - config: for the multus config's cniVersion (Multus gives it to a conflist that has none)
    ///     and the runtime's runtimeConfig (offered to the main network, as Multus does).
    /// - Throws: `MetaError.corruptCache` naming the file when it is there but not Multus's format.
    func load(_ containerID: ContainerID, mainIfName: String, config: MultusConfig) throws(MetaError) -> MultusRecord? {
        let path = path(for: containerID)
        guard Self.isFile(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: wholeFileLimit, symlinks: .refuse) } catch { throw .file(error, path: path) }
        let delegates: [JSONValue]
        do {
            guard let list = try JSONValue.parse(bytes).arrayValue else {
                throw MetaError.corruptCache(path: path, reason: "not a JSON list of delegates")
            }
            delegates = list
        } catch let error as JSONSyntaxError {
            throw .corruptCache(path: path, reason: error.description)
        } catch let error as MetaError {
            throw error
        } catch {
            throw .corruptCache(path: path, reason: "\(error)")
        }
        var record = MultusRecord(containerID: containerID, path: path)
        for (index, delegate) in delegates.enumerated() {
            do throws(SpecError) {
                let (attachment, resultFile) = try self.attachment(delegate, index: index, containerID: containerID, mainIfName: mainIfName,
                                                                   config: config, source: path)
                record.attachments.append(cached(attachment, resultFile: resultFile))
                if let resultFile { record.resultFiles.append(resultFile) }
            } catch {
                throw .corruptCache(path: path, reason: "delegate \(index): \(error)")
            }
        }
        guard !record.attachments.isEmpty else { throw .corruptCache(path: path, reason: "lists no delegate") }
        return record
    }

    /// The interface Multus gave a container's main network, which its record does not keep:
    /// libcni's cached result of the main network is named after it. `eth0` when there is none.
    func mainIfName(of containerID: ContainerID) -> String {
        guard let list = (try? Files.read(path(for: containerID), limit: wholeFileLimit, symlinks: .refuse)).flatMap({ try? JSONValue.parse($0) })?.arrayValue,
              let first = list.first.flatMap({ try? JSONFields($0, path: "") }),
              let network = try? NetworkConfigList(json: Self.delegateConfig(first, cniVersion: .latest))
        else { return "eth0" }
        let prefix = "\(network.name)-\(containerID)-"
        for directory in resultDirectories {
            if let name = (try? Files.list(directory))?.sorted().first(where: { $0.hasPrefix(prefix) }) {
                return String(name.dropFirst(prefix.count))
            }
        }
        return "eth0"
    }

    /// Removes Multus's record of the container and the libcni results it pointed at.
    func remove(_ record: MultusRecord) {
        for file in record.resultFiles + [record.path] { _ = try? Files.remove(file) }
    }

    /// Containers Multus left a record for: the files in cniDir whose name is a container ID.
    func containerIDs() -> [ContainerID] {
        guard let names = try? Files.list(cniDir) else { return [] }
        return names.compactMap { try? ContainerID($0) }.filter { Self.isFile(path(for: $0)) }.sorted()
    }

    /// One `DelegateNetConf` as the attachment Multus made of it (its getIfname and
    /// CreateCNIRuntimeConf), and where libcni cached its result, if anywhere.
    private func attachment(_ delegate: JSONValue, index: Int, containerID: ContainerID, mainIfName: String, config: MultusConfig,
                            source: String) throws(SpecError) -> (Attachment, String?) {
        let fields = try JSONFields(delegate, path: "")
        let network = try NetworkConfigList(json: try Self.delegateConfig(fields, cniVersion: config.cniVersion), path: "Bytes")
        let requested = try fields.string("ifnameRequest") ?? ""
        let role: Attachment.Role = index == 0 ? .main : .secondary
        let ifName: InterfaceName
        do { ifName = try InterfaceName(role == .main ? mainIfName : requested.isEmpty ? "net\(index)" : requested) } catch {
            throw .invalidField(path: role == .main ? "CNI_IFNAME" : "ifnameRequest", reason: error.reason)
        }
        var capabilities = role == .main ? config.runtimeConfig : JSONObject()
        var extraArgs = CNIArgs()
        if let mac = try fields.string("macRequest"), !mac.isEmpty {
            capabilities["mac"] = .string(mac)
            extraArgs["MAC"] = mac
        }
        let ips = try fields.strings("ipRequest")
        if !ips.isEmpty {
            capabilities["ips"] = .array(ips.map { .string($0) })
            extraArgs["IP"] = ips.joined(separator: ",")
        }
        if let guid = try fields.string("infinibandGUIDRequest"), !guid.isEmpty { capabilities["infinibandGUID"] = .string(guid) }
        if !extraArgs.isEmpty { extraArgs["IgnoreUnknown"] = "true" }
        let name = try fields.string("Name") ?? ""
        let statusName = name.isEmpty ? network.name : name
        var device: AttachedDevice?
        if let deviceID = try fields.string("deviceID"), !deviceID.isEmpty {
            if role == .secondary { capabilities["deviceID"] = .string(deviceID) }
            device = AttachedDevice(resourceName: try fields.string("resourceName") ?? "", deviceID: deviceID,
                                    infoFile: DeviceInfo.cniFilePath(networkName: statusName, containerID: containerID.text, ifName: ifName.text))
        }
        let attachment = Attachment(network: network, ifName: ifName, role: role, capabilityArgs: capabilities,
                                    source: "Multus's cache \(source)", statusName: statusName, extraArgs: extraArgs, device: device)
        let resultName = "\(network.name)-\(containerID)-\(ifName.text)"
        let resultFile = resultDirectories.map { Files.join($0, resultName) }.first(where: Self.isFile)
        return (attachment, resultFile)
    }

    /// The config Multus ran, from the first of these that holds it whole:
    /// 1. `CNINetworkConfigList.Plugins[].Bytes` (base64), each plugin's config as libcni read it,
    ///    rebuilt into the list with the list's `Name`, `CNIVersion`, `DisableCheck` and `DisableGC`.
    ///    Multus v4.2+ keeps this for a conflist it loads from a file (its clusterNetwork path), and
    ///    its ADD runs exactly this list (conflistAdd). The `Bytes` beside it are not what ran: v4.2+
    ///    writes them by re-marshalling libcni's typed structs, which keep `type` and `ipam.type`
    ///    and drop every plugin's own field (`ipam.ranges`, `subnet`, `dataDir`, Calico's), so a DEL
    ///    from them fails in IPAM ("no IP ranges specified", Multus's own DEL included) and leaks.
    /// 2. `Bytes` (base64 of the config as written: Multus before v4.2, and every NAD).
    /// 3. The decoded `ConfList` (when it has plugins) or `Conf`.
    /// A conflist without cniVersion gets the multus config's, as Multus's DEL gives it.
    static func delegateConfig(_ fields: JSONFields, cniVersion: SpecVersion) throws(SpecError) -> JSONValue {
        var config: JSONObject
        if let list = try pluginsConfig(fields) {
            config = list
        } else if let bytes = try decodedObject(fields, "Bytes") {
            config = bytes
        } else if let list = try fields.object("ConfList"), !(list["plugins"]?.arrayValue ?? []).isEmpty {
            config = list
        } else if let conf = try fields.object("Conf") {
            config = conf
        } else {
            throw .missingField(path: fields.path("Bytes"))
        }
        if config["plugins"] != nil, (config["cniVersion"]?.stringValue ?? "").isEmpty {
            config["cniVersion"] = .string(cniVersion.description)
        }
        return .object(config)
    }

    /// Multus v4.2+'s `CNINetworkConfigList` as the conflist it was read from; nil when it lists
    /// no plugin (Multus before v4.2 has no such field; v4.2+ leaves it empty for NADs and `.conf` files).
    private static func pluginsConfig(_ fields: JSONFields) throws(SpecError) -> JSONObject? {
        guard let list = try fields.fields("CNINetworkConfigList") else { return nil }
        let plugins = try list.objects("Plugins")
        guard !plugins.isEmpty else { return nil }
        var config: JSONObject = ["name": .string(try list.requiredString("Name"))]
        if let version = try list.string("CNIVersion"), !version.isEmpty { config["cniVersion"] = .string(version) }
        if try list.bool("DisableCheck") == true { config["disableCheck"] = true }
        if try list.bool("DisableGC") == true { config["disableGC"] = true }
        var decoded: [JSONValue] = []
        for plugin in plugins {
            guard let bytes = try decodedObject(plugin, "Bytes") else { throw .missingField(path: plugin.path("Bytes")) }
            decoded.append(.object(bytes))
        }
        config["plugins"] = .array(decoded)
        return config
    }

    /// The JSON object base64-encoded in `fields[key]`, as Go encodes a `[]byte`; nil when absent or empty.
    private static func decodedObject(_ fields: JSONFields, _ key: String) throws(SpecError) -> JSONObject? {
        guard let encoded = try fields.string(key), !encoded.isEmpty else { return nil }
        let path = fields.path(key)
        guard let bytes = Base64.decode(encoded) else { throw .invalidField(path: path, reason: "is not base64") }
        do {
            guard let object = try JSONValue.parse(bytes).objectValue else { throw SpecError.invalidField(path: path, reason: "does not hold a JSON object") }
            return object
        } catch let error as SpecError {
            throw error
        } catch {
            throw .invalidField(path: path, reason: "does not hold JSON: \(error)")
        }
    }

    /// `attachment` with libcni's cached result. No file means its ADD did not complete: libcni
    /// writes the file only after a network's ADD succeeded, so a file that cannot be read is a
    /// damaged result, not a missing one (its DEL goes on without a prevResult, its CHECK fails).
    private func cached(_ attachment: Attachment, resultFile: String?) -> CachedAttachment {
        guard let resultFile else { return CachedAttachment(attachment: attachment, result: nil) }
        do throws(UnreadableResult) {
            return CachedAttachment(attachment: attachment, result: try cachedResult(resultFile, network: attachment.network))
        } catch {
            return CachedAttachment(attachment: attachment, result: nil, unreadableResult: "\(resultFile): \(error.reason)")
        }
    }

    /// libcni's cached result: a `cniCacheV1` record holding it (libcni 0.8+), or the bare result
    /// (older libcni), as libcni's getCachedResult reads it.
    private func cachedResult(_ path: String, network: NetworkConfigList) throws(UnreadableResult) -> CNIResult {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: wholeFileLimit, symlinks: .refuse) } catch {
            throw UnreadableResult(reason: ErrorMapping.cniError(.file(error, path: path), context: nil).msg)
        }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(bytes) } catch { throw UnreadableResult(reason: error.description) }
        guard let object = parsed.objectValue else { throw UnreadableResult(reason: "not a JSON object") }
        let result = object["kind"]?.stringValue == "cniCacheV1" ? object["result"] : .object(object)
        guard let result, result != .null else { throw UnreadableResult(reason: "a cniCacheV1 record without a result") }
        do {
            return try CNIResult(json: result, fallbackVersion: network.cniVersion, path: "result")
        } catch {
            throw UnreadableResult(reason: error.description)
        }
    }
}

/// Why a libcni result file could not be read.
private struct UnreadableResult: Error {
    var reason: String
}

/// One container's attachments as Multus recorded them.
struct MultusRecord {
    var containerID: ContainerID
    var path: String
    var attachments: [CachedAttachment] = []
    /// libcni's cached results that were read, removed with the record.
    var resultFiles: [String] = []
}

extension MultusRecord {
    /// The record as an entry of our own cache, as if our ADD had made it: a teardown of it then
    /// keeps what failed in our cache (`AttachmentCache.adopt`), so the next DEL retries it from
    /// there once Multus's record is gone. Multus records no netns or CNI_ARGS: the caller gives
    /// the call's (DEL) or none (GC).
    func adopted(netns: String, args: CNIArgs) -> CacheEntry {
        CacheEntry(state: .added, containerID: containerID, netns: netns, args: args, attachments: attachments)
    }
}
