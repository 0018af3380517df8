import CNI

/// What one delegate invocation needs beyond its config: libcni's `RuntimeConf`, plus where to
/// find plugins and which non-CNI environment to hand them.
public struct RuntimeConf: Sendable, Hashable {
    public var containerID: String
    public var netns: String
    public var ifName: String
    public var args: CNIArgs
    /// runtimeConfig values offered to the delegate; each plugin receives only the ones it
    /// declares in `capabilities`.
    public var capabilityArgs: JSONObject
    /// Plugin search order (binDir, then CNI_PATH); also what delegates get as CNI_PATH, so an
    /// IPAM plugin is found where its main plugin was.
    public var pluginDirectories: [String]
    /// Non-CNI variables delegates may rely on (PATH for portmap's iptables), chosen explicitly:
    /// the process environment is never passed through wholesale.
    public var passthroughEnvironment: [String]

    public init(containerID: String = "", netns: String = "", ifName: String = "", args: CNIArgs = CNIArgs(),
                capabilityArgs: JSONObject = JSONObject(), pluginDirectories: [String] = [], passthroughEnvironment: [String] = []) {
        self.containerID = containerID
        self.netns = netns
        self.ifName = ifName
        self.args = args
        self.capabilityArgs = capabilityArgs
        self.pluginDirectories = pluginDirectories
        self.passthroughEnvironment = passthroughEnvironment
    }

    /// The environment one plugin process gets for `command`.
    public func environment(for command: CNICommand) -> [String] {
        var env = ["CNI_COMMAND=\(command.rawValue)"]
        switch command {
        case .add, .del, .check:
            env += ["CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)", "CNI_IFNAME=\(ifName)", "CNI_ARGS=\(args.serialized)"]
        case .version, .status, .gc:
            break
        }
        env.append("CNI_PATH=\(pluginDirectories.joined(separator: ":"))")
        return env + passthroughEnvironment
    }
}
