// Feeds arbitrary bytes to every entry point that takes input from outside: the multus config on
// stdin, a delegate's output, the networks annotation (parsed, and resolved for a pod, also as the
// default-network override under namespaceIsolation), CNI_ARGS, the API server's Pod and NAD (a
// NAD's config resolved through the meta-plugin guard, nested plugins and all), DRA's
// ResourceClaims and ResourceSlices (decoded, and read by an ADD), a claim's status.devices and
// managedFields and a status apply's answer (an ADD and DEL with draDeviceStatus), kubeconfig YAML,
// `multus install`'s command line and the primary CNI config it wraps, the kubelet's pod-resources
// answers, Multus's cache (its delegate list, and libcni's result files beside it), the API server's
// HTTP responses (framing, chunked and oversized bodies), and log lines (a secret planted in any
// surroundings must not survive redaction). Nothing may crash; errors are fine. Built with libFuzzer by Tests/scripts/fuzz.sh (-D FUZZING); otherwise
// a replay tool: `multus-fuzz FILE...` runs saved inputs (crash reproductions) through the same code.
import CNI
import CNIExec
import Doctor
import Glibc
import HTTPS
import Installer
import KubeClient
import Logging
import MetaPlugin
import PodResources
import System
import YAML

/// A delegate that answers every call with the same bytes.
struct CannedExecutor: PluginExecutor {
    let output: [UInt8]
    func find(_ type: String, in directories: [String]) throws(ExecError) -> String {
        try ExecError.validatePluginType(type)
        return "/fuzz/" + type
    }
    func run(_ path: String, stdin: [UInt8], environment: [String], timeout: Duration) throws(ExecError) -> ExecOutput {
        ExecOutput(termination: .exited(output.first.map { $0 & 1 == 0 ? 0 : 1 } ?? 0), stdout: output)
    }
}

