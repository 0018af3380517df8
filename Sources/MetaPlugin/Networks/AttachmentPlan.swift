import CNI
import CNIExec

/// One network to attach to the pod, with everything that decides how.
public struct Attachment: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        /// The pod's primary network: gets CNI_IFNAME and the runtime's runtimeConfig.
        case main
        /// Any other network: `net1`, `net2`, ... by position.
        case secondary
        /// `auxiliaryCNIChainName`: plugins that run for every pod after all other networks, as a
        /// chain of their own that starts from an empty result (Multus v4.2.1+).
        case auxiliary
    }

    public var network: NetworkConfigList
    public var ifName: InterfaceName
    public var role: Role
    /// runtimeConfig offered to this network's plugins (filtered by their capabilities).
    public var capabilityArgs: JSONObject
    /// Where the network came from ("delegates[1]", a file path), for messages.
    public var source: String
    /// The name network-status reports: `namespace/name` for a NAD, else the config's name.
    public var statusName: String
    /// Added to CNI_ARGS for this network's plugins (`IP=`, `MAC=` for a static request, as Multus).
    public var extraArgs: CNIArgs
    /// The device-plugin device this network was given (SR-IOV), if any.
    public var device: AttachedDevice?
    /// `default-route` of the pod's request: this network's gateways become the pod's only
    /// default routes of their families.
    public var defaultGateways: [IPAddress]

    public init(network: NetworkConfigList, ifName: InterfaceName, role: Role, capabilityArgs: JSONObject = JSONObject(), source: String,
                statusName: String? = nil, extraArgs: CNIArgs = CNIArgs(), device: AttachedDevice? = nil, defaultGateways: [IPAddress] = []) {
        self.network = network
        self.ifName = ifName
        self.role = role
        self.capabilityArgs = capabilityArgs
        self.source = source
        self.statusName = statusName ?? network.name
        self.extraArgs = extraArgs
        self.device = device
        self.defaultGateways = defaultGateways
    }

    public var label: AttachmentLabel { AttachmentLabel(network: statusName, ifName: ifName, source: source) }
}

/// The ordered networks one invocation attaches: the main network first, then the others.
public struct AttachmentPlan: Sendable {
    public var attachments: [Attachment]

    /// Refuses plans two of whose attachments would fight over one interface name.
    public init(validating attachments: [Attachment]) throws(MetaError) {
        var seen: [InterfaceName: Attachment] = [:]
        var gateways: [IPFamily: (gateway: IPAddress, network: String)] = [:]
        for attachment in attachments {
            if let earlier = seen[attachment.ifName] {
                throw .invalidConfig("networks \(Echo.quoted(earlier.network.name)) and \(Echo.quoted(attachment.network.name)) both want interface \(attachment.ifName)", source: attachment.source)
            }
            seen[attachment.ifName] = attachment
            for gateway in attachment.defaultGateways {
                let family = gateway.family
                if let other = gateways[family] {
                    throw .invalidConfig(
                        "two IPv\(family.versionString) default-route gateways: \(other.gateway) (network \(Echo.quoted(other.network))) and \(gateway) (network \(Echo.quoted(attachment.statusName))); a pod has one default route per family",
                        source: attachment.source)
                }
                gateways[family] = (gateway, attachment.statusName)
            }
            if attachment.network.hasVersionOnlyInPlugins {
                throw .invalidConfig(
                    "network \(Echo.quoted(attachment.statusName)) is a plugin list without a top-level cniVersion while each of its plugins has one, so it would run as 0.1.0 (as libcni reads it): chained plugins would fail with \"Required prevResult missing\" and DEL would leave IPs behind; move cniVersion to the top of the list",
                    source: attachment.source)
            }
            for plugin in attachment.network.plugins {
                do { try ExecError.validatePluginType(plugin.type) } catch {
                    throw .invalidConfig("network \(Echo.quoted(attachment.network.name)): \(error)", source: attachment.source)
                }
            }
        }
        self.attachments = attachments
    }
}

/// A device allocated to the pod by a device plugin, handed to one network.
public struct AttachedDevice: Sendable, Hashable {
    public var resourceName: String
    public var deviceID: String
    /// The CNI device-info file for this attachment (removed on DEL).
    public var infoFile: String
    /// For a device found through resource.k8s.io/v1: its claim and allocation result (driver,
    /// pool, device, shareID), the key of the claim's `status.devices` entry for it.
    public var dra: DRADevice? = nil
}
