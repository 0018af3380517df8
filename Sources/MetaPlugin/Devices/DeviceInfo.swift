import CNI
import System

/// The Network Plumbing WG device-information files: the one a device plugin writes per device
/// (`<base>/dp/`), and the one per attachment that Multus copies it to, hands the delegate as
/// the `CNIDeviceInfoFile` capability, reads back into network-status `device-info`, and removes
/// on DEL (`<base>/cni/`).
///
/// Mirrors network-attachment-definition-client `pkg/utils` (getDPDeviceInfoPath,
/// GetCNIDeviceInfoPath, CopyDeviceInfoForCNIFromDP, LoadDeviceInfoFromCNI,
/// CleanDeviceInfoForCNI) and Multus `pkg/types/conf.go` (the file name, deviceID injection).
enum DeviceInfo {
    static let baseDirectory = "/var/run/k8s.cni.cncf.io/devinfo"

    /// The CNI device-info file path Multus uses for this delegate:
    /// `<base>/cni/<networkName>-<containerID>_<ifName>`, every "/" in that name turned into "-".
    ///
    /// `networkName` is what Multus calls the delegate's name: `namespace/name` for a
    /// NetworkAttachmentDefinition, the config's `name` otherwise (our `Attachment.statusName`).
    static func cniFilePath(baseDirectory: String = DeviceInfo.baseDirectory, networkName: String, containerID: String, ifName: String) -> String {
        let name = dashed("\(networkName)-\(containerID)_\(ifName)")
        return "\(trimmed(baseDirectory))/cni/\(name)"
    }

    /// Where the device plugin leaves a device's file: `<base>/dp/<resource>-<deviceID>-device.json`,
    /// "/" turned into "-" in both.
    static func devicePluginFilePath(baseDirectory: String = DeviceInfo.baseDirectory, resourceName: String, deviceID: String) -> String {
        let name = "\(dashed(resourceName))-\(dashed(deviceID))-device.json"
        return "\(trimmed(baseDirectory))/dp/\(name)"
    }

    /// What `ensureCNIFile` did.
    enum CNIFileOutcome: Sendable, Hashable {
        /// The device plugin's file was copied to the CNI path.
        case copied(from: String)
        /// The device plugin left no file for this device; nothing was written (the delegate
        /// may write its own, given `CNIDeviceInfoFile`).
        case noDevicePluginFile(String)
        /// A file is already at the CNI path; it is left as it is.
        case alreadyPresent
    }

    /// Before the delegate's ADD, copies the device plugin's device-info file for `deviceID` to
    /// `cniPath`, unless a file is already there. Without a device plugin file nothing is
    /// written: Multus synthesizes no minimal file, and a delegate that writes its own would
    /// find the path taken.
    ///
    /// Mirrors CopyDeviceInfoForCNIFromDP: the copy is the file as Multus decodes it (the
    /// DeviceInfo schema's fields only), mode 0444. Multus logs and ignores every failure here;
    /// callers should too.
    /// - Throws: `DeviceInfoError` when the device plugin's file is unreadable or malformed, or
    ///   the copy cannot be written.
    @discardableResult
    static func ensureCNIFile(
        at cniPath: String, resourceName: String, deviceID: String, baseDirectory: String = DeviceInfo.baseDirectory
    ) throws(DeviceInfoError) -> CNIFileOutcome {
        let dpPath = devicePluginFilePath(baseDirectory: baseDirectory, resourceName: resourceName, deviceID: deviceID)
        let bytes: [UInt8]
        do {
            bytes = try Files.read(dpPath, limit: 1 << 20)
        } catch {
            if error.errno == .noSuchFileOrDirectory { return .noDevicePluginFile(dpPath) }
            throw DeviceInfoError(.file(error, path: dpPath, readLimit: 1 << 20), path: dpPath)
        }
        let info = try decode(bytes, path: dpPath)
        if Files.exists(cniPath) { return .alreadyPresent }
        do {
            try Files.makeDirectories(directory(of: cniPath), permissions: 0o755)
            try Files.writeAtomically(Array(info.serialized().utf8), to: cniPath, permissions: 0o444)
        } catch {
            throw DeviceInfoError(.file(error, path: cniPath), path: cniPath)
        }
        return .copied(from: dpPath)
    }

    /// The CNI device-info file as JSON for network-status `device-info`: nil when it is
    /// missing or does not decode (Multus then reports no device-info).
    /// Mirrors LoadDeviceInfoFromCNI, including its decoding (see `decode`).
    static func read(_ path: String) -> JSONValue? {
        guard let bytes = try? Files.read(path, limit: 1 << 20) else { return nil }
        return try? decode(bytes, path: path)
    }

    /// network-status `device-info` for a network's device: the CNI device-info file (the device
    /// plugin's copy, or the delegate's own); for a DRA device without one, what the SR-IOV
    /// device plugin would have written for it: a `pci` device at the address its
    /// `k8s.cni.cncf.io/deviceID` attribute gives, which is what KubeVirt (VEP-427) reads there.
    /// A DRA device whose ID is no PCI address gets none.
    static func forNetworkStatus(_ device: AttachedDevice) -> JSONValue? {
        if let info = read(device.infoFile) { return info }
        guard device.dra != nil, isPCIAddress(device.deviceID) else { return nil }
        return ["type": "pci", "version": .string(specVersion), "pci": ["pci-address": .string(device.deviceID)]]
    }

    /// The NPWG device-info spec version the SR-IOV device plugin writes.
    static let specVersion = "1.1.0"

