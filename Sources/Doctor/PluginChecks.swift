import CNI
import CNIExec
import KubeClient

/// Group 3: every plugin the config and the NADs name is where the runtime's search finds it
/// (binDir, then CNI_PATH), executable, and speaks the version each config runs it at.
struct PluginChecks {
    let directories: [String]
    let seams: DoctorSeams

    /// The plugins a NAD's config names, at its version; none for a NAD without config (a file
    /// of that name in confDir) or one that does not parse (the plugin reports that at ADD).
    static func uses(of nad: NetworkAttachmentDefinition) -> [PluginUse] {
        guard !nad.config.isEmpty, let json = try? JSONValue.parse(Array(nad.config.utf8)),
              let network = try? NetworkConfigList(json: json) else { return [] }
        return ConfigChecks.uses(network, source: "NAD \(nad.metadata.namespace)/\(nad.metadata.name)")
    }

    func run(_ uses: [PluginUse]) -> [Check] {
        var byType: [String: [PluginUse]] = [:]
        for use in uses { byType[use.type, default: []].append(use) }
        return byType.keys.sorted().map { check($0, byType[$0] ?? []) }
    }

    private func check(_ type: String, _ uses: [PluginUse]) -> Check {
        let name = "plugins.\(type)"
        let sources = Self.sources(uses)
        let path: String
        do { path = try seams.executor.find(type, in: directories) } catch {
            return .error(name, "\(error.description); named by \(sources)",
                          fix: "install the \(Echo.quoted(type)) plugin into \(directories.first ?? "binDir"), or correct the config that names it")
        }
        let asked = Set(uses.map(\.version))
        let supported: [SpecVersion]
        do { supported = try version(path, asking: asked.max() ?? .latest) } catch {
            return .error(name, "\(path) does not answer VERSION: \(error.message)", fix: "reinstall the plugin: this binary is broken or not a CNI plugin")
        }
        let unsupported = asked.filter { !supported.contains($0) }.sorted()
        guard unsupported.isEmpty else {
            let who = uses.filter { unsupported.contains($0.version) }.map { "\($0.source) asks \($0.version)" }
            return .error(name, "\(path) speaks \(supported.map(\.description).joined(separator: ", ")); \(who.joined(separator: ", "))",
                          fix: "upgrade the plugin, or set those configs' cniVersion to one it speaks")
        }
        return .ok(name, "\(path) speaks \(asked.sorted().map(\.description).joined(separator: ", ")) as asked by \(sources)")
    }

    private static func sources(_ uses: [PluginUse]) -> String {
        var seen: [String] = []
        for use in uses where !seen.contains(use.source) { seen.append(use.source) }
        return seen.count <= 3 ? seen.joined(separator: ", ") : seen.prefix(3).joined(separator: ", ") + " and \(seen.count - 3) more"
    }

    struct VersionFailure: Error { var message: String }

    /// The plugin's VERSION answer (`supportedVersions`), as libcni's GetVersionInfo asks it.
    private func version(_ path: String, asking: SpecVersion) throws(VersionFailure) -> [SpecVersion] {
        let stdin = JSONValue.object(["cniVersion": .string(asking.description)]).serializedBytes()
        let output: ExecOutput
        do { output = try seams.executor.run(path, stdin: stdin, environment: ["CNI_COMMAND=VERSION"], timeout: seams.deadline) } catch {
            throw VersionFailure(message: error.description)
        }
        guard output.succeeded else { throw VersionFailure(message: "it exited with \(output.termination): \(Echo.quoted(String(decoding: output.stdout, as: UTF8.self)))") }
        return try Self.supportedVersions(output.stdout)
    }

    /// `supportedVersions` of a VERSION answer; an answer with only `cniVersion` is read as
    /// speaking that one version.
    static func supportedVersions(_ bytes: [UInt8]) throws(VersionFailure) -> [SpecVersion] {
        guard let object = (try? JSONValue.parse(bytes))?.objectValue else {
            throw VersionFailure(message: "the answer is not a JSON object: \(Echo.quoted(String(decoding: bytes.prefix(256), as: UTF8.self)))")
        }
        guard let list = object["supportedVersions"]?.arrayValue else {
            guard let one = object["cniVersion"]?.stringValue.flatMap(SpecVersion.init) else {
                throw VersionFailure(message: "the answer has neither supportedVersions nor cniVersion")
            }
            return [one]
        }
        return list.compactMap { $0.stringValue.flatMap(SpecVersion.init) }
    }
}
