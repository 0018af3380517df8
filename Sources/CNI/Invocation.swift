/// The CNI verbs.
public enum CNICommand: String, Sendable, CaseIterable {
    case add = "ADD", del = "DEL", check = "CHECK", version = "VERSION", status = "STATUS", gc = "GC"
}

/// One plugin invocation as the runtime described it in CNI_* variables, validated.
public struct Invocation: Sendable, Hashable {
    public var command: CNICommand
    public var containerID: String
    public var netns: String
    public var ifName: String
    public var args: CNIArgs
    /// CNI_PATH, split on ':'.
    public var path: [String]

    public init(command: CNICommand, containerID: String = "", netns: String = "", ifName: String = "", args: CNIArgs = CNIArgs(), path: [String] = []) {
        self.command = command
        self.containerID = containerID
        self.netns = netns
        self.ifName = ifName
        self.args = args
        self.path = path
    }

    /// Which variable each verb requires. Mirrors libcni skel's table: CNI_NETNS is optional on
    /// DEL (the namespace may be gone), CNI_ARGS is always optional.
    public static let requirements: [(name: String, requiredFor: Set<CNICommand>)] = [
        ("CNI_COMMAND", [.add, .del, .check, .status, .gc]),
        ("CNI_CONTAINERID", [.add, .del, .check]),
        ("CNI_NETNS", [.add, .check]),
        ("CNI_IFNAME", [.add, .del, .check]),
        ("CNI_ARGS", []),
        ("CNI_PATH", [.add, .del, .check, .status, .gc]),
    ]

    /// Reads and validates the CNI_* variables.
    /// - Parameter pathOptional: the meta-plugin's `binDir` can stand in for CNI_PATH.
    /// - Throws: `SpecError.missingEnvironment` listing every missing variable at once, or
    ///   `.invalidEnvironment` for the first invalid one.
    public init(environment: [String: String], pathOptional: Bool = false) throws(SpecError) {
        let commandText = environment["CNI_COMMAND"] ?? ""
        guard !commandText.isEmpty else { throw .missingEnvironment(command: "a CNI plugin", names: ["CNI_COMMAND"]) }
        guard let command = CNICommand(rawValue: commandText) else {
            throw .invalidEnvironment(name: "CNI_COMMAND", reason: "\(Echo.quoted(commandText)) is not one of \(CNICommand.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let missing = Self.requirements.filter { requirement in
            requirement.requiredFor.contains(command) && (environment[requirement.name] ?? "").isEmpty
                && !(pathOptional && requirement.name == "CNI_PATH")
        }.map(\.name)
        guard missing.isEmpty else { throw .missingEnvironment(command: command.rawValue, names: missing) }

        // Both reach delegates' environment and our cache's paths: checked here, once.
        let containerID = environment["CNI_CONTAINERID"] ?? ""
        if !containerID.isEmpty { _ = try Self.checked(ContainerID.self, "CNI_CONTAINERID", containerID) }
        let ifName = environment["CNI_IFNAME"] ?? ""
        if !ifName.isEmpty { _ = try Self.checked(InterfaceName.self, "CNI_IFNAME", ifName) }
        self.init(
            command: command, containerID: containerID, netns: environment["CNI_NETNS"] ?? "", ifName: ifName,
            args: try CNIArgs(parsing: environment["CNI_ARGS"] ?? ""),
            path: (environment["CNI_PATH"] ?? "").split(separator: ":").map(String.init))
    }

    private static func checked<Rule>(_ kind: ValidName<Rule>.Type, _ name: String, _ text: String) throws(SpecError) -> ValidName<Rule> {
        do { return try kind.init(text) } catch { throw .invalidEnvironment(name: name, reason: error.reason) }
    }
}
