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
    /// The name network-status reports: `namespace/name` for a NAD, else the config's name.
    public var statusName: String
    /// Added to CNI_ARGS for this network's plugins (`IP=`, `MAC=` for a static request, as Multus).
    public var extraArgs: CNIArgs

    public init(network: NetworkConfigList, ifName: String, role: Role, capabilityArgs: JSONObject = JSONObject(), source: String,
                statusName: String? = nil, extraArgs: CNIArgs = CNIArgs()) {
        self.network = network
        self.ifName = ifName
        self.role = role
        self.capabilityArgs = capabilityArgs
        self.source = source
        self.statusName = statusName ?? network.name
        self.extraArgs = extraArgs
    }

    public var label: AttachmentLabel { AttachmentLabel(network: statusName, ifName: ifName, source: source) }
}

/// The ordered networks one invocation attaches: the main network first, then the others.
public struct AttachmentPlan: Sendable {
    public var attachments: [Attachment]

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