    /// `DDDD:BB:DD.F` in hex (domain, bus, device up to 1f, function up to 7), as the kernel
    /// names PCI devices and DRA drivers give them in `k8s.cni.cncf.io/deviceID`.
    static func isPCIAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2 else { return false }
        let slot = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard slot.count == 2, slot[0].count == 2, slot[1].count == 1,
              let device = UInt8(slot[0], radix: 16), device <= 0x1f, let function = UInt8(slot[1], radix: 16), function <= 7 else { return false }
        return [parts[0], parts[1], slot[0]].allSatisfy { $0.allSatisfy { $0.isASCII && $0.isHexDigit } }
    }

    /// Removes the CNI device-info file (DEL, and rollback of a failed ADD); missing is fine,
    /// and so is any other failure (Multus ignores them too).
    static func remove(_ path: String) {
        _ = try? Files.remove(path)
    }

    /// The delegate config with `deviceID` and `pciBusID` set to `deviceID`: at the top level of
    /// a single config, in every plugin of a conflist (not at the list's top level). Other keys
    /// are kept, an existing `deviceID`/`pciBusID` is replaced.
    /// Mirrors Multus delegateAddDeviceID and addDeviceIDInConfList.
    static func injectingDeviceID(_ deviceID: String, into network: NetworkConfigList) -> NetworkConfigList {
        network.updatingPlugins { plugin in
            var plugin = plugin
            plugin["deviceID"] = .string(deviceID)
            plugin["pciBusID"] = .string(deviceID)
            return plugin
        }
    }

    // MARK: - Decoding as Go's encoding/json does into nettypes.DeviceInfo

    /// A device-info document, as Multus sees it after `json.Unmarshal` into `DeviceInfo` and
    /// `json.Marshal` back: only the schema's fields, in its order, empty strings left out;
    /// keys matched exactly, else ignoring ASCII case, the last match winning; `null` for a
    /// section clears it; a wrongly typed field fails the whole document; a `null` document is
    /// an empty one.
    /// - Throws: `DeviceInfoError` naming `path` (the file the bytes came from) and the field.
    static func decode(_ bytes: [UInt8], path: String) throws(DeviceInfoError) -> JSONValue {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw DeviceInfoError(path: path, problem: "device-info file is not valid JSON: \(error)")
        }
        return try decode(document, path: path)
    }

    static func decode(_ document: JSONValue, path: String) throws(DeviceInfoError) -> JSONValue {
        func wrong(_ field: String, _ expected: String, _ found: JSONValue) -> DeviceInfoError {
            DeviceInfoError(path: path, problem: "device-info field \(field): must be \(expected), found \(found.kindName)")
        }
        var strings: [String: String] = [:]
        var sections: [String: [String: String]] = [:]
        switch document {
        case .null:
            break
        case .object(let object):
            for (key, value) in object {
                guard let field = match(key, in: topLevelFields) else { continue }
                if let subfields = sectionFields[field] {
                    switch value {
                    case .null:
                        sections[field] = nil
                    case .object(let inner):
                        var section = sections[field] ?? [:]
                        for (key, value) in inner {
                            guard let name = match(key, in: subfields) else { continue }
                            guard decodeString(value, into: &section[name]) else { throw wrong("\(field).\(name)", "a string", value) }
                        }
                        sections[field] = section
                    default:
                        throw wrong(field, "an object", value)
                    }
                } else {
                    guard decodeString(value, into: &strings[field]) else { throw wrong(field, "a string", value) }
                }
            }
        default:
            throw DeviceInfoError(path: path, problem: "device-info must be an object, found \(document.kindName)")
        }
        var out = JSONObject()
        for field in topLevelFields {
            if let fields = sectionFields[field] {
                if let section = sections[field] { out[field] = .object(encode(section, fields: fields)) }
            } else if let value = strings[field], !value.isEmpty {
                out[field] = .string(value)
            }
        }
        return .object(out)
    }

    /// nettypes.DeviceInfo's JSON names, in its field order.
    private static let topLevelFields = ["type", "version", "pci", "vdpa", "vhost-user", "memif"]
    private static let sectionFields: [String: [String]] = [
        "pci": ["pci-address", "vhost-net", "rdma-device", "pf-pci-address", "representor-device"],
        "vdpa": ["parent-device", "driver", "path", "pci-address", "pf-pci-address", "representor-device"],
        "vhost-user": ["mode", "path"],
        "memif": ["role", "path", "mode"],
    ]

    private static func match(_ key: String, in fields: [String]) -> String? {
        if fields.contains(key) { return key }
        let folded = key.lowercased()
        return fields.first { $0 == folded }
    }

    /// A Go string field: a string sets it, null leaves it; false for anything else.
    private static func decodeString(_ value: JSONValue, into slot: inout String?) -> Bool {
        switch value {
        case .string(let s): slot = s; return true
        case .null: return true
        default: return false
        }
    }

    private static func encode(_ values: [String: String], fields: [String]) -> JSONObject {
        var out = JSONObject()
        for field in fields { if let value = values[field], !value.isEmpty { out[field] = .string(value) } }
        return out
    }

    /// `filepath.Join` of a base directory: no trailing "/" (the root stays "/").
    private static func trimmed(_ directory: String) -> String {
        var directory = Substring(directory)
        while directory.count > 1, directory.hasSuffix("/") { directory = directory.dropLast() }
        return directory == "/" ? "" : String(directory)
    }

    private static func dashed(_ text: String) -> String { String(text.map { $0 == "/" ? "-" : $0 }) }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
