import CNI
@testable import MetaPlugin
import Testing
import TestSupport

/// network-status of a main network whose result holds 0 to 3 pod interfaces, as Multus v4.1+
/// writes it: exactly one `default`, IPs on their own interface, unindexed ones on the last.
@Suite("network-status: one default per main network")
struct NetworkStatusTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var result: CNIResult
        /// interface, IPs, default, per expected entry.
        var expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        guard let bytes = readWholeFile(testdata("network-status/cases.json")), let list = (try? JSONValue.parse(bytes))?.arrayValue else { return [] }
        return list.compactMap { item in
            guard let o = item.objectValue, let name = o["name"]?.stringValue,
                  let result = try? CNIResult(json: ["cniVersion": "1.0.0", "interfaces": o["interfaces"] ?? [], "ips": o["ips"] ?? []], fallbackVersion: .latest)
            else { return nil }
            let expected = (o["expect"]?.arrayValue ?? []).map { e in
                "\(e["interface"]?.stringValue ?? "-") \((e["ips"]?.arrayValue ?? []).compactMap(\.stringValue)) default=\(e["default"]?.boolValue ?? false)"
            }
            return Case(name: name, result: result, expected: expected)
        }
    }()

    @Test func theTableIsThere() {
        #expect(Self.cases.count == 8, "testdata/network-status/cases.json decodes to every case")
    }

    @Test(arguments: cases)
    func mainNetwork(_ c: Case) throws {
        let network = try NetworkConfigList(json: ["cniVersion": "1.0.0", "name": "main", "type": "bridge"])
        let main = Attachment(network: network, ifName: .make("eth0"), role: .main, source: "test", statusName: "kube-system/main")
        let entries = NetworkStatus.entries(for: main, result: c.result, isDefault: true, deviceInfo: nil)
        let got = entries.map { e in
            "\(e["interface"]?.stringValue ?? "-") \((e["ips"]?.arrayValue ?? []).compactMap(\.stringValue)) default=\(e["default"]?.boolValue ?? false)"
        }
        #expect(got == c.expected)
        #expect(entries.filter { $0["default"] == true }.count == 1, "exactly one default entry")

        let secondary = Attachment(network: network, ifName: .make("net1"), role: .secondary, source: "test")
        let notDefault = NetworkStatus.entries(for: secondary, result: c.result, isDefault: false, deviceInfo: nil)
        #expect(notDefault.count == entries.count)
        #expect(notDefault.filter { $0["default"] != nil } == [], "a secondary network marks none")
    }

    @Test func theAuxiliaryChainHasNoEntryWithoutAPodInterface() throws {
        let network = try NetworkConfigList(json: ["cniVersion": "1.0.0", "name": "aux", "plugins": [["type": "tuning"]]])
        let aux = Attachment(network: network, ifName: .make("net3"), role: .auxiliary, source: "test")
        let empty = try CNIResult(json: ["cniVersion": "1.0.0"], fallbackVersion: .latest)
        #expect(NetworkStatus.entries(for: aux, result: empty, isDefault: false, deviceInfo: nil) == [])
        let withPodInterface = try CNIResult(json: ["cniVersion": "1.0.0", "interfaces": [["name": "aux0", "sandbox": "/ns"]]], fallbackVersion: .latest)
        #expect(NetworkStatus.entries(for: aux, result: withPodInterface, isDefault: false, deviceInfo: nil).map { $0["interface"] } == ["aux0"])
    }

    /// `gateway` lists the gateway of each default route (a /0 of any spelling, see
    /// `IPPrefix.isDefaultRoute`), else its family's IPAM gateway, as written and each text once.
    static let gatewayCases: [(routes: JSONValue, ips: JSONValue, gateways: [String])] = [
        ([["dst": "0.0.0.0/0", "gw": "10.0.0.1"]], [], ["10.0.0.1"]),
        ([["dst": "::/0"]], [["address": "10.0.0.2/24", "gateway": "10.0.0.1"], ["address": "fd00::2/64", "gateway": "fd00::1"]], ["fd00::1"]),
        ([["dst": "0::/0", "gw": "fd00::1"]], [], ["fd00::1"]),
        ([["dst": "10.0.0.0/8", "gw": "10.0.0.1"], ["dst": "0.0.0.0/1", "gw": "10.0.0.9"]], [], []),
        ([["dst": "0.0.0.0/0", "gw": "not-an-ip"]], [], ["not-an-ip"]),
        ([["dst": "::/0", "gw": "fd00::1"], ["dst": "0::/0", "gw": "fd00:0::1"], ["dst": "::/0", "gw": "fd00::1"]], [], ["fd00::1", "fd00:0::1"]),
    ]

    @Test(arguments: gatewayCases)
    func reportsTheGatewaysOfDefaultRoutes(routes: JSONValue, ips: JSONValue, gateways: [String]) throws {
        let network = try NetworkConfigList(json: ["cniVersion": "1.0.0", "name": "main", "type": "bridge"])
        let main = Attachment(network: network, ifName: .make("eth0"), role: .main, source: "test")
        let result = try CNIResult(json: ["cniVersion": "1.0.0", "ips": ips, "routes": routes], fallbackVersion: .latest)
        let entry = try #require(NetworkStatus.entries(for: main, result: result, isDefault: true, deviceInfo: nil).first)
        #expect((entry["gateway"]?.arrayValue ?? []).compactMap(\.stringValue) == gateways)
    }
}
