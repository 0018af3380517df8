import CNI
import CNIExec
import Glibc
import MetaPlugin
import Synchronization
import Testing
import TestSupport

extension Tag {
    /// Needs root: creates network namespaces, links and iptables rules on this machine.
    @Tag static var privileged: Self
}

/// Only root can make namespaces; CI runs as root, so these never silently skip there.
let isRoot = getuid() == 0

/// Directory of the real reference plugins (Debian's containernetworking-plugins).
let pluginDirectory = "/usr/lib/cni"

/// Runs a shell command on the host; returns exit status and combined output.
@discardableResult
func sh(_ command: String) -> (status: Int32, output: String) {
    let executor = PosixSpawnExecutor()
    do {
        let out = try executor.run("/bin/sh", stdin: Array("exec 2>&1\n\(command)\n".utf8),
                                   environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], timeout: .seconds(60))
        let status: Int32 = switch out.termination { case .exited(let c): c; case .signaled(let s): 128 + s }
        return (status, String(decoding: out.stdout, as: UTF8.self))
    } catch {
        return (-1, "\(error)")
    }
}

/// One test's private world: a network namespace, a temp dir for caches and leases, and a
/// unique number so parallel tests never share names, subnets or ports.
final class Sandbox: @unchecked Sendable {
    let id: String
    /// 1...250, for subnets 10.<n>.x.0/24 and ports.
    let number: Int
    let netnsName: String
    let netnsPath: String
    let root: String
    var bridges: [String] = []

    /// Numbers handed out in this test process: parallel tests never share one.
    private static let numbers = Atomic<Int>(Int.random(in: 0..<250))

    init() throws {
        number = 1 + Self.numbers.add(1, ordering: .relaxed).newValue % 250
        id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        netnsName = "smt-\(id)"
        netnsPath = "/var/run/netns/\(netnsName)"
        root = try TemporaryDirectory(prefix: "swift-multus-it").path
        sh("ip netns add \(netnsName)")
    }

    deinit {
        sh("ip netns del \(netnsName) 2>/dev/null")
        removeTree(root)
        for bridge in bridges { sh("ip link del \(bridge) 2>/dev/null") }
    }

    var cniDir: String { root + "/cache" }

    /// A plugin directory with the reference plugins and the test plugins of testdata/plugins
    /// side by side (made on first use).
    var pluginDirectoryWithTestPlugins: String {
        let directory = root + "/bin"
        if !fileExists(directory) {
            sh("mkdir -p '\(directory)' && ln -s \(pluginDirectory)/* '\(directory)/' && ln -s '\(testdata("plugins"))'/recorder '\(testdata("plugins"))'/double-bridge '\(directory)/'")
        }
        return directory
    }
    var ipamDir: String { root + "/ipam" }
    var containerID: String { "ctr-\(id)" }

    /// A short unique interface name on the host (15 bytes max).
    func hostName(_ prefix: String) -> String { "\(prefix)\(id)".count <= 15 ? "\(prefix)\(id)" : String("\(prefix)\(id)".prefix(15)) }

    /// An empty bridge on the host, as a macvlan parent (this kernel has no dummy links).
    func makeParentBridge() -> String {
        let name = hostName("mp")
        sh("ip link add \(name) type bridge && ip link set \(name) up")
        bridges.append(name)
        return name
    }

    func subnet(_ third: Int) -> String { "10.\(number).\(third).0/24" }
    func address(_ third: Int, _ host: Int) -> String { "10.\(number).\(third).\(host)" }

    /// Runs the meta-plugin in-process, exactly as `main` would for these inputs.
    /// - Parameter ownExecutable: what counts as the running multus binary (the test process is not it).
    func multus(_ command: String, _ config: JSONValue, netns: String? = nil, ifName: String = "eth0", args: String? = nil,
                devices: DevicePaths = .live, environment extra: [String: String] = [:], ownExecutable: String = "/proc/self/exe") -> Outcome {
        var environment = [
            "CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": netns ?? netnsPath,
            "CNI_IFNAME": ifName, "CNI_PATH": pluginDirectory, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "CNI_ARGS": "IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-\(id)",
        ]
        if let args { environment["CNI_ARGS"] = args }
        for (key, value) in extra { environment[key] = value }
        let outcome = MultusPlugin(executor: PosixSpawnExecutor(), devices: devices, ownExecutable: ownExecutable)
            .run(environment: environment, stdin: config.serializedBytes())
        return Outcome(exitCode: outcome.exitCode, stdout: outcome.stdout, diagnostics: outcome.diagnostics)
    }

