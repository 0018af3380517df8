import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// What a runtime is told, against what containerd, CRI-O and podman do with it (docs/operations.md,
/// "Results"), and the runtime's own per-interface arguments, with real plugins.
@Suite("Safe with every runtime", .tags(.privileged), .enabled(if: isRoot))
struct RuntimeSafetyTests {
    /// The MAC of `ifName` in the sandbox's netns.
    func mac(_ box: Sandbox, _ ifName: String) -> String? {
        let fields = sh("ip -n \(box.netnsName) -br link show \(ifName)").output.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count > 2 ? String(fields[2]) : nil
    }

    @Test("by default: only eth0's interfaces and IPs, in the config's version, though the main delegate speaks another")
    func defaultIsTheMainResult() throws {
        let box = try Sandbox()
        let config = box.multusConfig(version: "0.4.0", delegates: [
            box.bridgeNetwork("podnet", third: 1, version: "1.0.0"), box.ptpNetwork("p2pnet", third: 2, version: "0.3.1"),
        ])
        let add = box.multus("ADD", config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        let json = try #require(add.json?.objectValue)
        #expect(json["cniVersion"] == "0.4.0")
        let result = try #require(add.result)
        #expect(result.interfaces.map(\.name).filter { $0 != "" }.count == 3, "bridge, host veth, eth0: \(result.interfaces)")
        #expect(result.interfaces.filter { $0.sandbox != nil && $0.sandbox != "" }.map(\.name) == ["eth0"])
        #expect(result.ips.map(\.address.text) == ["\(box.address(1, 2))/24"])
        #expect(box.podInterfaces()["net1"] == ["\(box.address(2, 2))/24"], "the secondary is attached all the same")
        #expect(box.multus("DEL", config).exitCode == 0)
    }

    @Test("merged: main first and unchanged, every secondary interface in the sandbox with its real MAC, every IP on its own interface")
    func mergedObeysTheRules() throws {
        let box = try Sandbox()
        let parent = box.makeParentBridge()
        let delegates = [box.bridgeNetwork("podnet", third: 1), box.macvlanNetwork("macnet", third: 2, master: parent),
                         box.ptpNetwork("oldnet", third: 3, version: "0.2.0")]
        let config = box.multusConfig(delegates: delegates, extra: ["resultMode": "merged"])
        let add = box.multus("ADD", config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        let result = try #require(add.result)
        // bridge's own result first: the bridge, the host veth, eth0, its IP pointing at eth0.
        let mainCount = 3
        #expect(result.interfaces.prefix(mainCount).map { $0.sandbox == box.netnsPath } == [false, false, true])
        #expect(result.interfaces[2].name == "eth0")
        #expect(result.ips.first?.interface == 2)
        let secondaries = Array(result.interfaces.dropFirst(mainCount))
        #expect(secondaries.map(\.name) == ["net1", "net2"])
        for interface in secondaries {
            #expect(interface.sandbox == box.netnsPath)
            #expect(interface.mac != nil && interface.mac == mac(box, interface.name), "\(interface)")
        }
        #expect(result.ips.dropFirst().map { ip in ip.interface.map { result.interfaces[$0].name } } == ["net1", "net2"])
        #expect(result.ips.map(\.address.text) == ["\(box.address(1, 2))/24", "\(box.address(2, 2))/24", "\(box.address(3, 2))/24"])
        #expect(box.multus("DEL", config).exitCode == 0)
    }

    @Test("the runtime's IP= and MAC= (podman --ip, --mac-address, network reload) reach eth0 only; net1 gets its own")
    func interfaceArgsReachOnlyEth0() throws {
        let box = try Sandbox()
        let parent = box.makeParentBridge()
        let config = box.multusConfig(delegates: [box.bridgeNetwork("podnet", third: 1), box.macvlanNetwork("macnet", third: 2, master: parent)])
        let wantedMAC = "0a:58:0a:\(String(format2: box.number)):01:4d"
        let args = "IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-\(box.id);IP=\(box.address(1, 77));MAC=\(wantedMAC)"
        let add = box.multus("ADD", config, args: args)
        #expect(add.exitCode == 0, "\(add.stdout)")
        let interfaces = box.podInterfaces()
        #expect(interfaces["eth0"] == ["\(box.address(1, 77))/24"])
        #expect(interfaces["net1"] == ["\(box.address(2, 2))/24"])
        #expect(mac(box, "eth0") == wantedMAC)
        #expect(mac(box, "net1") != wantedMAC)
        #expect(box.multus("DEL", config, args: args).exitCode == 0)
        #expect(box.leases("podnet") == [] && box.leases("macnet") == [])
    }
}
