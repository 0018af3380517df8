import CNI
import CNIExec
import HTTPS
import KubeClient
import MetaPlugin
import PodResources
import System

/// What the doctor reaches the world through, so tests can table-drive every check: the plugin
/// executor, the API (a fresh client per check, each call within `deadline`), the clock, the
/// kubelet's socket. File system reads go through System directly (tests use directories).
public struct DoctorSeams: Sendable {
    public var executor: any PluginExecutor
    public var connect: @Sendable (Kubeconfig) -> any ClusterDiagnostics & DRADiagnostics
    /// Unix seconds.
    public var now: @Sendable () -> Int64
    public var podResourcesSocket: String
    public var podResources: @Sendable () throws -> Void
    /// The most any one network call (or plugin VERSION) may take.
    public var deadline: Duration
    /// The runtime's CNI_PATH, searched after binDir.
    public var cniPath: [String]

    public init(executor: any PluginExecutor, connect: @escaping @Sendable (Kubeconfig) -> any ClusterDiagnostics & DRADiagnostics,
                now: @escaping @Sendable () -> Int64 = { WallClockTime.now().seconds },
                podResourcesSocket: String = PodResourcesClient.defaultSocket, podResources: (@Sendable () throws -> Void)? = nil,
                deadline: Duration = Doctor.deadline, cniPath: [String] = []) {
        self.executor = executor
        self.connect = connect
        self.now = now
        self.podResourcesSocket = podResourcesSocket
        self.podResources = podResources ?? { _ = try PodResourcesClient(socket: podResourcesSocket, deadline: deadline).list() }
        self.deadline = deadline
        self.cniPath = cniPath
    }

    /// The real node: posix_spawn, the API server through the kubeconfig with one attempt and
    /// the doctor's deadline per call (no retries: a diagnosis must not wait out a backoff).
    public static func live(environment: [String: String]) -> DoctorSeams {
        DoctorSeams(executor: PosixSpawnExecutor(),
                    connect: { LiveKubeAPI(kubeconfig: $0, callTimeout: Doctor.deadline, budget: Doctor.deadline, attempts: 1) },
                    cniPath: (environment["CNI_PATH"] ?? "").split(separator: ":").map(String.init))
    }
}

/// `multus doctor`: the node's multi-network setup checked read-only, one line per check.
public struct Doctor: Sendable {
    /// At most this long per check: a broken node is diagnosed in seconds, not minutes.
    public static let deadline = Duration.seconds(1)

    public let options: DoctorOptions
    public let seams: DoctorSeams

    public init(options: DoctorOptions, seams: DoctorSeams) {
        self.options = options
        self.seams = seams
    }

    public func run() -> [Check] {
        var (checks, found) = ConfigChecks.run(confDir: options.confDir)
        guard var found else { return checks }
        let config = found.config
        let (clusterChecks, findings) = KubernetesChecks(config: config, seams: seams, namespace: options.namespace).run(&found)
        checks += clusterChecks
        if !findings.reachable {
            for (key, reference) in found.unresolved {
                checks.append(.error("config.\(key)", "\(Echo.quoted(reference)) is no config in \(config.confDir), and the API was not reachable to look for a NAD",
                                     fix: "fix the Kubernetes checks above, or correct \(key)"))
            }
        }
        let uses = found.plugins + findings.nads.flatMap(PluginChecks.uses(of:))
        var directories: [String] = []
        for directory in [options.binDir ?? config.binDir] + seams.cniPath where !directory.isEmpty && !directories.contains(directory) {
            directories.append(directory)
        }
        checks += PluginChecks(directories: directories, seams: seams).run(uses)
        checks += NodeChecks(config: config, cniDir: options.cniDir ?? config.cniDir, seams: seams).run(nads: findings.nads)
        return checks
    }

    /// 0 when nothing is an error, 1 otherwise.
    public static func exitCode(_ checks: [Check]) -> Int32 { checks.contains { $0.verdict == .error } ? 1 : 0 }

    /// The whole subcommand: flags in; what to print and the exit status out (main prints).
    public static func main(arguments: [String], environment: [String: String]) -> (stdout: String, stderr: String, exitCode: Int32) {
        let options: DoctorOptions
        do { options = try DoctorOptions.parse(arguments) } catch .helpRequested {
            return (DoctorOptions.usage + "\n", "", 0)
        } catch {
            return ("", "multus doctor: \(error)\n\n\(DoctorOptions.usage)\n", 2)
        }
        let checks = Doctor(options: options, seams: .live(environment: environment)).run()
        let text = options.output == .json ? Report.json(checks) : Report.table(checks)
        return (text + "\n", "", exitCode(checks))
    }
}
