// The only file that touches the process: it reads the environment and stdin, hands them to
// `MultusPlugin`, prints, and exits. Everything printed besides a result is redacted (Logging's
// `Redaction`): MultusPlugin's diagnostics and log lines already are, install's lines here.
import CNI
import CNIExec
import Doctor
import HTTPS
import Installer
import Logging
import MetaPlugin
import System
import YAML

/// Built when asked for: a global of main.swift is initialised on every call, --help or not.
var help: String {
    """
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

    Config keys (docs/configuration.md explains each):
      \(wrapped(MultusConfig.documentedKeys.joined(separator: ", "), indent: 2, width: 100))

    Options: --version, --help

    In the DaemonSet's container, `multus install [--flag=value ...]` puts the binary, its
    kubeconfig and its config on the node and keeps them current: `multus install --help`.
    On a node, `multus doctor` checks the whole setup read-only: `multus doctor --help`.
    """
}

/// `text` broken at spaces into lines of at most `width` columns, the lines after the first
/// indented by `indent` (the first takes its indent from where it is placed).
func wrapped(_ text: String, indent: Int, width: Int) -> String {
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty, indent + line.count + 1 + word.count > width { lines.append(line); line = "" }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines.joined(separator: "\n" + String(repeating: " ", count: indent))
}

/// Writes `text` whole to stdout or stderr.
func write(to stream: FileDescriptor, _ text: String) { CurrentProcess.write(text, to: stream) }

/// `multus install`: runs until SIGTERM; the exit status says whether it could install.
func install(_ arguments: [String], environment: [String: String]) -> Never {
    // Blocked before anything else runs, so SIGTERM only ever arrives through the descriptor.
    let stop: FileDescriptor
    do { stop = try Installer.terminationSignals() } catch {
        write(to: .standardError, "multus install: \(Redaction.redact("\(error)"))\n")
        CurrentProcess.exit(error.exitCode)
    }
    do {
        let options = try InstallOptions.parse(arguments, executable: executablePath())
        try Installer(options: options, environment: environment, log: { write(to: .standardOutput, "multus install: \(Redaction.redact($0))\n") }).run(stop: stop)
        CurrentProcess.exit(0)
    } catch .helpRequested {
        write(to: .standardOutput, InstallOptions.usage + "\n")
        CurrentProcess.exit(0)
    } catch {
        write(to: .standardError, "multus install: \(Redaction.redact("\(error)"))\n")
        CurrentProcess.exit(error.exitCode)
    }
}

/// This executable's path, the default `--multus-bin-file`.
func executablePath() -> String { CurrentProcess.executablePath ?? CommandLine.arguments.first ?? "multus" }

// A runtime passes no arguments: `CommandLine.arguments` is only built when there are some.
switch CommandLine.argc > 1 ? CommandLine.arguments[1] : nil {
case "install":
    install(Array(CommandLine.arguments.dropFirst(2)), environment: CurrentProcess.environment())
case "doctor":
    let doctor = Doctor.main(arguments: Array(CommandLine.arguments.dropFirst(2)), environment: CurrentProcess.environment())
    write(to: .standardOutput, doctor.stdout)
    write(to: .standardError, doctor.stderr)
    CurrentProcess.exit(doctor.exitCode)
case "--version", "-v":
    write(to: .standardOutput, "multus \(MultusPlugin.version) (swift-multus; CNI spec 0.1.0 to 1.1.0; \(LinkedOpenSSL.version); libyaml \(LinkedLibYAML.version))\n")
    CurrentProcess.exit(0)
case "--help", "-h":
    write(to: .standardOutput, help + "\n")
    CurrentProcess.exit(0)
case let other?:
    write(to: .standardError, "multus: unknown argument \(Echo.quoted(other))\n\n" + help + "\n")
    CurrentProcess.exit(2)
case nil:
    break
}

let command = CurrentProcess.variable("CNI_COMMAND") ?? ""
if command.isEmpty {
    // Never block on a terminal's stdin: without CNI_COMMAND this is a person, not a runtime.
    write(to: .standardOutput, #"{"cniVersion":"1.1.0","code":4,"msg":"CNI_COMMAND is not set: multus is a CNI plugin run by a container runtime","details":"run 'multus --help' for the environment and config it reads"}"# + "\n")
    CurrentProcess.exit(4)
}

let stdin = CurrentProcess.readStandardInput(limit: 16 << 20)
// VERSION needs nothing but stdin: answered before the environment is read.
let outcome = command == CNICommand.version.rawValue ? MultusPlugin.version(stdin: stdin)
    : MultusPlugin(executor: PosixSpawnExecutor()).run(environment: CurrentProcess.environment(), stdin: stdin)
for line in outcome.diagnostics { write(to: .standardError, "multus: \(line)\n") }
for line in outcome.log { write(to: .standardError, line + "\n") }
if !outcome.stdout.isEmpty { write(to: .standardOutput, outcome.stdout + "\n") }
CurrentProcess.exit(outcome.exitCode)
