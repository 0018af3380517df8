import CNI
import CNIExec
import Glibc
import Testing
import TestSupport

/// `multus doctor` as an operator runs it: the built binary, the reference plugins of
/// /usr/lib/cni, the test API server. And STATUS's code 50 from the same binary.
@Suite("multus doctor, the binary", .serialized)
struct DoctorBinaryTests {
    let server: TestAPIServer
    let directory: TemporaryDirectory

    init() throws {
        server = try TestAPIServer()
        directory = try TemporaryDirectory(prefix: "doctor-binary")
        _ = try directory.directory("net.d")
        _ = try directory.directory("cni", mode: 0o700)
    }

    /// 00-multus.conf with one bridge delegate at `version`, its kubeconfig's token file holding `token`.
    func node(token: String, delegateVersion: String = "1.0.0", multusVersion: String = "1.0.0") throws -> String {
        let tokenFile = try writeFile(directory.pathOf("token"), Array(token.utf8), mode: 0o600)
        let kubeconfig = try server.kubeconfig(in: directory.path, tokenFile: tokenFile)
        let config: JSONValue = [
            "cniVersion": .string(multusVersion), "name": "multus-cni-network", "type": "multus", "kubeconfig": .string(kubeconfig),
            "cniDir": .string(directory.pathOf("cni")), "confDir": .string(directory.pathOf("net.d")), "binDir": "/usr/lib/cni",
            "delegates": [["cniVersion": .string(delegateVersion), "name": "main", "type": "bridge", "bridge": "doctor0"]],
        ]
        return try writeFile(directory.pathOf("net.d/00-multus.conf"), config.serializedBytes())
    }

    func doctor(_ arguments: [String]) throws -> (status: ExecOutput.Termination, stdout: String) {
        let output = try PosixSpawnExecutor().run(BinaryTests.binary, arguments: ["doctor", "--conf-dir", directory.pathOf("net.d")] + arguments)
        return (output.termination, String(decoding: output.stdout, as: UTF8.self))
    }

    @Test func aHealthyNodeExitsZeroAndJSONHasTheTablesChecks() throws {
        defer { directory.remove() }
        _ = try node(token: try server.addJWT())
        let (status, json) = try doctor(["--json"])
        #expect(status == .exited(0), "\(json)")
        let checks = try #require(try JSONValue.parse(Array(json.utf8)).arrayValue)
        let names = checks.compactMap { $0.objectValue?["name"]?.stringValue }
        for name in ["config.file", "kubernetes.token", "kubernetes.server", "kubernetes.rbac", "kubernetes.nad-crd", "plugins.bridge", "node.cache"] {
            #expect(names.contains(name), "\(names)")
        }
        let (tableStatus, table) = try doctor([])
        #expect(tableStatus == .exited(0))
        let lines = table.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 100 })
        // One row per check (wrapped lines start with blanks), the header and the count.
        #expect(lines.filter { !$0.hasPrefix(" ") }.count == names.count + 2, "\(table)")
    }

    /// The reference plugins speak up to 1.0.0: a delegate at 1.1.0 is found before any pod fails.
    @Test func aRealPluginWithoutTheVersionAskedExitsOne() throws {
        defer { directory.remove() }
        _ = try node(token: try server.addJWT(), delegateVersion: "1.1.0")
        let (status, json) = try doctor(["--json"])
        #expect(status == .exited(1))
        let bridge = try #require(try JSONValue.parse(Array(json.utf8)).arrayValue?.first { $0.objectValue?["name"] == "plugins.bridge" })
        #expect(bridge.objectValue?["verdict"] == "error")
        #expect(bridge.objectValue?["detail"]?.stringValue?.hasSuffix("delegates[0] asks 1.1.0") == true)
    }

    /// STATUS from the same binary, with the token the doctor also reports: code 50 naming the file.
    @Test func statusWithAnExpiredTokenIsCode50() throws {
        defer { directory.remove() }
        let config = try node(token: try server.addJWT(expiresIn: .seconds(-600)), delegateVersion: "1.0.0", multusVersion: "1.1.0")
        let output = try PosixSpawnExecutor().run(BinaryTests.binary, stdin: try readFile(config),
                                                  environment: ["CNI_COMMAND=STATUS", "CNI_PATH=/usr/lib/cni"], timeout: .seconds(30))
        #expect(output.termination == .exited(1))
        let error = try #require(CNIError(json: try JSONValue.parse(output.stdout)))
        #expect(error.code == .notAvailable)
        #expect(error.msg.contains(directory.pathOf("token")) && error.msg.contains("expired at"), "\(error.msg)")
        let (status, json) = try doctor(["--json"])
        #expect(status == .exited(1))
        #expect(json.contains("the token expired at"))
    }
}

extension PosixSpawnExecutor {
    /// Runs `path` with `arguments` through /bin/sh (the executor passes no argv of its own).
    func run(_ path: String, arguments: [String]) throws -> ExecOutput {
        let command = ([path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try run("/bin/sh", stdin: Array("exec \(command) </dev/null\n".utf8), environment: ["PATH=/usr/bin:/bin"], timeout: .seconds(30))
    }
}
