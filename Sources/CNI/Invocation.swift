/// The CNI verbs.
public enum CNICommand: String, Sendable, CaseIterable {
    case add = "ADD", del = "DEL", check = "CHECK", version = "VERSION", status = "STATUS", gc = "GC"
}

/// One plugin invocation as the runtime described it in CNI_* variables, validated.
public struct Invocation: Sendable, Hashable {
    public var command: CNICommand
    /// nil for the verbs that concern no container (VERSION, STATUS, GC).
    public var containerID: ContainerID?
    public var netns: String
    /// nil for the verbs that concern no container (VERSION, STATUS, GC).
    public var ifName: InterfaceName?
    public var args: CNIArgs
    /// CNI_PATH, split on ':'.
    public var path: [String]

    public init(command: CNICommand, containerID: ContainerID? = nil, netns: String = "", ifName: InterfaceName? = nil, args: CNIArgs = CNIArgs(), path: [String] = []) {
        self.command = command
        self.containerID = containerID
        self.netns = netns
        self.ifName = ifName
        self.args = args
        self.path = path
    }

    /// Which variable each verb requires. Mirrors libcni skel's table: CNI_NETNS is optional on
    /// DEL (the namespace may be gone), CNI_ARGS is always optional. Lists, not sets: a Set's
    /// first use looks up CNICommand's Hashable conformance, a tenth of a DEL's instructions.
    public static let requirements: [(name: String, requiredFor: [CNICommand])] = [
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
        self.init(
            command: command, containerID: try Self.checked("CNI_CONTAINERID", environment, ContainerID.init),
            netns: environment["CNI_NETNS"] ?? "", ifName: try Self.checked("CNI_IFNAME", environment, InterfaceName.init),
            args: try CNIArgs(parsing: environment["CNI_ARGS"] ?? ""),
            path: (environment["CNI_PATH"] ?? "").split(separator: ":").map(String.init))
    }

    /// The variable's value as a name; nil when unset or empty (a verb that needs it was refused above).
    private static func checked<Name>(_ variable: String, _ environment: [String: String],
                                      _ make: (String) throws(NameError) -> Name) throws(SpecError) -> Name? {
        guard let text = environment[variable], !text.isEmpty else { return nil }
        do { return try make(text) } catch { throw .invalidEnvironment(name: variable, reason: error.reason) }
    }
}
