import CNI
import CNIExec
import HTTPS
import KubeClient
import Logging
import System

/// What the process prints and how it exits.
public struct PluginOutcome: Sendable {
    public var stdout: String
    public var exitCode: Int32
    /// Lines for stderr.
    public var diagnostics: [String]
    /// Log lines for stderr, as they are (`logToStderr`), and a log file's failure.
    public var log: [String] = []
}

/// The meta-plugin as a function of its inputs: environment and stdin in, outcome out. `main`
/// wires the real process to it; tests call it directly, in parallel.
public struct MultusPlugin: Sendable {
    public static let version = "0.1.0"

    /// What delegates inherit: the runtime's whole environment. libcni's invoke (Args.AsEnv) and
    /// Multus do the same, and delegates rely on it: proxies, their own settings (CALICO_*), the
    /// W3C trace context libcni sets (TRACEPARENT, TRACESTATE, BAGGAGE). `RuntimeConf` replaces
    /// the CNI_* variables with each delegate's own. Sorted, so a delegate's environment does not
    /// depend on hashing.
    static func inheritedEnvironment(_ environment: [String: String]) -> [String] {
        environment.filter { !$0.key.isEmpty }.map { "\($0.key)=\($0.value)" }.sorted()
    }

    public let executor: any PluginExecutor
    public let kubeAPIProvider: KubeAPIProvider
    public let devices: DevicePaths
    /// This executable, compared by device and inode with what a NAD's plugin types resolve to.
    public let ownExecutable: String

    /// - Parameter ownExecutable: tests name the multus binary here, since their own process is not it.
    public init(executor: any PluginExecutor, kubeAPIProvider: @escaping KubeAPIProvider = MultusPlugin.liveKubeAPI,
                devices: DevicePaths = .live, ownExecutable: String = "/proc/self/exe") {
        self.executor = executor
        self.kubeAPIProvider = kubeAPIProvider
        self.devices = devices
        self.ownExecutable = ownExecutable
    }

    /// The real API server: `kubeconfig` when the config names one, else the in-cluster service
    /// account (KUBERNETES_SERVICE_HOST/PORT), else none (the config alone decides). TLS sessions
    /// are kept in `<cniDir>/tls-sessions` for the next invocation to resume.
    public static let liveKubeAPI: KubeAPIProvider = { config, environment, budget throws(MetaError) in
        let sessions = TLSSessionCache(directory: Files.join(config.cniDir, "tls-sessions"))
        do throws(KubeError) {
            if let path = config.kubeconfig { return LiveKubeAPI(kubeconfig: try Kubeconfig.load(path: path), budget: budget, sessionCache: sessions) }
            if let inCluster = try Kubeconfig.inCluster(environment: environment) { return LiveKubeAPI(kubeconfig: inCluster, budget: budget, sessionCache: sessions) }
            return nil
        } catch {
            throw .kube(error, context: "loading the kubeconfig")
        }
    }

    public func run(environment: [String: String], stdin: [UInt8]) -> PluginOutcome {
        if environment["CNI_COMMAND"] == CNICommand.version.rawValue { return Self.version(stdin: stdin) }
        // Parsed once, before the logger exists, so that the logger can log a config that fails.
        let stdinJSON = Result { () throws(JSONSyntaxError) in try JSONValue.parse(stdin) }
        let log = Logger(InvocationLog.settings(try? stdinJSON.get()))
        var outcome = run(environment: environment, stdinJSON: stdinJSON, log: log)
        outcome.log = log.stderrLines
        return outcome
    }

    private func run(environment: [String: String], stdinJSON: Result<JSONValue, JSONSyntaxError>, log: Logger) -> PluginOutcome {
        let diagnostics = Diagnostics(log: log)
        let started = ContinuousClock.now
        var errorVersion = SpecVersion.latest
        var errorContext: ErrorContext?
        do {
            let invocation: Invocation
            do { invocation = try Invocation(environment: environment, pathOptional: true) } catch {
                throw MetaError.spec(error, source: "the CNI environment")
            }
            errorContext = ErrorContext(command: invocation.command, containerID: invocation.containerID)
            let pod = try podReference(invocation, diagnostics)
            errorContext?.pod = pod?.description
            let json: JSONValue
            do { json = try stdinJSON.get() } catch { throw MetaError.spec(.syntax(error), source: "the multus config (stdin)") }
            if let declared = json.objectValue?["cniVersion"]?.stringValue.flatMap(SpecVersion.init), declared.isSupported {
                errorVersion = declared
            }
            let config = try MultusConfig(json: json)
            let context = makeContext(config, invocation, pod, environment, diagnostics, log)
            let stdout: String
            switch invocation.command {
            case .add: stdout = try AddCommand(context: context).run().serialized()
            case .del: try DelCommand(context: context).run(); stdout = ""
            case .check: try CheckCommand(context: context).run(); stdout = ""
            case .status: try StatusCommand(context: context).run(); stdout = ""
            case .gc: try GCCommand(context: context, request: json).run(); stdout = ""
            case .version: stdout = Self.versionReply(json.serializedBytes())
            }
            InvocationLog.outcome(log, errorContext, nil, since: started)
            return PluginOutcome(stdout: stdout, exitCode: 0, diagnostics: diagnostics.all)
        } catch {
            let cniError = (error as? MetaError).map { ErrorMapping.cniError($0, context: errorContext) } ?? CNIError(.generic, "\(error)")
            InvocationLog.outcome(log, errorContext, cniError, since: started)
            // The runtime shows the error to the pod's owner (kubelet events): redacted as a log line.
            let printed = CNIError(cniError.code, Redaction.redact(cniError.msg), details: Redaction.redact(cniError.details))
            return PluginOutcome(stdout: printed.json(cniVersion: errorVersion).serialized(), exitCode: 1, diagnostics: diagnostics.all)
        }
    }

