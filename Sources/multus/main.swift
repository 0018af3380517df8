// The only file that touches the process: it reads the environment and stdin, hands them to
// `MultusPlugin`, prints, and exits. Everything printed besides a result is redacted (Logging's
// `Redaction`): MultusPlugin's diagnostics and log lines already are, install's lines here.
import CNI
import CNIExec
import Glibc
import HTTPS
import Installer
import Logging
import MetaPlugin
import YAML

let help = """
    multus \(MultusPlugin.version): a CNI meta-plugin, drop-in for the Multus thin plugin.

    A container runtime runs it as a CNI plugin: the CNI_* environment says what to do and the
    network config (00-multus.conf format) arrives on stdin. By hand, cnitool-style:

      CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/var/run/netns/t CNI_IFNAME=eth0 \\
      CNI_PATH=/opt/cni/bin multus < /etc/cni/net.d/00-multus.conf

    Environment:
      CNI_COMMAND      ADD, DEL, CHECK, VERSION, STATUS or GC
      CNI_CONTAINERID  container ID (ADD, DEL, CHECK)
      CNI_NETNS        network namespace path (ADD, CHECK; optional for DEL)
      CNI_IFNAME       the main network's interface name (ADD, DEL, CHECK)
      CNI_ARGS         K=V;K=V arguments, passed to every delegate (IP, MAC: the main one only)
      CNI_PATH         plugin directories, searched after binDir
    Delegates get the runtime's whole environment (proxies, TRACEPARENT, their own settings),
    with the CNI_* variables set for each of them, as libcni and Multus pass it on.

    Config keys: name, cniVersion, delegates, clusterNetwork, defaultNetworks, confDir, cniDir,
    binDir, runtimeConfig, readinessindicatorfile, readinessindicatortimeout, resultMode,
    delegateTimeout, logFile, logLevel, logToStderr, logOptions. See README.md.

    Options: --version, --help

    In the DaemonSet's container, `multus install [--flag=value ...]` puts the binary, its
    kubeconfig and its config on the node and keeps them current: `multus install --help`.
    """

func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}

func readStandardInput(limit: Int = 16 << 20) -> [UInt8] {
    if isatty(0) == 1 { return [] }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count <= limit {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

var environment: [String: String] = [:]
var cursor = environ
while let entry = cursor.pointee {
    let text = String(cString: entry)
    if let eq = text.firstIndex(of: "=") {
        environment[String(text[..<eq])] = String(text[text.index(after: eq)...])
    }
    cursor += 1
}

/// `multus install`: runs until SIGTERM; the exit status says whether it could install.
func install(_ arguments: [String], environment: [String: String]) -> Never {
    // Blocked before anything else runs, so SIGTERM only ever arrives through the descriptor.
    let stop: Int32
    do { stop = try Installer.terminationSignals() } catch {
        writeAll(2, "multus install: \(Redaction.redact("\(error)"))\n")
        exit(error.exitCode)
    }
    do {
        let options = try InstallOptions.parse(arguments, executable: executablePath())
        try Installer(options: options, environment: environment, log: { writeAll(1, "multus install: \(Redaction.redact($0))\n") }).run(stop: stop)
        exit(0)
    } catch .helpRequested {
        writeAll(1, InstallOptions.usage + "\n")
        exit(0)
    } catch {
        writeAll(2, "multus install: \(Redaction.redact("\(error)"))\n")
        exit(error.exitCode)
    }
}

/// This executable's path, the default `--multus-bin-file`.
func executablePath() -> String {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { raw in raw.baseAddress.map { readlink("/proc/self/exe", $0, raw.count - 1) } ?? -1 }
    return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : CommandLine.arguments.first ?? "multus"
}

switch CommandLine.arguments.dropFirst().first {
case "install":
    install(Array(CommandLine.arguments.dropFirst(2)), environment: environment)
case "--version", "-v":
    writeAll(1, "multus \(MultusPlugin.version) (swift-multus; CNI spec 0.1.0 to 1.1.0; \(LinkedOpenSSL.version); libyaml \(LinkedLibYAML.version))\n")
    exit(0)
case "--help", "-h":
    writeAll(1, help + "\n")
    exit(0)
case let other?:
    writeAll(2, "multus: unknown argument \(Echo.quoted(other))\n\n" + help + "\n")
    exit(2)
case nil:
    break
}

if (environment["CNI_COMMAND"] ?? "").isEmpty {
    // Never block on a terminal's stdin: without CNI_COMMAND this is a person, not a runtime.
    writeAll(1, #"{"cniVersion":"1.1.0","code":4,"msg":"CNI_COMMAND is not set: multus is a CNI plugin run by a container runtime","details":"run 'multus --help' for the environment and config it reads"}"# + "\n")
    exit(4)
}

let outcome = MultusPlugin(executor: PosixSpawnExecutor()).run(environment: environment, stdin: readStandardInput())
for line in outcome.diagnostics { writeAll(2, "multus: \(line)\n") }
for line in outcome.log { writeAll(2, line + "\n") }
if !outcome.stdout.isEmpty { writeAll(1, outcome.stdout + "\n") }
exit(outcome.exitCode)
