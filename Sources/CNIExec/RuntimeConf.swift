import CNI

/// What one delegate invocation needs beyond its config: libcni's `RuntimeConf`, plus where to
/// find plugins and which non-CNI environment to hand them.
public struct RuntimeConf: Sendable, Hashable {
    /// nil for calls that concern no container (STATUS, GC): CNI_CONTAINERID is then empty.
    public var containerID: ContainerID?
    public var netns: String
    /// nil for calls that concern no container (STATUS, GC): CNI_IFNAME is then empty.
    public var ifName: InterfaceName?
    public var args: CNIArgs
    /// runtimeConfig values offered to the delegate; each plugin receives only the ones it
    /// declares in `capabilities`.
    public var capabilityArgs: JSONObject
    /// Plugin search order (binDir, then CNI_PATH); also what delegates get as CNI_PATH, so an
    /// IPAM plugin is found where its main plugin was.
    public var pluginDirectories: [String]
    /// The runtime's own environment, without its CNI_* variables (`KEY=value`): delegates
    /// inherit it, as libcni's invoke hands a plugin its caller's environment.
    public var passthroughEnvironment: [String]

    public init(containerID: ContainerID? = nil, netns: String = "", ifName: InterfaceName? = nil, args: CNIArgs = CNIArgs(),
                capabilityArgs: JSONObject = JSONObject(), pluginDirectories: [String] = [], passthroughEnvironment: [String] = []) {
        self.containerID = containerID
        self.netns = netns
        self.ifName = ifName
        self.args = args
        self.capabilityArgs = capabilityArgs
        self.pluginDirectories = pluginDirectories
        self.passthroughEnvironment = passthroughEnvironment
    }

    /// The environment one plugin process gets for `command`: the inherited environment, then
    /// every CNI_* variable (empty where the verb has no container), each once. Mirrors libcni's
    /// Args.AsEnv.
    public func environment(for command: CNICommand) -> [String] {
        let container: (id: String, netns: String, args: String, ifName: String) = switch command {
        case .add, .del, .check: (containerID?.text ?? "", netns, args.serialized, ifName?.text ?? "")
        case .version, .status, .gc: ("", "", "", "")
        }
        let own = ["CNI_COMMAND=\(command.rawValue)", "CNI_CONTAINERID=\(container.id)", "CNI_NETNS=\(container.netns)",
                   "CNI_ARGS=\(container.args)", "CNI_IFNAME=\(container.ifName)", "CNI_PATH=\(pluginDirectories.joined(separator: ":"))"]
        return passthroughEnvironment.filter { !$0.hasPrefix("CNI_") } + own
    }
}
