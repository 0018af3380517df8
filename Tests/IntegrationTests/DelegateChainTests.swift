import CNI
import Glibc
import Testing
import TestSupport

/// The meta-plugin against the real reference plugins in real network namespaces.
@Suite("Delegate chains with real plugins", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct DelegateChainTests {
    @Test("bridge main + macvlan and ptp secondaries: ADD, CHECK, DEL")
    func threeNetworks() throws {
        let box = try Sandbox()
        let parent = box.makeParentBridge()
        let config = box.multusConfig(delegates: [
            box.bridgeNetwork("podnet", third: 1), box.macvlanNetwork("macnet", third: 2, master: parent), box.ptpNetwork("p2pnet", third: 3),
        ], extra: ["resultMode": "merged"])

        let add = box.multus("ADD", config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        let result = try #require(add.result)
        #expect(result.cniVersion == .v1_0_0)
        let interfaces = box.podInterfaces()
        #expect(interfaces["eth0"] == ["\(box.address(1, 2))/24"])
        #expect(interfaces["net1"] == ["\(box.address(2, 2))/24"])
        #expect(interfaces["net2"] == ["\(box.address(3, 2))/24"])
        #expect(box.leases("podnet") == [box.address(1, 2)])
        #expect(box.leases("macnet") == [box.address(2, 2)])
        #expect(box.leases("p2pnet") == [box.address(3, 2)])

        // Merged: main's address first, each IP pointing at its own sandbox interface.
        #expect(result.ips.map(\.address.text) == ["\(box.address(1, 2))/24", "\(box.address(2, 2))/24", "\(box.address(3, 2))/24"])
        let named = result.ips.map { ip in ip.interface.map { result.interfaces[$0] } }
        #expect(named.map { $0?.name } == ["eth0", "net1", "net2"])
        #expect(named.allSatisfy { $0?.sandbox == box.netnsPath })
        #expect(result.routes.contains { $0.dst.text == "0.0.0.0/0" })

        let check = box.multus("CHECK", config)
        #expect(check.exitCode == 0, "\(check.stdout)")

        let del = box.multus("DEL", config)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(Set(box.podInterfaces().keys) == ["lo"])
        for network in ["podnet", "macnet", "p2pnet"] { #expect(box.leases(network) == [], "leases left for \(network)") }
    }

    @Test("a conflist delegate: bridge -> tuning -> portmap threads prevResult, DEL undoes all")
    func conflist() throws {
        let box = try Sandbox()
        let mac = "c2:00:00:00:\(String(format2: box.number / 16)):\(String(format2: box.number % 16 + 16))"
        var bridge = try #require(box.bridgeNetwork("chain", third: 1).objectValue)
        bridge["cniVersion"] = nil
        bridge["name"] = nil
        bridge["ipam"] = ["type": "host-local", "dataDir": .string(box.ipamDir),
                          "ranges": [[["subnet": .string(box.subnet(1))]], [["subnet": .string("fd00:\(box.number)::/64")]]]]
        let list: JSONValue = [
            // Debian's portmap (v1.1.1) fails its own CHECK: it looks for the IPv4 rules in the
            // IPv6 table. disableCheck is the spec's answer; CHECK must then skip this network.
            "cniVersion": "1.0.0", "name": "chain", "disableCheck": true,
            "plugins": [.object(bridge), ["type": "tuning", "mac": .string(mac)],
                        ["type": "portmap", "capabilities": ["portMappings": true], "snat": true]],
        ]
        let hostPort = 20000 + box.number
        let config = box.multusConfig(delegates: [list], extra: [
            "runtimeConfig": ["portMappings": [["hostPort": JSONValue(hostPort), "containerPort": 80, "protocol": "tcp"]]],
        ])

        let add = box.multus("ADD", config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        // tuning only knows which interface to change from prevResult, and reports the new MAC.
        let result = try #require(add.result)
        #expect(result.interfaces.first { $0.name == "eth0" }?.mac == mac)
        #expect(result.ips.map(\.address.text) == ["\(box.address(1, 2))/24", "fd00:\(box.number)::2/64"])
        #expect(sh("ip -n \(box.netnsName) link show eth0").output.contains(mac))
        #expect(sh("iptables-save -t nat").output.contains(box.containerID), "portmap rules for the container")
        #expect(box.leases("chain") == [box.address(1, 2), "fd00:\(box.number)::2"].sorted())

        let check = box.multus("CHECK", config)
        #expect(check.exitCode == 0, "\(check.stdout)")
        let del = box.multus("DEL", config)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(!sh("iptables-save -t nat").output.contains(box.containerID), "portmap rules removed")
        #expect(Set(box.podInterfaces().keys) == ["lo"])
        #expect(box.leases("chain") == [])
    }

    @Test("a failing secondary rolls back everything; the runtime's DEL then succeeds")
    func failingSecondaryRollsBack() throws {
        let box = try Sandbox()
        let config = box.multusConfig(delegates: [
            box.bridgeNetwork("podnet", third: 1), box.ptpNetwork("p2pnet", third: 2),
            box.macvlanNetwork("broken", third: 3, master: box.hostName("nope")),
        ])

        let add = box.multus("ADD", config)
        #expect(add.exitCode != 0)
        let error = try #require(add.error, "stdout: \(add.stdout)")
        #expect(error.details.contains("\"broken\""))
        #expect(error.details.contains("net2"))
        #expect(error.details.contains("pod default/pod-\(box.id)"))
        #expect(Set(box.podInterfaces().keys) == ["lo"], "no interface left behind")
        // What the rollback had to undo: an address in each of the first two networks (host-local's
        // last_reserved_ip outlives the lease). The broken macvlan fails before its IPAM runs.
        #expect(box.lastReserved("podnet") == box.address(1, 2))
        #expect(box.lastReserved("p2pnet") == box.address(2, 2))
        #expect(box.leases("podnet") == [], "lease left for podnet")
        #expect(box.leases("p2pnet") == [], "lease left for p2pnet")
        #expect(box.leases("broken") == nil, "host-local ran for the broken network")

        let del = box.multus("DEL", config)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(box.leases("podnet") == [] && box.leases("p2pnet") == [])
    }

    @Test("delegates at 0.2.0 and 1.0.0 under a multus config of another version, merged", arguments: ["0.4.0", "1.1.0"])
    func mixedVersions(multusVersion: String) throws {
        let box = try Sandbox()
        let config = box.multusConfig(version: multusVersion, delegates: [
            box.bridgeNetwork("podnet", third: 1, version: "1.0.0"), box.ptpNetwork("oldnet", third: 2, version: "0.2.0"),
        ], extra: ["resultMode": "merged"])

        let add = box.multus("ADD", config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        let json = try #require(add.json?.objectValue)
        #expect(json["cniVersion"] == .string(multusVersion))
        let result = try #require(add.result)
        #expect(result.ips.map(\.address.text) == ["\(box.address(1, 2))/24", "\(box.address(2, 2))/24"])
        try #require(result.ips.count == 2)
        // A 0.2.0 result names no interface: its IP is pointed at net1, added from the netns.
        #expect(result.ips[0].interface.map { result.interfaces[$0].name } == "eth0")
        #expect(result.ips[1].interface.map { result.interfaces[$0].name } == "net1")
        if multusVersion == "0.4.0" {
            #expect(json["ips"]?.arrayValue?.allSatisfy { $0.objectValue?["version"] == "4" } == true)
        }
        #expect(box.podInterfaces()["net1"] == ["\(box.address(2, 2))/24"])
        #expect(box.leases("podnet") == [box.address(1, 2)])
        #expect(box.leases("oldnet") == [box.address(2, 2)])

        #expect(box.multus("CHECK", config).exitCode == 0)
        #expect(box.multus("DEL", config).exitCode == 0)
        #expect(Set(box.podInterfaces().keys) == ["lo"])
        #expect(box.leases("podnet") == [])
        #expect(box.leases("oldnet") == [])
    }

    @Test("DEL twice, and DEL after the netns is gone, both succeed and release leases")
    func repeatedAndLateDel() throws {
        let box = try Sandbox()
        let config = box.multusConfig(delegates: [box.bridgeNetwork("podnet", third: 1), box.ptpNetwork("p2pnet", third: 2)])

        #expect(box.multus("ADD", config).exitCode == 0)
        #expect(box.podInterfaces().keys.sorted() == ["eth0", "lo", "net1"])
        #expect(box.leases("podnet") == [box.address(1, 2)])
        #expect(box.leases("p2pnet") == [box.address(2, 2)])
        for round in 1...2 {
            #expect(box.multus("DEL", config).exitCode == 0, "DEL \(round)")
            #expect(box.podInterfaces().keys.sorted() == ["lo"], "after DEL \(round)")
            #expect(box.leases("podnet") == [], "after DEL \(round)")
            #expect(box.leases("p2pnet") == [], "after DEL \(round)")
        }

        let again = try Sandbox()
        let config2 = again.multusConfig(delegates: [again.bridgeNetwork("podnet", third: 1), again.ptpNetwork("p2pnet", third: 2)])
        #expect(again.multus("ADD", config2).exitCode == 0)
        #expect(again.leases("podnet") == [again.address(1, 2)])
        #expect(again.leases("p2pnet") == [again.address(2, 2)])
        sh("ip netns del \(again.netnsName)")
        let del = again.multus("DEL", config2)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(again.leases("podnet") == [])
        #expect(again.leases("p2pnet") == [])
        #expect(again.multus("DEL", config2).exitCode == 0)
    }
}

extension String {
    /// Two hex digits.
    init(format2 value: Int) {
        let hex = String(value & 0xff, radix: 16)
        self = hex.count == 1 ? "0" + hex : hex
    }
}