let cacheDirectory = "/dev/shm/swift-multus-fuzz-\(getpid())"
let environment = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "fuzz", "CNI_NETNS": "/proc/self/ns/net", "CNI_IFNAME": "eth0", "CNI_PATH": "/fuzz"]
/// A result from delegates that exit 0: `CannedExecutor` exits with the first byte's low bit, so
/// the leading space (even) makes every delegate succeed and ADD attach everything, so that what
/// follows it (merge, cache, status writes, DEL, CHECK) runs too. Without it `{` (odd) failed
/// every delegate and nothing after the first ADD was ever reached.
let validResult = Array(#" {"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.0.0.2/24","interface":0}]}"#.utf8)
let fixedConfig = Array(#"{"cniVersion":"1.1.0","name":"m","type":"multus","cniDir":"CACHE","delegates":[{"cniVersion":"0.4.0","name":"a","type":"x"},{"cniVersion":"1.0.0","name":"b","plugins":[{"type":"y"},{"type":"z"}]},{"cniVersion":"1.0.0","name":"c","type":"w"}],"attachConcurrency":2}"#.replacing("CACHE", with: cacheDirectory).utf8)

let draConfig = Array(#"{"cniVersion":"1.1.0","name":"m","type":"multus","cniDir":"CACHE","kubeconfig":"/nonexistent","draDeviceStatus":true,"delegates":[{"cniVersion":"1.0.0","name":"a","type":"x"}]}"#.replacing("CACHE", with: cacheDirectory).utf8)
/// Secrets in the forms redaction must catch, planted into fuzzed log lines (entry 10).
let plantedSecrets = [#"{"password":"S3CR3T-FUZZ"}"#, "Authorization: Bearer S3CR3T-FUZZ", "token=S3CR3T-FUZZ;",
                      "https://u:S3CR3T-FUZZ@host/", #"{"credentials":{"k":"S3CR3T-FUZZ"}}"#,
                      "-----BEGIN PRIVATE KEY-----\nS3CR3T-FUZZ\n-----END PRIVATE KEY-----"]
let fixedPrimary = Array(#"{"cniVersion":"0.4.0","name":"p","plugins":[{"type":"bridge","capabilities":{"ips":true}}]}"#.utf8)
let allInstallFlags = (try? InstallOptions.parse(["--namespace-isolation", "--global-namespaces=a,b", "--multus-log-to-stderr=false", "--multus-log-level=debug",
                                                  "--multus-log-file=/l", "--additional-bin-dir=/b", "--readiness-indicator-file=/r", "--override-network-name"],
                                                 executable: "/multus"))

/// A delegate list as Multus writes it, for network "a" (the main network, on eth0).
let fixedMultusRecord = Array(#"[{"Name":"a","Bytes":"eyJjbmlWZXJzaW9uIjoiMS4wLjAiLCJuYW1lIjoiYSIsInR5cGUiOiJ4In0="}]"#.utf8)

func write(_ bytes: [UInt8], to path: String) -> Bool {
    guard let file = fopen(path, "wb") else { return false }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
    return true
}

/// CHECK and DEL of container "fuzz", from what its cache directory holds.
func checkAndDelete() {
    for command in ["CHECK", "DEL"] {
        var env = environment
        env["CNI_COMMAND"] = command
        _ = plugin(answering: validResult).run(environment: env, stdin: fixedConfig)
    }
}

/// The API server as the fuzzer plays it: every pod read answers `pod`, every NAD read `nad`,
/// every write succeeds. Never a real cluster.
struct CannedKubeAPI: KubeAPI {
    let pod: Pod
    let nad: NetworkAttachmentDefinition
    func pod(namespace: Namespace, name: PodName, consistency: ReadConsistency) throws(KubeError) -> Pod { pod }
    func networkAttachmentDefinition(namespace: Namespace, name: NetworkName, consistency: ReadConsistency) throws(KubeError) -> NetworkAttachmentDefinition { nad }
    func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod { pod }
    func createEvent(_ event: KubeEvent) throws(KubeError) {}
    func resourceClaim(namespace: Namespace, name: String) throws(KubeError) -> ResourceClaim {
        throw .notServed(server: "fuzz", call: "GET resourceclaim", message: "not served")
    }
    func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice] {
        throw .notServed(server: "fuzz", call: "LIST resourceslices", message: "not served")
    }
    func applyResourceClaimStatus(_ body: JSONValue, namespace: Namespace, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim {
        throw .notServed(server: "fuzz", call: "APPLY resourceclaim status", message: "not served")
    }
}

let kubeConfig = Array(#"{"cniVersion":"1.0.0","name":"m","cniDir":"CACHE","clusterNetwork":"cluster","namespaceIsolation":true,"globalNamespaces":"kube-system"}"#
    .replacing("CACHE", with: cacheDirectory).utf8)
var kubeEnvironment: [String: String] {
    environment.merging(["CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=uid-0"]) { $1 }
}

/// ADD for pod default/web-0 with `annotations`, every NAD read answering `nadConfig` as its
/// spec.config (or `nad` as it is): the resolver, the guard and the plan on untrusted text.
/// `runtimeAnnotations`: the pod's annotations as the runtime passes them in runtimeConfig
/// (`io.kubernetes.cri.pod-annotations`), compared with the pod read from the watch cache.
func addForPod(annotations: [String: String], nadConfig: String = #"{"cniVersion":"1.0.0","type":"bridge"}"#,
               nad: NetworkAttachmentDefinition? = nil, runtimeAnnotations: JSONValue? = nil) {
    let meta: JSONObject = ["name": "web-0", "namespace": "default", "uid": "uid-0",
                            "annotations": .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))]
    guard let pod = try? Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": .object(meta)]),
        let answer = nad ?? (try? NetworkAttachmentDefinition(json: ["metadata": ["name": "fuzz", "namespace": "default"], "spec": ["config": .string(nadConfig)]]))
    else { return }
    let api = CannedKubeAPI(pod: pod, nad: answer)
    let plugin = MultusPlugin(executor: CannedExecutor(output: validResult), kubeAPIProvider: { _, _, _ in api },
                              devices: DevicePaths(checkpoint: "/nonexistent", infoDirectory: cacheDirectory + "/devinfo",
                                                   podResourcesSocket: "/nonexistent/kubelet.sock"))
    var config = kubeConfig
    if let runtimeAnnotations, var object = (try? JSONValue.parse(kubeConfig))?.objectValue {
        object["runtimeConfig"] = ["io.kubernetes.cri.pod-annotations": runtimeAnnotations]
        config = JSONValue.object(object).serializedBytes()
    }
    _ = plugin.run(environment: kubeEnvironment, stdin: config)
}

/// An API server whose ResourceClaim and ResourceSlices are the fuzzed input (one JSON document
/// read as both: a claim's `status`, a slice list's `items`), for a pod whose claim `c` and
/// extended-resource claim `e` back its NADs' devices. Nothing leaves the process.
struct DRAFuzzAPI: KubeAPI {
    let input: JSONValue
    static let pool = "sriovnetwork.k8snetworkplumbingwg.io/vf-pool-a"

    func pod(namespace: Namespace, name: PodName, consistency: ReadConsistency) throws(KubeError) -> Pod {
        do {
            return try Pod(json: ["apiVersion": "v1", "kind": "Pod",
                                  "metadata": ["name": .string(name.text), "namespace": .string(namespace.text), "uid": "u",
                                               "annotations": ["k8s.v1.cni.cncf.io/networks": "vf,vf"]],
                                  "spec": ["nodeName": "node-1", "containers": [["name": "app"]],
                                           "resourceClaims": [["name": "net", "resourceClaimTemplateName": "t"]]],
                                  "status": ["resourceClaimStatuses": [["name": "net", "resourceClaimName": "c"]],
                                             "extendedResourceClaimStatus": ["resourceClaimName": "e", "requestMappings": [
                                                 ["containerName": "app", "resourceName": .string(Self.pool), "requestName": "vfs"]]]]])
        } catch { throw .malformedResponse(server: "fuzz", call: "GET pod", reason: "\(error)") }
    }

    func networkAttachmentDefinition(namespace: Namespace, name: NetworkName, consistency: ReadConsistency) throws(KubeError) -> NetworkAttachmentDefinition {
        NetworkAttachmentDefinition(metadata: ObjectMeta(name: name.text, namespace: namespace.text, annotations: [NetworkAttachmentDefinition.resourceNameAnnotation: Self.pool]),
                                    config: #"{"cniVersion":"1.0.0","type":"x"}"#)
    }

    func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod { pod }
    func createEvent(_ event: KubeEvent) throws(KubeError) {}

    func resourceClaim(namespace: Namespace, name: String) throws(KubeError) -> ResourceClaim {
        do { return try ResourceClaim(json: input) } catch { throw .malformedResponse(server: "fuzz", call: "GET claim", reason: "\(error)") }
    }

    func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice] {
        do { return try ResourceSlice.list(json: input) } catch { throw .malformedResponse(server: "fuzz", call: "LIST slices", reason: "\(error)") }
    }

    /// The apply's answer is the input too, read as the claim stored.
    func applyResourceClaimStatus(_ body: JSONValue, namespace: Namespace, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim {
        try resourceClaim(namespace: namespace, name: name)
    }
}

/// No Kubernetes: a mutated `kubeconfig` must never make the fuzzer talk to a real cluster.
func plugin(answering output: [UInt8]) -> MultusPlugin {
    MultusPlugin(executor: CannedExecutor(output: output), kubeAPIProvider: { _, _, _ in nil },
                 devices: DevicePaths(checkpoint: "/nonexistent", infoDirectory: cacheDirectory + "/devinfo",
                                      podResourcesSocket: "/nonexistent/kubelet.sock"))
}

/// A config that parses is kept away from the machine: its cache is ours (GC deletes what it finds
/// there), and it waits for no readiness file. Anything else goes in as it is.
func confined(_ input: [UInt8]) -> [UInt8] {
    guard case .object(var object)? = try? JSONValue.parse(input) else { return input }
    object["cniDir"] = .string(cacheDirectory)
    object["readinessindicatorfile"] = nil
    object["readinessindicatortimeout"] = nil
    // The log options stay as fuzzed; the file is ours (O_APPEND to any path would write there).
    if object["logFile"] != nil { object["logFile"] = .string(cacheDirectory + "/log/multus.log") }
    return JSONValue.object(object).serializedBytes()
}

/// One input; the first byte picks the entry point.
func exercise(_ data: [UInt8]) {
    guard let selector = data.first else { return }
    let input = Array(data.dropFirst())
    switch selector % 12 {
    case 0:
        // The multus config on stdin, delegates answering with a valid result.
        var env = environment
        env["CNI_COMMAND"] = ["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"][Int(selector / 5) % 6]
        _ = plugin(answering: validResult).run(environment: env, stdin: confined(input))
    case 1:
        // A delegate's output, for a fixed config (two secondaries attached side by side).
        _ = plugin(answering: input).run(environment: environment, stdin: fixedConfig)
    case 2:
        // The annotation with whatever bytes it holds (NULs, CR/LF, invalid UTF-8), parsed, then
        // resolved for a pod: as the networks annotation, or (selectors 14, 38, ...: tens odd) the default-network override.
        let text = String(decoding: input, as: UTF8.self)
        if let namespace = try? Namespace("default") { _ = try? NetworkSelection.parse(text, podNamespace: namespace) }
        let key = selector / 10 % 2 == 0 ? NetworkSelection.annotation : "v1.multus-cni.io/default-network"
        // From selector 20 on, every other one: the runtime passes the same text as the pod's
        // annotation (or, read as JSON, whatever object it holds), the cached pod has none.
        if selector / 20 % 2 == 1 {
            addForPod(annotations: [:], runtimeAnnotations: (try? JSONValue.parse(input)) ?? [key: .string(text)])
        } else {
            addForPod(annotations: [key: text])
        }
    case 3:
        _ = try? CNIArgs(parsing: String(decoding: input, as: UTF8.self))
        _ = Redaction.redact(String(decoding: input, as: UTF8.self))
        // An address or prefix writes back the text it was read from, and reads back as itself.
        let text = String(decoding: input, as: UTF8.self)
        if let address = IPAddress(text) { precondition(address.text == text && IPAddress(address.text) == address) }
        if let prefix = IPPrefix(text) { precondition(prefix.text == text && IPPrefix(prefix.text) == prefix && prefix.address.family == prefix.family) }
        // A bearer token as the doctor and STATUS read it: a JWT's claims, never trusted further.
        if let claims = TokenClaims(jwt: text) { _ = claims.isExpired(at: Int64(selector)) }
        if let json = try? JSONValue.parse(input) {
            _ = try? CNIResult(json: json, fallbackVersion: .v0_2_0).converted(to: .v0_2_0)
            _ = try? NetworkConfigList(json: json)
            _ = try? LogSettings(JSONFields(json, path: ""))
        }
    case 4:
        // What the API server answers: a pod (kept whole and sent back with our annotation), a NAD.
        if let json = try? JSONValue.parse(input) {
            if let pod = try? Pod(json: json) {
                _ = pod.isStatic
                _ = pod.settingAnnotation("k8s.v1.cni.cncf.io/network-status", to: "[]").object.serializedBytes()
                _ = KubeEvent(about: pod.metadata, kind: .normal, reason: "AddedInterface", message: "Add net1 []", component: "multus",
                              time: WallClockTime(seconds: Int64(selector))).json.serializedBytes()
            }
            if let nad = try? NetworkAttachmentDefinition(json: json) { addForPod(annotations: [NetworkSelection.annotation: "fuzz"], nad: nad) }
            // DRA's objects, and an ADD whose NADs take their devices from them.
            if let claim = try? ResourceClaim(json: json) {
                // Its status.devices and managedFields, as a device status write reads them.
                let keys = claim.deviceStatuses.map(\.key)
                _ = claim.appliedDeviceFields(manager: "swift-multus")
                _ = claim.statusApply(manager: "swift-multus", setting: [], removing: Set(keys.prefix(1))).serializedBytes()
            }
            _ = try? ResourceSlice(json: json)
            _ = try? ResourceSlice.list(json: json)
            // What multus doctor asks: /version, a SelfSubjectAccessReview, discovery, lists.
            _ = try? ServerVersion(json: json)
            _ = try? AccessAnswer(review: json)
            _ = try? DiscoveryList.resourceNames(json: json)
            _ = try? NetworkAttachmentDefinition.list(json: json)
            _ = try? EventSummary.list(json: json)
            _ = try? ObjectMeta.list(json: json)
            _ = try? Pod(json: json).claims()
            let api = DRAFuzzAPI(input: json)
            let plugin = MultusPlugin(executor: CannedExecutor(output: validResult), kubeAPIProvider: { _, _, _ in api },
                                      devices: DevicePaths(checkpoint: "/nonexistent", infoDirectory: cacheDirectory + "/devinfo",
                                                           podResourcesSocket: "/nonexistent/kubelet.sock"))
            for command in ["ADD", "DEL"] {
                var env = environment
                env["CNI_COMMAND"] = command
                env["CNI_ARGS"] = "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web"
                _ = plugin.run(environment: env, stdin: draConfig)
            }
        }
        // The bytes as a NAD's spec.config: nested plugins, meta-plugin types at any depth.
        addForPod(annotations: [NetworkSelection.annotation: "fuzz"], nadConfig: String(decoding: input, as: UTF8.self))
    case 5:
        _ = try? YAMLNode.parse(input)
    case 6:
        // install's flags, one argument per line; a command line that parses drives the generated config.
        let arguments = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if let options = try? InstallOptions.parse(arguments, executable: "/multus"), let primary = try? PrimaryConfig(path: "/fuzz", bytes: Array(fixedPrimary)) {
            _ = try? GeneratedConfig(primary: primary, options: options).bytes
        }
    case 7:
        // A primary CNI config as install finds it, wrapped with every optional key set.
        if let primary = try? PrimaryConfig(path: "/fuzz", bytes: input), let options = allInstallFlags {
            _ = try? GeneratedConfig(primary: primary, options: options).bytes
        }
    case 8:
        // What the kubelet's pod-resources API answers (Get and List).
        _ = try? decodeGetResponse(input)
        _ = try? decodeListResponse(input)
    case 10:
        // A log line: whatever surrounds it, a planted secret never comes through.
        let text = String(decoding: input, as: UTF8.self)
        for secret in plantedSecrets {
            let redacted = Redaction.redact(text + "\n" + secret + "\n" + text)
            if redacted.contains("S3CR3T-FUZZ") { fatalError("secret survived redaction: \(redacted.debugDescription)") }
            // multus doctor's report: pasted into tickets, so redacted; a table of at most 100 columns.
            let check = Check(text, .error, text + " " + secret, fix: secret + " " + text)
            for report in [Report.table([check]), Report.json([check])] where report.contains("S3CR3T-FUZZ") {
                fatalError("secret survived the doctor's report: \(report.debugDescription)")
            }
            for line in Report.table([check]).split(separator: "\n", omittingEmptySubsequences: false) where line.count > Report.width {
                fatalError("doctor table line of \(line.count) columns: \(line.debugDescription)")
            }
        }
    case 11:
        // What the API server answers, arriving in pieces of 1 to 256 bytes; a 2xx body is read as a pod.
        guard let pieces = input.first else { return }
        if let response = try? HTTPResponse.parse(Array(input.dropFirst()), method: selector & 0x80 == 0 ? "GET" : "HEAD",
                                                  pieceSize: Int(pieces) + 1), let json = try? JSONValue.parse(response.body) {
            _ = try? Pod(json: json)
        }
    default:
        // What Multus left for a container before an in-place upgrade: DEL and CHECK read it.
        let record = cacheDirectory + "/fuzz"
        guard mkdir(cacheDirectory, 0o700) == 0 || errno == EEXIST, write(input, to: record) else { return }
        checkAndDelete()
        unlink(record)
        // libcni's result file beside a record Multus wrote: the prevResult DEL and CHECK read.
        let results = cacheDirectory + "/results"
        guard write(fixedMultusRecord, to: record), mkdir(results, 0o700) == 0 || errno == EEXIST, write(input, to: results + "/a-fuzz-eth0") else { return }
        checkAndDelete()
        unlink(record)
        unlink(results + "/a-fuzz-eth0")
    }
}

#if FUZZING
/// libFuzzer's entry for programs that keep their own `main` (SwiftPM gives every executable one).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The callback libFuzzer's runtime expects by name.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    exercise(start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
    return 0
}
#endif

@main
enum FuzzMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOne))
        #else
        // Replay: run saved inputs (crash reproductions) through the same code.
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { continue }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n == 0 { break }
                bytes += chunk[0..<n]
            }
            fclose(file)
            exercise(bytes)
            print("ok \(path)")
        }
        #endif
    }
}
