import CNI

/// `multus doctor`'s flags. Every directory defaults to what the node's config says, and that
/// to the places Multus and the runtimes use.
public struct DoctorOptions: Sendable, Hashable {
    /// Where the runtime reads its CNI config: the first config file here is what it runs.
    public var confDir = "/etc/cni/net.d"
    /// Overrides the config's `binDir` (default /opt/cni/bin).
    public var binDir: String?
    /// Overrides the config's `cniDir` (default /var/lib/cni/multus).
    public var cniDir: String?
    /// The namespace whose NADs are checked; nil: all namespaces the role may list.
    public var namespace: Namespace?
    public var output = Output.table

    public enum Output: Sendable, Hashable {
        case table
        case json
    }

    public init() {}

    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case helpRequested
        case invalid(String)
        public var description: String {
            switch self {
            case .helpRequested: "help requested"
            case .invalid(let message): message
            }
        }
    }

    public static let usage = """
        multus doctor [--conf-dir DIR] [--bin-dir DIR] [--cni-dir DIR] [--namespace NS] [--json]

        Checks this node's multi-network setup, read-only, the way an operator would: the CNI
        config the runtime runs, the kubeconfig, token, API server and RBAC (asked of the API
        server with SelfSubjectAccessReview, which stores nothing), the plugin binaries of the
        config and of the NADs, and the node's state (readiness file, cniDir, leftover cache
        entries and temporary files, the kubelet's pod-resources socket). One line per check:
        ok, warning or error, what was found and the fix. Every network call has a 1 s deadline.

          --conf-dir DIR   the runtime's CNI config directory (default /etc/cni/net.d)
          --bin-dir DIR    plugin directory (default: the config's binDir, else /opt/cni/bin)
          --cni-dir DIR    multus's state directory (default: the config's cniDir)
          --namespace NS   check the NADs of NS only (default: all the role may list)
          --json           a JSON array of {name, verdict, detail, fix} instead of the table

        Exit status: 0 when no check is an error, 1 otherwise, 2 for a bad flag.
        """

    /// Reads `--flag VALUE` and `--flag=VALUE`.
    public static func parse(_ arguments: [String]) throws(ParseError) -> DoctorOptions {
        var options = DoctorOptions()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            let (flag, inline) = split(argument)
            func value() throws(ParseError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw .invalid("\(flag) needs a value") }
                return next
            }
            switch flag {
            case "--help", "-h": throw .helpRequested
            case "--json": options.output = .json
            case "--conf-dir": options.confDir = try nonEmpty(flag, value())
            case "--bin-dir": options.binDir = try nonEmpty(flag, value())
            case "--cni-dir": options.cniDir = try nonEmpty(flag, value())
            case "--namespace":
                let text = try value()
                do { options.namespace = try Namespace(text) } catch { throw .invalid("--namespace \(Echo.quoted(text)): \(error.reason)") }
            default: throw .invalid("unknown argument \(Echo.quoted(argument))")
            }
        }
        return options
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    private static func nonEmpty(_ flag: String, _ value: String) throws(ParseError) -> String {
        guard !value.isEmpty else { throw .invalid("\(flag) needs a non-empty value") }
        return value
    }
}
