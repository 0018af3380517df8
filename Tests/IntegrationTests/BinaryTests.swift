import CNI
import CNIExec
import Glibc
import Testing
import TestSupport

/// The built `multus` executable, found beside the test bundle: covers what only `main` does.
@Suite("The multus executable")
struct BinaryTests {
    static var binary: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]) + "/multus"
    }

    func run(_ arguments: [String] = [], environment: [String] = [], stdin: String = "") throws -> (ExecOutput, String) {
        let command = ([Self.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let output = try PosixSpawnExecutor().run("/bin/sh", stdin: Array("exec \(command) <<'EOF'\n\(stdin)\nEOF\n".utf8),
                                                  environment: environment + ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], timeout: .seconds(30))
        return (output, String(decoding: output.stdout, as: UTF8.self))
    }

    @Test func versionFlag() throws {
        let (output, text) = try run(["--version"])
        #expect(output.succeeded)
        #expect(text.hasPrefix("multus "))
    }

    @Test func helpNamesTheEnvironment() throws {
        let (output, text) = try run(["--help"])
        #expect(output.succeeded)
        for name in ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"] { #expect(text.contains(name)) }
        // What delegates inherit, as MultusPlugin.inheritedEnvironment hands it on (it once said
        // "PATH, TMPDIR passed on to delegates; nothing else is").
        #expect(text.contains("Delegates get the runtime's whole environment"), "\(text)")
        #expect(!text.contains("nothing else is"))
    }

    @Test func noCommandIsAnErrorNotAHang() throws {
        let (output, text) = try run()
        #expect(output.termination == .exited(4))
        let error = try #require(CNIError(json: try JSONValue.parse(text)))
        #expect(error.code == .invalidEnvironment)
    }

    @Test func versionCommand() throws {
        let (output, text) = try run(environment: ["CNI_COMMAND=VERSION"], stdin: #"{"cniVersion":"0.4.0"}"#)
        #expect(output.succeeded)
        let reply = try JSONValue.parse(text).objectValue
        #expect(reply?["cniVersion"] == "0.4.0")
        #expect(reply?["supportedVersions"]?.arrayValue?.count == SpecVersion.all.count)
    }

    @Test func malformedConfigIsACNIError() throws {
        let environment = ["CNI_COMMAND=ADD", "CNI_CONTAINERID=c1", "CNI_NETNS=/proc/self/ns/net", "CNI_IFNAME=eth0", "CNI_PATH=/nowhere"]
        let (output, text) = try run(environment: environment, stdin: #"{"cniVersion":"1.0.0","delegates":[{"name":"x"}]}"#)
        #expect(output.termination == .exited(1))
        let error = try #require(CNIError(json: try JSONValue.parse(text)))
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("delegates[0].type"))
    }

    @Test("ADD and DEL through the executable", .tags(.privileged), .enabled(if: isRoot))
    func addAndDel() throws {
        let box = try Sandbox()
        let config = box.multusConfig(delegates: [box.bridgeNetwork("podnet", third: 1)]).serialized()
        let base = ["CNI_CONTAINERID=\(box.containerID)", "CNI_NETNS=\(box.netnsPath)", "CNI_IFNAME=eth0", "CNI_PATH=\(pluginDirectory)"]
        let (add, text) = try run(environment: ["CNI_COMMAND=ADD"] + base, stdin: config)
        #expect(add.succeeded, "\(text)")
        #expect(try CNIResult(json: JSONValue.parse(text), fallbackVersion: .latest).ips.map(\.address.text) == ["\(box.address(1, 2))/24"])
        #expect(box.podInterfaces() == ["lo": [], "eth0": ["\(box.address(1, 2))/24"]])
        #expect(box.leases("podnet") == [box.address(1, 2)])
        let (del, delText) = try run(environment: ["CNI_COMMAND=DEL"] + base, stdin: config)
        #expect(del.succeeded, "\(delText)")
        #expect(box.podInterfaces().keys.sorted() == ["lo"])
        #expect(box.leases("podnet") == [])
    }
}
