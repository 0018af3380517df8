// Times what hostile-sized input costs the plugin (Tests/benchmark/inputs.sh runs it): redacting
// a 1 MB log line and parsing a 1 MB NetworkAttachmentDefinition, in several shapes each.
// `inputs-bench [ROUNDS [FILTER]]` prints the median and the slowest round of each, in
// milliseconds. FILTER (for a profiler) runs the shapes whose name, or whose half's name
// ("redaction", "parsing"), contains it.
// Target: every figure well under 50 ms (issue 19), on every shape, however the bytes are arranged.
import CNI
import Glibc
import KubeClient
import Logging

let rounds = CommandLine.arguments.count > 1 ? max(1, Int(CommandLine.arguments[1]) ?? 20) : 20
let megabyte = 1 << 20

/// `unit` repeated until the text is `megabyte` bytes long.
func repeated(_ unit: String) -> String {
    String(decoding: Array(String(repeating: unit, count: megabyte / unit.utf8.count + 1).utf8.prefix(megabyte)), as: UTF8.self)
}

/// A CNI config of `megabyte` bytes made of `entry(i)` members after a few real keys.
func bigConfig(_ entry: (Int) -> String) -> String {
    var text = #"{"cniVersion":"1.0.0","name":"big","type":"bridge""#
    var i = 0
    while text.utf8.count < megabyte {
        text += "," + entry(i)
        i += 1
    }
    return text + "}"
}

/// The NAD as the API server sends it: the config as one JSON string inside the object.
func nadObject(config: String) -> [UInt8] {
    let nad: JSONValue = ["apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                          "metadata": ["name": "big", "namespace": "default", "uid": "0a0b"], "spec": ["config": .string(config)]]
    return nad.serializedBytes()
}

/// `rounds` runs of `body`, fastest first.
func durations(_ body: () throws -> Void) rethrows -> [Duration] {
    let clock = ContinuousClock()
    return try (0..<rounds).map { _ in try clock.measure(body) }.sorted()
}

func report(_ name: String, bytes: Int, _ samples: [Duration]) {
    /// Milliseconds with one decimal, without Foundation.
    func ms(_ duration: Duration) -> String {
        let tenths = duration.components.seconds * 10_000 + duration.components.attoseconds / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) ms"
    }
    print("\(name) (\(bytes / 1024) KiB): median \(ms(samples[samples.count / 2])), slowest \(ms(samples[samples.count - 1])) (\(samples.count) rounds)")
}

let manyKeys = bigConfig { "\"key\(String($0, radix: 36))\":\"value-\($0)\"" }
let manyPlugins = #"{"cniVersion":"1.0.0","name":"big","plugins":["# + String(repeating: #"{"type":"tuning","sysctl":{"net.core.somaxconn":"500"}},"#, count: megabyte / 60) + #"{"type":"bridge"}]}"#
let oneString = bigConfig { _ in "\"note\":\"" + String(repeating: "x", count: megabyte) + "\"" }
let secrets = bigConfig { $0 % 50 == 0 ? "\"password\":\"pw\\\"\($0)\"" : "\"k\($0)\":\"v\($0)\"" }

let filter = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : ""

func selected(_ half: String, _ shapes: [(String, String)]) -> [(String, String)] {
    filter.isEmpty || half.contains(filter) ? shapes : shapes.filter { $0.0.contains(filter) }
}

func redactionFigures() {
    let lines = selected("redaction", [
        ("a config with a password every 50 keys", secrets),
        ("the same config quoted in an error message", String(decoding: nadObject(config: secrets), as: UTF8.self)),
        ("'-----BEGIN ' lines, a private key at the end", repeated("-----BEGIN \n") + "-----BEGIN PRIVATE KEY-----"),
        ("YAML 'token: x' lines", repeated("token: abc def\n")),
        ("'Bearer ' repeated", repeated("Bearer ")),
        ("URLs with user info", repeated("https://user:pass@host/ ")),
        ("prose without a secret", repeated("ADD of pod default/web-0 on eth0 done in 4 ms; ")),
    ])
    if !lines.isEmpty { print("Redacting one 1 MB log line (Logging/Redaction.swift):") }
    for (name, line) in lines {
        report(name, bytes: line.utf8.count, durations { _ = Redaction.redact(line) })
    }
}

func parsingFigures() {
    let nads = selected("parsing", [("50,000 keys in one object", manyKeys), ("17,000 plugins", manyPlugins), ("one 1 MB string", oneString)])
    if !nads.isEmpty { print("Parsing one 1 MB NetworkAttachmentDefinition (API object, then its config):") }
    for (name, config) in nads {
        let body = nadObject(config: config)
        var parsed: NetworkConfigList?
        let samples = durations {
            let nad = try! NetworkAttachmentDefinition(json: JSONValue.parse(body))
            parsed = try? NetworkConfigList(json: JSONValue.parse(nad.config))
        }
        guard parsed != nil else {
            print("\(name): the config did not parse")
            exit(1)
        }
        report(name, bytes: body.count, samples)
    }
}

redactionFigures()
parsingFigures()
