import CNI
@testable import MetaPlugin
import Testing
import TestSupport

/// The result ADD prints, against what containerd, CRI-O and podman do with one (docs/operations.md,
/// "Results"): by default the main network's alone; merged, every runtime's rules hold.
@Suite("Result modes")
struct ResultMergeTests {
    static let netns = "/var/run/netns/pod"
    static let sandbox = ResultMerge.Sandbox(netns: netns, macs: ["net1": "0a:00:00:00:00:01", "net2": "0a:00:00:00:00:02", "eth0": "0a:00:00:00:00:00"])

    /// bridge-like: a host bridge, a host veth, the pod's eth0; one IP without an index.
    static let main = CNIResult(
        cniVersion: .v1_0_0,
        interfaces: [.init(name: "cni0", mac: "aa:00:00:00:00:01"), .init(name: "veth1", mac: "aa:00:00:00:00:02"),
                     .init(name: "eth0", mac: "aa:00:00:00:00:03", sandbox: netns)],
        ips: [.init(address: "10.1.0.5/24", gateway: "10.1.0.1", interface: 2),
              .init(address: "fd00::5/64")],
        routes: [.init(dst: "0.0.0.0/0", gw: "10.1.0.1")],
        dns: CNIResult.DNS(nameservers: ["10.1.0.53"]))

    static func attached(_ result: CNIResult, _ ifName: String) -> ResultMerge.Attached {
        ResultMerge.Attached(role: ifName == "eth0" ? .main : .secondary, ifName: .make(ifName), result: result)
    }

