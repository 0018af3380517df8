import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// The log file under real use: many `multus` processes at once, the API server, secrets.
@Suite("Log file", .tags(.privileged), .enabled(if: isRoot))
struct LogFileIntegrationTests {
    /// Every line of the log and its backups (gunzipped), in no particular order.
    func allLines(_ directory: String) -> (lines: [String], backups: [String]) {
        let files = directoryEntries(directory).filter { $0.hasPrefix("multus") && !$0.hasSuffix(".lock") }
        var lines: [String] = []
        for file in files {
            let path = directory + "/" + file
            let text = file.hasSuffix(".gz") ? sh("gzip -dc \(path)").output : String(decoding: readWholeFile(path) ?? [], as: UTF8.self)
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        return (lines, files.filter { $0 != "multus.log" })
    }

    /// A line as the logger writes it: `YYYY-MM-DDTHH:MM:SSZ [level] ` once, at the start.
    func isWhole(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        guard bytes.count > 22, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "Z") else { return false }
        let rest = line.dropFirst(21)
        guard ["[verbose] ", "[debug] ", "[error] "].contains(where: { rest.hasPrefix($0) }) else { return false }
        return !["Z [verbose] ", "Z [debug] ", "Z [error] "].contains { line.dropFirst(20).contains($0) }
    }

    @Test("50 concurrent ADD/DEL: every line whole, none lost, across rotations; then maxBackups is honoured")
    func underLoad() throws {
        let box = try Sandbox()
        let count = 50
        let logDirectory = box.root + "/log"
        let padding = JSONValue.string(String(repeating: "p", count: 12_000))
        var main = box.bridgeNetwork("podnet", third: 1).objectValue ?? [:]
        main["padding"] = padding
        var second = box.ptpNetwork("p2pnet", third: 2).objectValue ?? [:]
        second["padding"] = padding
        let logging: JSONObject = ["logFile": .string(logDirectory + "/multus.log"), "logLevel": "debug", "logToStderr": false,
                                   "logOptions": ["maxSize": 1, "maxBackups": 0, "maxAge": 0, "compress": true]]
        try writeFile(box.root + "/multus.conf", box.multusConfig(delegates: [.object(main), .object(second)], extra: logging).serializedBytes())
        let names = (0..<count).map { "\(box.netnsName)-\($0)" }
        defer { for name in names { sh("ip netns del \(name) 2>/dev/null") } }
        for name in names { sh("ip netns add \(name)") }
        for command in ["ADD", "DEL"] {
            let script = (0..<count).map { i in
                "CNI_COMMAND=\(command) CNI_CONTAINERID=log-\(box.id)-\(i) CNI_NETNS=/var/run/netns/\(names[i]) CNI_IFNAME=eth0 CNI_PATH=\(pluginDirectory) "
                    + "CNI_ARGS='K8S_POD_NAMESPACE=default;K8S_POD_NAME=p\(i)' \(BinaryTests.binary) < \(box.root)/multus.conf > /dev/null 2>&1 &"
            }.joined(separator: "\n") + "\nwait"
            sh(script)
        }

        let (lines, backups) = allLines(logDirectory)
        #expect(backups.count >= 2, "at least two rotations: \(backups)")
        #expect(backups.allSatisfy { $0.hasSuffix(".log.gz") })
        #expect(lines.filter { !isWhole($0) }.prefix(3) == [], "broken lines")
        for command in ["ADD", "DEL"] {
            for i in 0..<count {
                let outcome = lines.filter { $0.contains("] \(command) pod default/p\(i) container log-\(box.id)-\(i): ok in ") }
                #expect(outcome.count == 1, "\(command) of pod \(i): \(outcome.count) outcome lines")
            }
            let networks = lines.filter { $0.contains("[verbose] network ") && $0.contains(") \(command): ") }
            #expect(networks.count == 2 * count, "\(command): one line per network per pod")
            let exchanges = lines.filter { $0.contains("[debug] ") && ($0.contains(" \(command) eth0 stdin: {") || $0.contains(" \(command) net1 stdin: {")) }
            #expect(exchanges.count == 2 * count)
        }
        #expect(fileMode(logDirectory + "/multus.log") == 0o600)

        // One more call with maxBackups 1: its first debug line rotates, and only one backup stays.
        var pruning = logging
        pruning["logOptions"] = ["maxSize": 1, "maxBackups": 1, "compress": true]
        var big = main
        big["padding"] = .string(String(repeating: "q", count: 1_100_000))
        let lastConfig = box.multusConfig(delegates: [.object(big)], extra: pruning)
        #expect(box.multus("ADD", lastConfig, netns: "/var/run/netns/\(names[0])").exitCode == 0)
        #expect(box.multus("DEL", lastConfig, netns: "/var/run/netns/\(names[0])").exitCode == 0)
        #expect(allLines(logDirectory).backups.count == 1)
    }

    @Test("verbose logs every API call with its status; no token, at debug either")
    func apiCallsAndNoSecrets() throws {
        let k = try KubeSandbox()
        let path = k.box.root + "/log/multus.log"
        let config = k.config(extra: ["logFile": .string(path), "logLevel": "debug"])
        #expect(k.multus("ADD", pod: "web-json", config: config).exitCode == 0)
        #expect(k.multus("DEL", pod: "web-json", config: config).exitCode == 0)
        let text = String(decoding: readWholeFile(path) ?? [], as: UTF8.self)
        #expect(text.contains("[verbose] API GET pod default/web-json (watch cache): 200 in "))
        #expect(text.contains("[verbose] API PUT pod default/web-json status: 200 in "))
        #expect(text.contains("[verbose] ADD pod default/web-json container \(k.box.containerID): ok in "))
        #expect(text.contains("[debug] "))
        #expect(!text.contains(KubeSandbox.token))
        let kubeconfigText = String(decoding: readWholeFile(k.kubeconfig) ?? [], as: UTF8.self)
        #expect(kubeconfigText.contains(KubeSandbox.token), "the fixture's kubeconfig carries the token")
    }
}
