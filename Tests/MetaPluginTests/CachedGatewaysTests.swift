import CNI
@testable import MetaPlugin
import Testing
import TestSupport

/// The pod's `default-route` gateways, kept in the attachment cache: read back as addresses and
/// written as they were read.
@Suite("Attachment cache: default-route gateways")
struct CachedGatewaysTests {
    static func entry(gateways: JSONValue) -> JSONValue {
        let network: JSONValue = ["cniVersion": "1.0.0", "name": "net-a", "type": "macvlan"]
        return ["format": "swift-multus/attachments/v1", "state": "added", "containerID": "c1", "netns": "/var/run/netns/p",
                "attachments": [["network": network, "ifName": "net1", "role": "secondary", "defaultGateways": gateways]]]
    }

    @Test func gatewaysRoundTripAsWritten() throws {
        let json = Self.entry(gateways: ["10.1.0.1", "fd00:0::1"])
        let entry = try CacheEntry(json: json)
        #expect(entry.attachments.first?.attachment.defaultGateways.map(\.family) == [.v4, .v6])
        #expect(entry.json["attachments"]?.arrayValue?.first?["defaultGateways"] == ["10.1.0.1", "fd00:0::1"])
    }

    /// Written from a validated selection, so only a hand-edited file has one that is not an
    /// address: the entry is unreadable (`MetaError.corruptCache` from `load`), naming the field.
    @Test func aGatewayThatIsNotAnAddressIsRefused() {
        #expect(throws: SpecError.invalidField(path: "attachments[0].defaultGateways[1]", reason: #""10.1.0.300" is not an IP address"#)) {
            try CacheEntry(json: Self.entry(gateways: ["10.1.0.1", "10.1.0.300"]))
        }
    }
}
