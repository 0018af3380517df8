import CNI
import Testing
import TestSupport

/// A cached result that cannot be read, in our cache or in libcni's result file Multus left: DEL
/// goes on without that prevResult and says so, as libcni's DelNetworkList does (since v1.2.0;
/// DelNetwork at HEAD), and every other network's DEL still gets its own. The firewall step shows
/// it: its DEL removes the rules of the addresses its prevResult names, and only those.
@Suite("Damaged cached results: DEL goes on without that prevResult", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct DamagedResultTests {
    @Test("our cache: one network's result damaged; the other two DELs get theirs and remove their firewall rules; nothing else is left")
    func oursDamaged() throws {
        let box = try Sandbox()
        let names = ["fw-a", "fw-b", "fw-c"]
        let delegates: [JSONValue] = names.enumerated().map { third, name in
            ["cniVersion": "1.0.0", "name": .string(name), "plugins": [["type": "ptp", "ipam": box.hostLocal(third)], ["type": "firewall", "backend": "iptables"]]]
        }
        let config = box.multusConfig(delegates: delegates)
        let add = box.multus("ADD", config)
        try #require(add.exitCode == 0, "\(add.stdout)")
        let addresses = names.indices.map { box.address($0, 2) }
        #expect(addresses.map { firewallRules($0).count } == [2, 2, 2])
        defer { removeFirewallRules(addresses[1]) }

        let file = box.cniDir + "/attachments/\(box.containerID).json"
        var entry = try #require(try JSONValue.parse(readFile(file)).objectValue)
        var attachments = try #require(entry["attachments"]?.arrayValue)
        var damaged = try #require(attachments[1].objectValue)
        damaged["result"] = ["cniVersion": "1.0.0", "ips": [["address": "10.0.0.2/99"]]]
        attachments[1] = .object(damaged)
        entry["attachments"] = .array(attachments)
        try writeFile(file, JSONValue.object(entry).serializedBytes())

        let del = box.multus("DEL", config)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(box.podInterfaces() == ["lo": []])
        #expect(names.map { box.leases($0) } == [[], [], []])
        #expect(addresses.map { firewallRules($0).count } == [0, 2, 0], "fw-b's DEL had no prevResult to find its rules by; the others had theirs")
        #expect(del.diagnostics.contains { $0.contains("network \"fw-b\" (interface net1") && $0.contains("without a prevResult") }, "\(del.diagnostics)")
        #expect(!fileExists(file))
    }

    @Test("Multus's libcni result file damaged: DEL goes on without it and names it; CHECK refuses it")
    func multusDamaged() throws {
        let k = try KubeSandbox()
        let pod = try MultusFixture(k, release: .v4_0_2, shape: .conflist)
        defer { pod.removeFirewallRules() }
        let damaged = try #require(pod.resultFiles.first { $0.contains("/ptp-chain-") })
        let bytes = try readFile(damaged)
        try writeFile(damaged, Array(bytes.prefix(bytes.count / 2)))

        let check = try #require(pod.multus("CHECK").error)
        #expect(check.code == .decodingFailure, "\(check)")
        #expect(check.msg.contains(damaged) && check.msg.contains("network \"default/ptp-chain\" (interface net2"), "\(check.msg)")

        let del = pod.multus("DEL")
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(try k.takeRequests() == [])
        #expect(k.box.podInterfaces() == ["lo": []])
        #expect(MultusFixture.networks.map { k.box.leases($0.name) } == [[], [], []])
        #expect(pod.firewallRules().count == 2, "without its prevResult the firewall step cannot know the address")
        #expect(del.diagnostics.contains { $0.contains("without a prevResult") && $0.contains(damaged) }, "\(del.diagnostics)")
        #expect(pod.resultFiles.filter(fileExists) == [] && !fileExists(pod.cacheFile))
    }
}