    /// The pod CNI_ARGS names, refused when a part breaks Kubernetes' rule for it. DEL goes on
    /// without it instead: no ADD can have attached anything for such a name, and a DEL that
    /// fails would leave the pod stuck terminating; the cache or the config alone decide.
    private func podReference(_ invocation: Invocation, _ diagnostics: Diagnostics) throws(MetaError) -> PodReference? {
        do { return try PodReference(args: invocation.args) } catch {
            guard invocation.command == .del else { throw error }
            diagnostics.note("\(ErrorMapping.cniError(error, context: nil).msg); tearing down without the pod")
            return nil
        }
    }

    private func makeContext(_ config: MultusConfig, _ invocation: Invocation, _ pod: PodReference?, _ environment: [String: String],
                             _ diagnostics: Diagnostics, _ log: Logger) -> PluginContext {
        var invocation = invocation
        if pod != nil {
            // What Multus always hands delegates for a pod (libcni's Kubernetes args).
            if invocation.args["IgnoreUnknown"] == nil { invocation.args["IgnoreUnknown"] = "true" }
            if invocation.args["K8S_POD_INFRA_CONTAINER_ID"] == nil { invocation.args["K8S_POD_INFRA_CONTAINER_ID"] = invocation.containerID?.text }
        }
        var directories: [String] = []
        for directory in [config.binDir] + invocation.path where !directory.isEmpty && !directories.contains(directory) {
            directories.append(directory)
        }
        let passthrough = Self.inheritedEnvironment(environment)
        return PluginContext(
            config: config, invocation: invocation,
            runner: DelegateRunner(executor: executor, timeout: config.delegateTimeout, observer: InvocationLog.delegates(log)),
            cache: AttachmentCache(cniDir: config.cniDir), files: NetworkFiles(confDir: config.confDir),
            pluginDirectories: directories, passthroughEnvironment: passthrough, diagnostics: diagnostics,
            pod: pod, kube: KubeAccess(provider: kubeAPIProvider, config: config, environment: environment,
                                           budget: Self.apiBudget(for: invocation.command), log: log), devices: devices, log: log,
            ownExecutable: ownExecutable)
    }

    /// How long one invocation may spend on the API server, retries included. DEL's API calls
    /// never decide whether an attachment goes (the cache does, and a DEL that could not resolve
    /// every network leaves no tombstone, so the runtime's next DEL tries again): a DEL waiting out
    /// an API server that does not answer would only hold up the pod's termination, so it gets a
    /// short budget. Everything else keeps the long one, within the runtimes' own CNI timeouts.
    static func apiBudget(for command: CNICommand) -> Duration {
        command == .del ? .seconds(10) : .seconds(45)
    }

    /// VERSION, which needs nothing but stdin: `main` answers it before reading the environment,
    /// as a runtime asks it of every plugin it finds.
    public static func version(stdin: [UInt8]) -> PluginOutcome {
        PluginOutcome(stdout: versionReply(stdin), exitCode: 0, diagnostics: [])
    }

    /// VERSION's reply: every version we speak, labelled with the caller's version when it gave
    /// one. Written as text, since all but the label is fixed: building and serialising a JSON
    /// tree was a fifth of the call.
    static func versionReply(_ stdin: [UInt8]) -> String {
        let asked = askedVersion(stdin)
        let version = asked.flatMap { $0.isSupported ? $0 : nil } ?? .latest
        return #"{"cniVersion":""# + version.description + #"","supportedVersions":"# + supportedVersionsJSON + "}"
    }

    /// The `cniVersion` VERSION's stdin asks for. libcni sends exactly `{"cniVersion":"X.Y.Z"}`
    /// (and some runtimes nothing): those are read as bytes, since a JSON parse's first use of its
    /// generic types was half of this call; anything else is parsed as JSON.
    static func askedVersion(_ stdin: [UInt8]) -> SpecVersion? {
        let head = Array(#"{"cniVersion":""#.utf8), tail = Array(#""}"#.utf8)
        var end = stdin.endIndex
        while end > stdin.startIndex, [0x20, 0x09, 0x0A, 0x0D].contains(stdin[end - 1]) { end -= 1 }
        let text = stdin[..<end]
        if text.isEmpty { return nil }
        if text.count > head.count + tail.count, text.starts(with: head), text.suffix(tail.count).elementsEqual(tail) {
            let version = text[(text.startIndex + head.count)..<(end - tail.count)]
            if version.count <= 16, version.allSatisfy({ $0 == UInt8(ascii: ".") || ($0 >= 0x30 && $0 <= 0x39) }) {
                return SpecVersion(String(decoding: version, as: UTF8.self))
            }
        }
        return (try? JSONValue.parse(stdin))?.objectValue?["cniVersion"]?.stringValue.flatMap(SpecVersion.init)
    }

    /// `SpecVersion.all` as a JSON array (the VERSION tests compare the two).
    static var supportedVersionsJSON: String { #"["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]"# }
}
