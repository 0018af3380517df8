import CNI
import Testing
import TestSupport

/// Golden files in testdata/results/ hold the same attachment written in every spec version;
/// each lower version is what conversion from 1.1.0 must produce.
@Suite("CNIResult")
struct ResultTests {
    static func golden(_ version: SpecVersion) throws -> JSONValue {
        try fixtureJSON("results/result-\(version).json")
    }

    static func parsedGolden(_ version: SpecVersion) throws -> CNIResult {
        try CNIResult.parse(fixtureBytes("results/result-\(version).json"), fallbackVersion: .latest)
    }

    static let downward: [(from: SpecVersion, to: SpecVersion)] = SpecVersion.all.flatMap { from in
        SpecVersion.all.filter { $0 < from }.map { (from, $0) }
    }
    static let upward: [(from: SpecVersion, to: SpecVersion)] = downward.map { ($0.to, $0.from) }

    @Test(arguments: SpecVersion.all)
    func goldenReserializesToItself(_ version: SpecVersion) throws {
        let result = try Self.parsedGolden(version)
        #expect(result.cniVersion == version)
        #expect(try Self.golden(version) == result.json)
        #expect(try Self.golden(version).serialized() == result.serialized())
    }

    @Test(arguments: downward)
    func convertsDownToTheOlderGolden(from: SpecVersion, to: SpecVersion) throws {
        let converted = try Self.parsedGolden(from).converted(to: to)
        #expect(converted.cniVersion == to)
        #expect(try Self.golden(to) == converted.json)
    }

    /// Up, through the wire (serialize and parse again), and back down gives the original.
    @Test(arguments: upward)
    func convertsUpLosslessly(from: SpecVersion, to: SpecVersion) throws {
        let up = try Self.parsedGolden(from).converted(to: to)
        let reread = try CNIResult.parse(Array(up.serialized().utf8), fallbackVersion: .v0_1_0)
        #expect(reread.cniVersion == to)
        #expect(try reread.converted(to: from).json == Self.golden(from))
    }

