import CNI
import CNIExec

/// One network to attach to the pod, with everything that decides how.
public struct Attachment: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        /// The pod's primary network: gets CNI_IFNAME and the runtime's runtimeConfig.
        case main
        /// Any other network: `net1`, `net2`, ... by position.
        case secondary
    }

    public var network: NetworkConfigList
    public var ifName: String
    public var role: Role
    /// runtimeConfig offered to this network's plugins (filtered by their capabilities).
    public var capabilityArgs: JSONObject
    /// Where the network came from ("delegates[1]", a file path), for messages.
    public var source: String

    public var label: AttachmentLabel { AttachmentLabel(network: network.name, ifName: ifName, source: source) }
}

/// The ordered networks one invocation attaches: the main network first, then the others.
public struct AttachmentPlan: Sendable {
    public var attachments: [Attachment]

    /// The plan for a pod from the config alone (no Kubernetes): `clusterNetwork` and
    /// `defaultNetworks` when set, else the inline `delegates`.
    /// - Throws: `MetaError` naming the key and file of a network that cannot be loaded.
    public static func resolve(_ config: MultusConfig, mainIfName: String, files: NetworkFiles) throws(MetaError) -> AttachmentPlan {
        var networks: [LoadedNetwork] = []
        if let clusterNetwork = config.clusterNetwork {
            networks.append(try files.load(clusterNetwork, key: "clusterNetwork"))
            for (i, reference) in config.defaultNetworks.enumerated() {
                networks.append(try files.load(reference, key: "defaultNetworks[\(i)]"))
            }
        } else {
            networks = config.delegates.enumerated().map { LoadedNetwork(network: $1, source: "delegates[\($0)] of the multus config") }
        }
        var attachments: [Attachment] = []
        for (index, loaded) in networks.enumerated() {
            guard !loaded.network.name.isEmpty else {
                throw .invalidConfig("a delegate network needs a \"name\" (plugins key their state, such as IPAM leases, on it)", source: loaded.source)
            }
            let role: Attachment.Role = index == 0 ? .main : .secondary
            attachments.append(Attachment(
                network: loaded.network, ifName: role == .main ? mainIfName : "net\(index)", role: role,
                capabilityArgs: role == .main ? config.runtimeConfig : JSONObject(), source: loaded.source))
        }
        return try AttachmentPlan(validating: attachments)
    }

    /// Refuses plans two of whose attachments would fight over one interface name.
    public init(validating attachments: [Attachment]) throws(MetaError) {
        var seen: [String: Attachment] = [:]
        for attachment in attachments {
            if let problem = NameRules.interfaceNameProblem(attachment.ifName) {
                throw .invalidConfig("interface name for network \"\(attachment.network.name)\": \(problem)", source: attachment.source)
            }
            if let earlier = seen[attachment.ifName] {
                throw .invalidConfig("networks \"\(earlier.network.name)\" and \"\(attachment.network.name)\" both want interface \(attachment.ifName)", source: attachment.source)
            }
            seen[attachment.ifName] = attachment
            for plugin in attachment.network.plugins {
                do { try ExecError.validatePluginType(plugin.type) } catch {
                    throw .invalidConfig("network \"\(attachment.network.name)\": \(error)", source: attachment.source)
                }
            }
        }
        self.attachments = attachments
    }
}
