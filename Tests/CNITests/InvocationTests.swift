import CNI
import Testing
import TestSupport

@Suite("Invocation")
struct InvocationTests {
    /// Every variable set and valid; cases remove or override from here.
    static let full: [String: String] = [
        "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc123", "CNI_NETNS": "/var/run/netns/test",
        "CNI_IFNAME": "eth0", "CNI_ARGS": "K8S_POD_NAME=web-0;IgnoreUnknown=1", "CNI_PATH": "/opt/cni/bin:/usr/libexec/cni",
    ]

    static let accepted: [(env: [String: String], expected: Invocation)] = [
        (full, Invocation(
            command: .add, containerID: .make("abc123"), netns: "/var/run/netns/test", ifName: .make("eth0"),
            args: CNIArgs([("K8S_POD_NAME", "web-0"), ("IgnoreUnknown", "1")]), path: ["/opt/cni/bin", "/usr/libexec/cni"])),
        (["CNI_COMMAND": "DEL", "CNI_CONTAINERID": "abc123", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"],
         Invocation(command: .del, containerID: .make("abc123"), ifName: .make("eth0"), path: ["/opt/cni/bin"])),
        (["CNI_COMMAND": "CHECK", "CNI_CONTAINERID": "c", "CNI_NETNS": "/proc/1/ns/net", "CNI_IFNAME": "net1", "CNI_PATH": "/a::/b:"],
         Invocation(command: .check, containerID: .make("c"), netns: "/proc/1/ns/net", ifName: .make("net1"), path: ["/a", "/b"])),
        (["CNI_COMMAND": "VERSION"], Invocation(command: .version)),
        (["CNI_COMMAND": "STATUS", "CNI_PATH": "/opt/cni/bin"], Invocation(command: .status, path: ["/opt/cni/bin"])),
        (["CNI_COMMAND": "GC", "CNI_PATH": "/opt/cni/bin"], Invocation(command: .gc, path: ["/opt/cni/bin"])),
    ]

    @Test(arguments: accepted)
    func reads(env: [String: String], expected: Invocation) throws {
        #expect(try Invocation(environment: env) == expected)
    }

    static let refused: [(env: [String: String], failure: SpecFailure)] = [
        ([:], .missingEnvironment(command: "a CNI plugin", names: ["CNI_COMMAND"])),
        (["CNI_COMMAND": "", "CNI_PATH": "/bin"], .missingEnvironment(command: "a CNI plugin", names: ["CNI_COMMAND"])),
        (["CNI_COMMAND": "add"], .invalidEnvironment("CNI_COMMAND")),
        (["CNI_COMMAND": "RESTART"], .invalidEnvironment("CNI_COMMAND")),
        (["CNI_COMMAND": "ADD"], .missingEnvironment(command: "ADD", names: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"])),
        (["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "", "CNI_NETNS": "", "CNI_IFNAME": "", "CNI_PATH": ""],
         .missingEnvironment(command: "ADD", names: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"])),
        (["CNI_COMMAND": "CHECK", "CNI_IFNAME": "eth0"], .missingEnvironment(command: "CHECK", names: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_PATH"])),
        (["CNI_COMMAND": "DEL"], .missingEnvironment(command: "DEL", names: ["CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"])),
        (["CNI_COMMAND": "STATUS"], .missingEnvironment(command: "STATUS", names: ["CNI_PATH"])),
        (["CNI_COMMAND": "GC"], .missingEnvironment(command: "GC", names: ["CNI_PATH"])),
        (full.merging(["CNI_CONTAINERID": "-abc"]) { $1 }, .invalidEnvironment("CNI_CONTAINERID")),
        (full.merging(["CNI_CONTAINERID": "abc/../x"]) { $1 }, .invalidEnvironment("CNI_CONTAINERID")),
        (full.merging(["CNI_IFNAME": "eth0/1"]) { $1 }, .invalidEnvironment("CNI_IFNAME")),
        (full.merging(["CNI_IFNAME": "averyveryverylongname"]) { $1 }, .invalidEnvironment("CNI_IFNAME")),
        (full.merging(["CNI_IFNAME": ".."]) { $1 }, .invalidEnvironment("CNI_IFNAME")),
        (full.merging(["CNI_ARGS": "K8S_POD_NAME"]) { $1 }, .invalidEnvironment("CNI_ARGS")),
    ]

    @Test(arguments: refused)
    func refuses(env: [String: String], failure: SpecFailure) {
        #expect(specFailure { try Invocation(environment: env) } == failure)
    }

    @Test func addListsEveryMissingVariableAtOnce() {
        #expect(throws: SpecError.missingEnvironment(command: "ADD", names: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"])) {
            try Invocation(environment: ["CNI_COMMAND": "ADD"])
        }
    }

    @Test func pathOptionalLetsBinDirStandIn() throws {
        var env = Self.full
        env["CNI_PATH"] = nil
        #expect(try Invocation(environment: env, pathOptional: true).path == [])
        #expect(try Invocation(environment: ["CNI_COMMAND": "STATUS"], pathOptional: true) == Invocation(command: .status))
        env["CNI_NETNS"] = nil
        #expect(specFailure { try Invocation(environment: env, pathOptional: true) }
            == .missingEnvironment(command: "ADD", names: ["CNI_NETNS"]))
    }

    @Test func requirementsTableNamesEveryVariableOnce() {
        let names = Invocation.requirements.map(\.name)
        #expect(names == ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"])
        #expect(Invocation.requirements.allSatisfy { !$0.requiredFor.contains(.version) })
    }
}