    /// Interface name -> addresses inside the namespace ("lo" included).
    func podInterfaces() -> [String: [String]] {
        var found: [String: [String]] = [:]
        for line in sh("ip -n \(netnsName) -br addr").output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let first = fields.first else { continue }
            let name = String(first.split(separator: "@").first ?? "")
            found[name] = fields.dropFirst(2).filter { !$0.hasPrefix("fe80:") }
        }
        return found
    }

    /// host-local lease files (named by IP, sorted) held in `network`; nil when host-local never
    /// ran for it (no directory), so a wrong network name cannot pass for "no leases".
    func leases(_ network: String) -> [String]? {
        let directory = "\(ipamDir)/\(network)"
        guard fileExists(directory) else { return nil }
        return directoryEntries(directory).filter { $0 != "lock" && !$0.hasPrefix("last_reserved_ip") }.sorted()
    }

    /// The address host-local last handed out in `network` (its first range), which stays
    /// after the lease is released: the evidence that an ADD undone since did allocate.
    func lastReserved(_ network: String) -> String? {
        readWholeFile("\(ipamDir)/\(network)/last_reserved_ip.0").map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: configs

    func bridgeNetwork(_ name: String, third: Int, version: String = "1.0.0") -> JSONValue {
        let bridge = hostName("br")
        bridges.append(bridge)
        // Made here with a fixed MAC: a Linux bridge otherwise takes its lowest port's MAC, which
        // changes as pods join, and the bridge plugin's CHECK then finds its recorded MAC stale.
        sh("ip link add \(bridge) type bridge && ip link set \(bridge) address 02:42:\(String(format2: number)):\(String(format2: third)):00:01 && ip link set \(bridge) up")
        return ["cniVersion": .string(version), "name": .string(name), "type": "bridge", "bridge": .string(bridge),
                "isGateway": true, "ipMasq": false, "ipam": hostLocal(third, routes: true)]
    }

    func macvlanNetwork(_ name: String, third: Int, master: String, version: String = "1.0.0") -> JSONValue {
        ["cniVersion": .string(version), "name": .string(name), "type": "macvlan", "master": .string(master), "mode": "bridge", "ipam": hostLocal(third)]
    }

    func ptpNetwork(_ name: String, third: Int, version: String = "1.0.0") -> JSONValue {
        ["cniVersion": .string(version), "name": .string(name), "type": "ptp", "ipam": hostLocal(third)]
    }

    func hostLocal(_ third: Int, routes: Bool = false) -> JSONValue {
        var ipam: JSONObject = ["type": "host-local", "dataDir": .string(ipamDir), "subnet": .string(subnet(third))]
        if routes { ipam["routes"] = [["dst": "0.0.0.0/0"]] }
        return .object(ipam)
    }

    func multusConfig(version: String = "1.0.0", delegates: [JSONValue], extra: JSONObject = JSONObject()) -> JSONValue {
        var config: JSONObject = ["cniVersion": .string(version), "name": "multus-cni-network", "type": "multus",
                                  "cniDir": .string(cniDir), "binDir": .string(pluginDirectory), "delegates": .array(delegates)]
        for (key, value) in extra { config[key] = value }
        return .object(config)
    }
}

struct Outcome {
    var exitCode: Int32
    var stdout: String
    var diagnostics: [String]

    var json: JSONValue? { try? JSONValue.parse(stdout) }
    var result: CNIResult? { json.flatMap { try? CNIResult(json: $0, fallbackVersion: .latest) } }
    var error: CNIError? { json.flatMap(CNIError.init(json:)) }
}