    @Test func parsesEveryFieldOfTheLatestGolden() throws {
        let result = try Self.parsedGolden(.v1_1_0)
        #expect(result.interfaces == [
            .init(name: "veth3a1b2c4d", mac: "ce:7a:52:19:0b:31", mtu: 1500),
            .init(name: "eth0", mac: "0a:58:0a:01:00:05", sandbox: "/var/run/netns/test", mtu: 1450,
                  socketPath: "/var/run/vhost-user/eth0.sock", pciID: "0000:3b:00.1"),
        ])
        #expect(result.ips == [
            .init(address: "10.1.0.5/16", gateway: "10.1.0.1", interface: 1),
            .init(address: "fd00:1::5/64", gateway: "fd00:1::1", interface: 1),
            .init(address: "10.2.0.5/16", interface: 1),
        ])
        #expect(result.routes == [
            .init(dst: "0.0.0.0/0", gw: "10.1.0.1", mtu: 1450, advmss: 1410, priority: 100, table: 254, scope: 0),
            .init(dst: "::/0", gw: "fd00:1::1", priority: 200),
            .init(dst: "10.96.0.0/12"),
        ])
        #expect(result.dns == .init(
            nameservers: ["10.96.0.10", "fd00:96::a"], domain: "cluster.local",
            search: ["default.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5", "edns0"]))
    }

    @Test func parsesTheLegacyLayoutByFamily() throws {
        let result = try Self.parsedGolden(.v0_2_0)
        #expect(result.interfaces.isEmpty)
        #expect(result.ips == [
            .init(address: "10.1.0.5/16", gateway: "10.1.0.1"),
            .init(address: "fd00:1::5/64", gateway: "fd00:1::1"),
        ])
        #expect(result.routes.map(\.dst.text) == ["0.0.0.0/0", "10.96.0.0/12", "::/0"])
    }

    @Test(arguments: [SpecVersion.v0_1_0, .v0_2_0])
    func legacyNeedsAnAddress(_ version: SpecVersion) throws {
        let result = CNIResult(cniVersion: .v1_1_0, interfaces: [.init(name: "eth0")], routes: [.init(dst: "0.0.0.0/0")])
        #expect(specFailure { try result.converted(to: version) } == .unconvertible(from: .v1_1_0, to: version))
        #expect(try result.converted(to: .v0_3_0).serialized()
            == #"{"cniVersion":"0.3.0","interfaces":[{"name":"eth0"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#)
    }

    @Test func legacyDropsRoutesOfAnAbsentFamily() throws {
        let result = CNIResult(
            cniVersion: .v1_0_0, ips: [.init(address: "fd00::5/64")],
            routes: [.init(dst: "0.0.0.0/0"), .init(dst: "::/0", gw: "fd00::1")])
        #expect(try result.converted(to: .v0_2_0).serialized()
            == #"{"cniVersion":"0.2.0","ip6":{"ip":"fd00::5/64","routes":[{"dst":"::/0","gw":"fd00::1"}]},"dns":{}}"#)
    }

    static let withoutVersion: [(document: String, fallback: SpecVersion, read: SpecVersion, addresses: [String])] = [
        (#"{"ips":[{"address":"10.0.0.2/24"}]}"#, .v1_0_0, .v1_0_0, ["10.0.0.2/24"]),
        (#"{"ips":[{"version":"4","address":"10.0.0.2/24"}]}"#, .v0_4_0, .v0_4_0, ["10.0.0.2/24"]),
        (#"{"ip4":{"ip":"10.0.0.2/24"},"ip6":{"ip":"fd00::2/64"}}"#, .v0_2_0, .v0_2_0, ["10.0.0.2/24", "fd00::2/64"]),
        // The document's own version wins over the fallback.
        (#"{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24"}}"#, .v1_1_0, .v0_2_0, ["10.0.0.2/24"]),
    ]

    @Test(arguments: withoutVersion)
    func missingVersionUsesTheFallback(document: String, fallback: SpecVersion, read: SpecVersion, addresses: [String]) throws {
        let result = try CNIResult.parse(Array(document.utf8), fallbackVersion: fallback)
        #expect(result.cniVersion == read)
        #expect(result.ips.map(\.address.text) == addresses)
        #expect(result.json.objectValue?["cniVersion"] == .string(read.description))
    }

    /// libcni's fixupResultVersion treats an empty or null `cniVersion` like an absent one.
    @Test(arguments: [#""""#, "null"])
    func emptyVersionUsesTheFallback(_ version: String) throws {
        let document = #"{"cniVersion":"# + version + #","ips":[{"address":"10.0.0.2/24"}]}"#
        let result = try CNIResult.parse(Array(document.utf8), fallbackVersion: .v1_0_0)
        #expect(result.cniVersion == .v1_0_0)
        #expect(result.ips.count == 1)
    }

    static let invalid: [(document: String, failure: SpecFailure)] = [
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.300/24"}]}"#, .invalidField("ips[0].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2"}]}"#, .invalidField("ips[0].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/33"}]}"#, .invalidField("ips[0].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/"}]}"#, .invalidField("ips[0].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"},{"address":"fd00::1/129"}]}"#, .invalidField("ips[1].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"gateway":"10.0.0.1"}]}"#, .missingField("ips[0].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"address":7}]}"#, .invalidField("ips[0].address")),
        (#"{"cniVersion":"1.0.0","ips":[{"interface":0,"address":"10.0.0.2/24"}]}"#, .invalidField("ips[0].interface")),
        (#"{"cniVersion":"1.0.0","interfaces":[{"name":"a"},{"name":"b"}],"ips":[{"interface":2,"address":"10.0.0.2/24"}]}"#, .invalidField("ips[0].interface")),
        (#"{"cniVersion":"1.0.0","interfaces":[{"name":"a"}],"ips":[{"interface":-1,"address":"10.0.0.2/24"}]}"#, .invalidField("ips[0].interface")),
        (#"{"cniVersion":"1.0.0","interfaces":[{"name":"a"}],"ips":[{"interface":"0","address":"10.0.0.2/24"}]}"#, .invalidField("ips[0].interface")),
        (#"{"cniVersion":"1.0.0","interfaces":[{"mac":"aa:bb:cc:dd:ee:ff"}]}"#, .missingField("interfaces[0].name")),
        (#"{"cniVersion":"1.1.0","interfaces":[{"name":"a","mtu":1.5}]}"#, .invalidField("interfaces[0].mtu")),
        (#"{"cniVersion":"1.1.0","interfaces":["eth0"]}"#, .invalidField("interfaces[0]")),
        (#"{"cniVersion":"1.0.0","routes":[{"dst":"default"}]}"#, .invalidField("routes[0].dst")),
        (#"{"cniVersion":"1.0.0","routes":[{"dst":"0.0.0.0/0"},{"gw":"10.0.0.1"}]}"#, .missingField("routes[1].dst")),
        (#"{"cniVersion":"1.1.0","routes":[{"dst":"0.0.0.0/0","table":"main"}]}"#, .invalidField("routes[0].table")),
        (#"{"cniVersion":"1.0.0","dns":{"nameservers":["10.0.0.10",53]}}"#, .invalidField("dns.nameservers[1]")),
        (#"{"cniVersion":"1.0.0","dns":"10.0.0.10"}"#, .invalidField("dns")),
        (#"{"cniVersion":"1.0.0","ips":{}}"#, .invalidField("ips")),
        (#"{"cniVersion":"0.2.0","ip4":{"ip":"fd00::2/64"}}"#, .invalidField("ip4.ip")),
        (#"{"cniVersion":"0.2.0","ip6":{"ip":"10.0.0.2/24"}}"#, .invalidField("ip6.ip")),
        (#"{"cniVersion":"0.2.0","ip4":{"gateway":"10.0.0.1"}}"#, .missingField("ip4.ip")),
        (#"{"cniVersion":"0.1.0","ip4":{"ip":"10.0.0.2/24","routes":[{"dst":"nowhere"}]}}"#, .invalidField("ip4.routes[0].dst")),
        (#"{"cniVersion":"2.0.0"}"#, .unsupportedVersion("cniVersion", value: "2.0.0")),
        (#"{"cniVersion":"1.0"}"#, .unsupportedVersion("cniVersion", value: "1.0")),
        (#"[]"#, .invalidField("(document)")),
        (#"{"cniVersion":"#, .syntax(offset: 14)),
    ]

    @Test(arguments: invalid)
    func invalidFieldsAreNamed(document: String, failure: SpecFailure) {
        #expect(specFailure { try CNIResult.parse(Array(document.utf8), fallbackVersion: .latest) } == failure)
    }

    /// A delegate's result is refused for an `address` or a `dst` that is not one, but not for a
    /// gateway: that was passed on as written, in every layout, and still is.
    @Test(arguments: [
        #"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24","gateway":"not-an-ip"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1/24"}],"dns":{}}"#,
        #"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24","gateway":""}],"routes":[{"dst":"0.0.0.0/0","gw":"fe80::1%eth0"}],"dns":{}}"#,
        #"{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24","gateway":"gw","routes":[{"dst":"0.0.0.0/0","gw":" 10.0.0.1"}]},"dns":{}}"#,
    ])
    func aGatewayThatIsNotAnAddressPassesThrough(document: String) throws {
        let result = try CNIResult.parse(Array(document.utf8), fallbackVersion: .latest)
        #expect(result.serialized() == document)
        #expect(result.ips.first?.gateway?.address == nil)
        #expect(result.routes.first?.gw?.address == nil)
    }

    /// Addresses come back as the plugin spelled them, not rewritten to a canonical form.
    @Test func addressesKeepTheirSpelling() throws {
        let document = #"{"cniVersion":"1.0.0","ips":[{"address":"FD00:0::5/064","gateway":"fd00:0:0::1"}],"routes":[{"dst":"0::/0","gw":"fd00::0:1"}],"dns":{}}"#
        let result = try CNIResult.parse(Array(document.utf8), fallbackVersion: .latest)
        #expect(result.serialized() == document)
        #expect(result.ips.first?.address.length == 64)
        #expect(result.ips.first?.gateway?.address == result.routes.first?.gw?.address)
        #expect(result.routes.first?.dst.isDefaultRoute == true)
    }

    @Test func pathPrefixesFieldNames() {
        let json: JSONValue = ["cniVersion": "1.0.0", "ips": [["address": "bogus"]]]
        #expect(specFailure { try CNIResult(json: json, fallbackVersion: .latest, path: "prevResult") } == .invalidField("prevResult.ips[0].address"))
    }
}