    /// Every rule of the merged mode, checked on a result whose first `mainCount` interfaces are main's.
    static func expectRuntimeSafe(_ result: CNIResult, main: CNIResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Array(result.interfaces.prefix(main.interfaces.count)) == main.interfaces, sourceLocation: sourceLocation)
        #expect(Array(result.ips.prefix(main.ips.count)) == main.ips, sourceLocation: sourceLocation)
        let secondaryInterfaces = result.interfaces.dropFirst(main.interfaces.count)
        for interface in secondaryInterfaces {
            #expect(interface.sandbox == netns, "\(interface)", sourceLocation: sourceLocation)
            #expect(interface.mac.map(ResultMerge.isValidMAC) == true, "\(interface)", sourceLocation: sourceLocation)
        }
        for ip in result.ips.dropFirst(main.ips.count) {
            let index = ip.interface ?? -1
            #expect(secondaryInterfaces.indices.contains(index), "\(ip) points at no secondary interface", sourceLocation: sourceLocation)
        }
    }

    @Test("by default: the main network's result exactly, converted to the config's version", arguments: [SpecVersion.v0_3_1, .v0_4_0, .v1_0_0, .v1_1_0])
    func mainModeIsTheMainResult(_ version: SpecVersion) throws {
        let secondary = CNIResult(cniVersion: .v0_3_1, interfaces: [.init(name: "net1", mac: "0a:00:00:00:00:01", sandbox: Self.netns)],
                                  ips: [.init(address: "10.2.0.5/24", interface: 0)])
        let (result, notes) = try ResultMerge.result([Self.attached(secondary, "net1"), Self.attached(Self.main, "eth0")], version: version, mode: .main) {
            Issue.record("main mode must not enter the netns")
            return Self.sandbox
        }
        #expect(result == (try Self.main.converted(to: version)))
        #expect(result.cniVersion == version)
        #expect(notes == [])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var secondaries: [(String, CNIResult)]
        var interfaces: [CNIResult.Interface]
        var ips: [CNIResult.IPConfig]
        var notes: [String] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a secondary with its host side: only the pod side, the IP re-pointed",
             secondaries: [("net1", CNIResult(cniVersion: .v1_0_0,
                 interfaces: [.init(name: "br1", mac: "bb:00:00:00:00:01"), .init(name: "net1", mac: "bb:00:00:00:00:02", sandbox: netns)],
                 ips: [.init(address: "10.2.0.5/24", interface: 1)]))],
             interfaces: [.init(name: "net1", mac: "bb:00:00:00:00:02", sandbox: netns)],
             ips: [.init(address: "10.2.0.5/24", interface: 3)]),
        Case(name: "a secondary IP without an index (containerd would count it as eth0's) points at its interface",
             secondaries: [("net1", CNIResult(cniVersion: .v1_0_0, interfaces: [.init(name: "net1", mac: "bb:00:00:00:00:02", sandbox: netns)],
                                              ips: [.init(address: "10.2.0.5/24")]))],
             interfaces: [.init(name: "net1", mac: "bb:00:00:00:00:02", sandbox: netns)],
             ips: [.init(address: "10.2.0.5/24", interface: 3)]),
        Case(name: "a result with no interfaces (0.2.0): the interface is added from the netns",
             secondaries: [("net2", CNIResult(cniVersion: .v0_2_0, ips: [.init(address: "10.3.0.5/24", gateway: "10.3.0.1")]))],
             interfaces: [.init(name: "net2", mac: "0a:00:00:00:00:02", sandbox: netns)],
             ips: [.init(address: "10.3.0.5/24", gateway: "10.3.0.1", interface: 3)]),
        Case(name: "a pod interface reported without a MAC, or an invalid one, gets the netns's",
             secondaries: [("net1", CNIResult(cniVersion: .v1_0_0, interfaces: [.init(name: "net1", sandbox: netns)],
                                              ips: [.init(address: "10.2.0.5/24", interface: 0)])),
                           ("net2", CNIResult(cniVersion: .v1_0_0, interfaces: [.init(name: "net2", mac: "zz", sandbox: netns)],
                                              ips: [.init(address: "10.3.0.5/24", interface: 0)]))],
             interfaces: [.init(name: "net1", mac: "0a:00:00:00:00:01", sandbox: netns), .init(name: "net2", mac: "0a:00:00:00:00:02", sandbox: netns)],
             ips: [.init(address: "10.2.0.5/24", interface: 3), .init(address: "10.3.0.5/24", interface: 4)]),
        Case(name: "an interface with no MAC anywhere (a tun) is left out with its IPs, and said so",
             secondaries: [("tun9", CNIResult(cniVersion: .v1_0_0, interfaces: [.init(name: "tun9", sandbox: netns)],
                                              ips: [.init(address: "10.9.0.5/24", interface: 0), .init(address: "10.9.1.5/24")]))],
             interfaces: [], ips: [],
             notes: ["merged result: interface tun9 of tun9's network has no MAC; it and its IPs are left out",
                     "merged result: IPs of tun9 left out: the interface has no MAC in the pod"]),
    ]

    @Test("merged: main first and unchanged, secondaries in the sandbox with a MAC, each IP on its own interface", arguments: cases)
    func mergedFollowsEveryRuntimesRules(_ c: Case) throws {
        let attached = [Self.attached(Self.main, "eth0")] + c.secondaries.map { Self.attached($0.1, $0.0) }
        let (result, notes) = try ResultMerge.result(attached, version: .v1_1_0, mode: .merged) { Self.sandbox }
        #expect(result.interfaces == Self.main.interfaces + c.interfaces)
        #expect(result.ips == Self.main.ips + c.ips)
        #expect(result.dns == Self.main.dns)
        #expect(notes == c.notes)
        Self.expectRuntimeSafe(result, main: Self.main)
    }

    @Test("merged, in an older version: still every rule, version as configured", arguments: [SpecVersion.v0_3_1, .v0_4_0])
    func mergedInOlderVersions(_ version: SpecVersion) throws {
        let secondary = CNIResult(cniVersion: .v0_2_0, ips: [.init(address: "10.3.0.5/24")])
        let (result, _) = try ResultMerge.result([Self.attached(Self.main, "eth0"), Self.attached(secondary, "net2")], version: version, mode: .merged) { Self.sandbox }
        #expect(result.cniVersion == version)
        #expect(result.interfaces.map(\.name) == ["cni0", "veth1", "eth0", "net2"])
        #expect(result.ips.map(\.interface) == [2, nil, 3])
        Self.expectRuntimeSafe(result, main: try Self.main.converted(to: version))
    }

    @Test("MACs as Go's net.ParseMAC takes them in colon form", arguments: [
        ("0a:00:00:00:00:01", true), ("0A:1b:2C:3d:4E:5f", true), ("00:00:00:00:fe:80:00:00", true),
        ("a0:00:02:20:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01", true),
        ("", false), ("0a:00:00:00:00", false), ("0a:00:00:00:00:0g", false), ("0a:0:00:00:00:01", false), ("0a-00-00-00-00-01", false),
    ])
    func validMACs(_ mac: String, _ valid: Bool) {
        #expect(ResultMerge.isValidMAC(mac) == valid)
    }
}
