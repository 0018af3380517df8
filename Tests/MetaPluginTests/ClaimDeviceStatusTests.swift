import CNI
import KubeClient
@testable import MetaPlugin
import System
import Testing
import TestSupport

private let sriov = "sriovnetwork.k8snetworkplumbingwg.io"
private let vf1 = DeviceAllocation(request: "vf", driver: sriov, pool: "node-1", device: "pf0-vf1")
private let vf2 = DeviceAllocation(request: "vf", driver: sriov, pool: "node-1", device: "pf0-vf2")
private let containerID = "3f2a9c1b7e4d5a6b"

private func result(_ text: String) throws -> CNIResult {
    try CNIResult(json: try JSONValue.parse(text), fallbackVersion: .v1_0_0)
}

private func attached(_ allocation: DeviceAllocation, ifName: String, result text: String, claim: String = "default/c") throws -> CachedAttachment {
    let network = try NetworkConfigList(json: JSONValue.parse(#"{"cniVersion":"1.0.0","name":"dra-vf","type":"macvlan"}"#))
    let device = AttachedDevice(resourceName: "pool-a", deviceID: "0000:08:00.1", infoFile: "/nonexistent", dra: DRADevice(claim: claim, allocation: allocation))
    let attachment = Attachment(network: network, ifName: .make(ifName), role: .secondary, source: "nad", statusName: "default/dra-vf", device: device)
    return CachedAttachment(attachment: attachment, result: try result(text))
}

private let net1Result = #"{"cniVersion":"1.0.0","interfaces":[{"name":"net1","mac":"02:00:00:00:00:01","sandbox":"/ns"}],"ips":[{"address":"10.1.10.2/24","interface":0}]}"#

/// Claim `c` with vf1 and vf2 allocated, at generation 2, with `devices` in its status and
/// `managed` as our Apply entry's FieldsV1 devices.
private func claim(resourceVersion: String = "7", devices: [JSONValue] = [], managed: JSONObject = [:]) throws -> ResourceClaim {
    var metadata: JSONObject = ["name": "c", "namespace": "default", "resourceVersion": .string(resourceVersion), "generation": 2]
    if !managed.isEmpty {
        metadata["managedFields"] = [["manager": "swift-multus", "operation": "Apply", "subresource": "status", "fieldsType": "FieldsV1",
                                      "fieldsV1": ["f:status": ["f:devices": .object(managed)]]]]
    }
    let results: JSONValue = [["request": "vf", "driver": .string(sriov), "pool": "node-1", "device": "pf0-vf1"],
                              ["request": "vf", "driver": .string(sriov), "pool": "node-1", "device": "pf0-vf2"]]
    return try ResourceClaim(json: ["apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": .object(metadata),
                                    "status": ["allocation": ["devices": ["results": results]], "devices": .array(devices)]])
}

private func key(_ device: String) -> String { #"k:{"device":"\#(device)","driver":"\#(sriov)","pool":"node-1"}"# }

/// An entry as ADD wrote it for vf1 on net1, by `container`.
private func writtenEntry(by container: String = containerID, interface: String = "net1") -> JSONValue {
    ["driver": .string(sriov), "pool": "node-1", "device": "pf0-vf1",
     "networkData": ["interfaceName": .string(interface), "ips": ["10.1.10.2/24"], "hardwareAddress": "02:00:00:00:00:01"],
     "conditions": [["type": "Ready", "status": "True", "reason": "NetworkAttached",
                     "message": .string("\(interface) of pod default/web (container \(container.prefix(12))), network default/dra-vf"),
                     "lastTransitionTime": "2026-12-01T00:00:00Z", "observedGeneration": 1]]]
}

@Suite("draDeviceStatus: our entries in a claim's status.devices")
struct ClaimDeviceStatusTests {
    struct NetworkCase: Sendable, CustomTestStringConvertible {
        var name: String
        var ifName: String
        var result: String
        var expected: NetworkDeviceData
        var testDescription: String { name }
    }

    @Test("networkData: the pod interface of the attachment's name (else its last), the IPs that name it, its MAC, within the API's limits", arguments: [
        NetworkCase(name: "one pod interface", ifName: "net1", result: net1Result,
                    expected: NetworkDeviceData(interfaceName: "net1", ips: ["10.1.10.2/24"], hardwareAddress: "02:00:00:00:00:01")),
        NetworkCase(name: "a host veth, two pod interfaces, IPs by index and one naming none",
                    ifName: "net1", result: #"{"cniVersion":"1.0.0","interfaces":[{"name":"veth0","mac":"aa:aa:aa:aa:aa:aa"},{"name":"net1","mac":"02:00:00:00:00:01","sandbox":"/ns"},{"name":"net1b","mac":"02:00:00:00:00:02","sandbox":"/ns"}],"ips":[{"address":"10.1.10.2/24","interface":1},{"address":"fd00::2/64","interface":1},{"address":"10.1.11.2/24","interface":2},{"address":"10.1.12.2/24"}]}"#,
                    expected: NetworkDeviceData(interfaceName: "net1", ips: ["10.1.10.2/24", "fd00::2/64"], hardwareAddress: "02:00:00:00:00:01")),
        NetworkCase(name: "the attachment's name not among them: the last pod interface, and the IPs naming none",
                    ifName: "net9", result: #"{"cniVersion":"1.0.0","interfaces":[{"name":"a","sandbox":"/ns"},{"name":"b","sandbox":"/ns","mac":""}],"ips":[{"address":"10.1.12.2/24"},{"address":"10.1.13.2/24","interface":0}]}"#,
                    expected: NetworkDeviceData(interfaceName: "b", ips: ["10.1.12.2/24"], hardwareAddress: nil)),
        NetworkCase(name: "a 0.2.0-style result without interfaces: the name asked for, every IP, no MAC",
                    ifName: "net1", result: #"{"cniVersion":"0.2.0","ip4":{"ip":"10.1.10.2/24"}}"#,
                    expected: NetworkDeviceData(interfaceName: "net1", ips: ["10.1.10.2/24"], hardwareAddress: nil)),
        NetworkCase(name: "17 IPs and an overlong MAC: the first 16, no MAC",
                    ifName: "net1", result: #"{"cniVersion":"1.0.0","interfaces":[{"name":"net1","mac":"\#(String(repeating: "a", count: 129))","sandbox":"/ns"}],"ips":[\#((1...17).map { #"{"address":"10.1.10.\#($0)/24","interface":0}"# }.joined(separator: ","))]}"#,
                    expected: NetworkDeviceData(interfaceName: "net1", ips: (1...16).map { "10.1.10.\($0)/24" }, hardwareAddress: nil)),
    ])
    func networkData(_ c: NetworkCase) throws {
        let cached = try attached(vf1, ifName: c.ifName, result: c.result)
        #expect(ClaimDeviceStatus.networkData(cached.attachment, result: try #require(cached.result)) == c.expected)
    }

    @Test("draDeviceStatus is off unless the config says true", arguments: [("", false), (#","draDeviceStatus":false"#, false), (#","draDeviceStatus":true"#, true)])
    func configKey(_ key: String, on: Bool) throws {
        let config = try MultusConfig(json: JSONValue.parse(#"{"cniVersion":"1.0.0"\#(key),"delegates":[{"cniVersion":"1.0.0","name":"a","type":"bridge"}]}"#))
        #expect(config.draDeviceStatus == on)
    }

    @Test("the entry: key from the allocation result, Ready True for the claim's generation; a Ready of ours already True keeps its transition time")
    func entry() throws {
        let device = try #require(ClaimDeviceStatus.byClaim([try attached(vf1, ifName: "net1", result: net1Result)]).first?.devices.first)
        let now = WallClockTime(seconds: 1_796_000_000)
        let fresh = ClaimDeviceStatus.entry(for: device, in: try claim(), pod: "default/web", containerID: containerID, now: now)
        #expect(fresh.key == DeviceStatusKey(vf1))
        #expect(fresh.conditions == [DeviceCondition(type: "Ready", status: "True", reason: "NetworkAttached",
                                                     message: "net1 of pod default/web (container 3f2a9c1b7e4d), network default/dra-vf",
                                                     lastTransitionTime: now.rfc3339, observedGeneration: 2)])
        let again = ClaimDeviceStatus.entry(for: device, in: try claim(devices: [writtenEntry()]), pod: "default/web", containerID: containerID, now: now)
        #expect(again.conditions.first?.lastTransitionTime == "2026-12-01T00:00:00Z")
        #expect(ClaimDeviceStatus.entry(for: device, in: try claim(), pod: "p", containerID: containerID, now: now, withCondition: false).conditions.isEmpty)
    }

    @Test("whose entry it is: our Ready names the container that wrote it; without one, the networkData decides", arguments: [
        (writtenEntry(), true),
        (writtenEntry(by: "99999999999999"), false),
        (["driver": .string(sriov), "pool": "node-1", "device": "pf0-vf1",
          "networkData": ["interfaceName": "net1", "ips": ["10.1.10.2/24"], "hardwareAddress": "02:00:00:00:00:01"],
          "conditions": [["type": "Ready", "status": "True", "reason": "DriverReason", "message": "someone else's"]]] as JSONValue, true),
        (["driver": .string(sriov), "pool": "node-1", "device": "pf0-vf1", "networkData": ["interfaceName": "net7"]] as JSONValue, false),
    ])
    func written(entry: JSONValue, ours: Bool) throws {
        let device = try #require(ClaimDeviceStatus.byClaim([try attached(vf1, ifName: "net1", result: net1Result)]).first?.devices.first)
        #expect(ClaimDeviceStatus.isWritten(by: containerID, device, in: try claim(devices: [entry])) == ours)
    }

    @Test("by claim: only DRA devices with a result, grouped by claim in order; a claim name that is not namespace/name is passed over")
    func grouping() throws {
        let pending = CachedAttachment(attachment: try attached(vf2, ifName: "net2", result: net1Result).attachment, result: nil)
        let groups = ClaimDeviceStatus.byClaim([try attached(vf1, ifName: "net1", result: net1Result, claim: "default/b"), pending,
                                                try attached(vf2, ifName: "net3", result: net1Result, claim: "default/a"),
                                                try attached(vf2, ifName: "net4", result: net1Result, claim: "default/b"),
                                                try attached(vf2, ifName: "net5", result: net1Result, claim: "bad")])
        #expect(groups.map { "\($0.claim): \($0.devices.map(\.attachment.ifName.text))" } == [#"default/b: ["net1", "net4"]"#, #"default/a: ["net3"]"#])
    }

    @Test("the writer: the first apply builds on the claim as read; a stale read (409) is read again and the body rebuilt, 5 tries; a gone claim is no failure")
    func writer() throws {
        let change = { (read: ResourceClaim) in DeviceStatusWriter.Change(removing: [DeviceStatusKey(vf1)]) }
        let stale = ScriptedKubeAPI(.init(claims: ["c": try claim(resourceVersion: "9", managed: [key("pf0-vf1"): [".": [:]]])],
                                          applies: [ScriptedKubeAPI.failure(409)]))
        let outcome = try DeviceStatusWriter(api: stale, backoff: .zero).apply(to: try #require(ClaimName("default/c")), asRead: try claim(resourceVersion: "7"), change)
        #expect(outcome == .applied)
        #expect(stale.calls == ["APPLY resourceclaim default/c status as swift-multus rv=7", "GET resourceclaim default/c",
                                "APPLY resourceclaim default/c status as swift-multus rv=9"])
        let persistent = ScriptedKubeAPI(.init(claims: ["c": try claim()], applies: Array(repeating: ScriptedKubeAPI.failure(409), count: 5)))
        #expect(throws: ScriptedKubeAPI.failure(409)) {
            try DeviceStatusWriter(api: persistent, backoff: .zero).apply(to: try #require(ClaimName("default/c")), asRead: nil, change)
        }
        #expect(persistent.calls.count == 10, "5 reads, 5 applies")
        let gone = ScriptedKubeAPI(.init())
        #expect(try DeviceStatusWriter(api: gone).apply(to: try #require(ClaimName("default/c")), asRead: nil, change) == .claimGone)
        let nothing = ScriptedKubeAPI(.init(claims: ["c": try claim()]))
        #expect(try DeviceStatusWriter(api: nothing).apply(to: try #require(ClaimName("default/c")), asRead: nil) { _ in nil } == .unchanged)
        #expect(nothing.calls == ["GET resourceclaim default/c"], "nothing to change: no write")
    }

    @Test("publish: a field conflict (another manager's Ready) writes the networkData alone; a refusal is an error on stderr and a Warning event, never a failure")
    func publish() throws {
        let conflict = KubeError.fieldConflict(server: "https://test", call: "APPLY", message: "Apply failed with 1 conflict")
        let api = ScriptedKubeAPI(.init(claims: ["c": try claim()], applies: [conflict]))
        let diagnostics = Diagnostics()
        let events = EventRecorder(api: api, pod: ObjectMeta(name: "web", namespace: "default"), diagnostics: diagnostics)
        let reporter = DeviceStatusReporter(api: api, pod: "default/web", containerID: containerID, events: events, diagnostics: diagnostics)
        reporter.publish([try attached(vf1, ifName: "net1", result: net1Result)])
        #expect(api.applied.count == 1)
        #expect(api.applied.first?["status"]?["devices"] == [["driver": .string(sriov), "pool": "node-1", "device": "pf0-vf1",
                                                              "networkData": ["interfaceName": "net1", "ips": ["10.1.10.2/24"], "hardwareAddress": "02:00:00:00:00:01"]]])
        #expect(diagnostics.all.contains("ResourceClaim default/c: \(conflict); writing networkData without our Ready condition"))

        let refusing = ScriptedKubeAPI(.init(claims: ["c": try claim()], applies: [ScriptedKubeAPI.failure(403)]))
        let said = Diagnostics()
        let recorder = EventRecorder(api: refusing, pod: ObjectMeta(name: "web", namespace: "default"), diagnostics: said)
        DeviceStatusReporter(api: refusing, pod: "default/web", containerID: containerID, events: recorder, diagnostics: said)
            .publish([try attached(vf1, ifName: "net1", result: net1Result)])
        recorder.finish()
        let message = "ResourceClaim default/c: status.devices not written for \(sriov)/node-1/pf0-vf1 (net1) (the network is attached): "
            + "\(ScriptedKubeAPI.failure(403)); the role needs patch on resourceclaims/status (the optional ClusterRole in deploy/rbac.yml)"
        #expect(said.all == [message])
        #expect(refusing.events.map { "\($0.kind.rawValue) \($0.reason): \($0.message)" } == ["Warning DeviceStatusNotWritten: \(message)"])
    }

    @Test("withdraw: only entries we own and this container wrote; none of those, no write")
    func withdraw() throws {
        let devices = [try attached(vf1, ifName: "net1", result: net1Result), try attached(vf2, ifName: "net2", result: net1Result)]
        let vf2Entry: JSONValue = ["driver": .string(sriov), "pool": "node-1", "device": "pf0-vf2", "networkData": ["interfaceName": "net2"]]
        let owned: JSONObject = [key("pf0-vf1"): [".": [:]], key("pf0-vf2"): [".": [:]]]
        let api = ScriptedKubeAPI(.init(claims: ["c": try claim(devices: [writtenEntry(), vf2Entry], managed: owned)]))
        DeviceStatusReporter(api: api, pod: "default/web", containerID: containerID, events: .disabled(Diagnostics()), diagnostics: Diagnostics())
            .withdraw(devices)
        #expect(api.applied.count == 1)
        #expect(api.applied.first?["status"]?["devices"] == [vf2Entry],
                "vf1 (this container's) out; vf2, whose networkData is not what this container wrote (a newer sandbox's), kept")

        let theirs = ScriptedKubeAPI(.init(claims: ["c": try claim(devices: [writtenEntry(by: "another-container"), vf2Entry], managed: owned)]))
        DeviceStatusReporter(api: theirs, pod: "default/web", containerID: containerID, events: .disabled(Diagnostics()), diagnostics: Diagnostics())
            .withdraw(devices)
        #expect(theirs.calls == ["GET resourceclaim default/c"], "nothing of this container's: no write")
        let unowned = ScriptedKubeAPI(.init(claims: ["c": try claim(devices: [writtenEntry()])]))
        DeviceStatusReporter(api: unowned, pod: "default/web", containerID: containerID, events: .disabled(Diagnostics()), diagnostics: Diagnostics())
            .withdraw(devices)
        #expect(unowned.applied.isEmpty, "an entry we do not own (by managedFields) is not ours to remove")
    }
}
