import CNI
import KubeClient
import Testing
import TestSupport

private let sriov = "sriovnetwork.k8snetworkplumbingwg.io"

/// A claim with three entries, as the API server stores it after the GPU driver and we applied:
/// the GPU's; our vf1 (its Ready condition and data the SR-IOV driver's, its networkData ours);
/// our vf2 (a share, KEP-5075), all ours.
private func claim(resourceVersion: String = "42") throws -> ResourceClaim {
    let text = #"""
    {"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim",
     "metadata":{"name":"c","namespace":"default","resourceVersion":"RV","generation":3,"managedFields":[
       {"manager":"gpu.nvidia.com","operation":"Apply","subresource":"status","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:devices":{
         "k:{\"device\":\"gpu-0\",\"driver\":\"gpu.nvidia.com\",\"pool\":\"node-1\"}":{".":{},"f:device":{},"f:driver":{},"f:pool":{},"f:data":{}}}}}},
       {"manager":"swift-multus","operation":"Update","subresource":"status","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:devices":{
         "k:{\"device\":\"gpu-0\",\"driver\":\"gpu.nvidia.com\",\"pool\":\"node-1\"}":{".":{}}}}}},
       {"manager":"swift-multus","operation":"Apply","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:devices":{
         "k:{\"device\":\"gpu-0\",\"driver\":\"gpu.nvidia.com\",\"pool\":\"node-1\"}":{".":{}}}}}},
       {"manager":"swift-multus","operation":"Apply","subresource":"status","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:devices":{
         "k:{\"device\":\"pf0-vf1\",\"driver\":\"SRIOV\",\"pool\":\"node-1\"}":{".":{},"f:device":{},"f:driver":{},"f:pool":{},
           "f:networkData":{"f:interfaceName":{},"f:ips":{}}},
         "k:{\"device\":\"pf0-vf2\",\"driver\":\"SRIOV\",\"pool\":\"node-1\",\"shareID\":\"7c2f\"}":{".":{},"f:device":{},"f:driver":{},"f:pool":{},"f:shareID":{},
           "f:networkData":{"f:interfaceName":{}},"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:type":{},"f:status":{}}}},
         "k:{\"device\":\"pf0-vf3\",\"driver\":\"SRIOV\",\"pool\":\"node-1\"}":{".":{},"f:networkData":{"f:interfaceName":{}}},
         "k:{\"driver\":\"SRIOV\"}":{".":{}},
         "k:not json":{".":{}}}}}}]},
     "status":{"devices":[
       {"driver":"gpu.nvidia.com","pool":"node-1","device":"gpu-0","data":{"uuid":"GPU-1"}},
       {"driver":"SRIOV","pool":"node-1","device":"pf0-vf1","data":{"pci":"0000:08:00.1"},
        "conditions":[{"type":"Ready","status":"True","reason":"Prepared"}],
        "networkData":{"interfaceName":"net1","ips":["10.1.10.2/24"],"hardwareAddress":"02:00:00:00:00:01"}},
       {"driver":"SRIOV","pool":"node-1","device":"pf0-vf2","shareID":"7c2f",
        "conditions":[{"type":"Ready","status":"True","reason":"NetworkAttached","message":"m"},{"type":"Other","status":"False"}],
        "networkData":{"interfaceName":"net2"}},
       {"driver":"SRIOV","pool":"node-1","device":"pf0-vf2","networkData":{"interfaceName":"not-the-share"}}]}}
    """#.replacing("SRIOV", with: sriov).replacing("\"RV\"", with: "\"\(resourceVersion)\"")
    return try ResourceClaim(json: try JSONValue.parse(text))
}

private let vf1 = DeviceStatusKey(driver: sriov, pool: "node-1", device: "pf0-vf1")
private let vf2 = DeviceStatusKey(driver: sriov, pool: "node-1", device: "pf0-vf2", shareID: "7c2f")
private let vf3 = DeviceStatusKey(driver: sriov, pool: "node-1", device: "pf0-vf3")

@Suite("ResourceClaim status.devices: what a field manager owns, and its apply body")
struct DeviceStatusApplyTests {
    @Test("status.devices by key; a share is its own entry; managedFields read for our Apply of the status subresource only")
    func reading() throws {
        let claim = try claim()
        #expect(claim.deviceStatuses.map(\.key) == [DeviceStatusKey(driver: "gpu.nvidia.com", pool: "node-1", device: "gpu-0"), vf1, vf2,
                                                     DeviceStatusKey(driver: sriov, pool: "node-1", device: "pf0-vf2")])
        #expect(claim.deviceStatus(vf2)?["networkData"] == ["interfaceName": "net2"], "the share, not the device's other entry")
        #expect(claim.appliedDeviceFields(manager: "swift-multus").map(\.key) == [vf1, vf2, vf3],
                "not the Update entry, not an Apply of the main resource, not a key without its fields or one that is not JSON")
        #expect(claim.appliedDeviceFields(manager: "gpu.nvidia.com").count == 1)
        #expect(claim.appliedDeviceFields(manager: "nobody").isEmpty)
    }

    @Test("the body: our other entries cut down to what we own, with their current values; the entry we set; conditional on resourceVersion")
    func body() throws {
        let entry = DeviceStatusEntry(key: vf1, networkData: NetworkDeviceData(interfaceName: "net1", ips: ["10.1.10.3/24"], hardwareAddress: ""),
                                      conditions: [DeviceCondition(type: "Ready", status: "True", reason: "NetworkAttached", message: "net1",
                                                                   lastTransitionTime: "2026-12-06T09:14:05Z", observedGeneration: 3)])
        let body = try claim().statusApply(manager: "swift-multus", setting: [entry], removing: [])
        let expected = #"""
        {"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"c","namespace":"default","resourceVersion":"42"},
         "status":{"devices":[
          {"device":"pf0-vf2","driver":"SRIOV","pool":"node-1","shareID":"7c2f","networkData":{"interfaceName":"net2"},
           "conditions":[{"type":"Ready","status":"True"}]},
          {"driver":"SRIOV","pool":"node-1","device":"pf0-vf1",
           "conditions":[{"type":"Ready","status":"True","reason":"NetworkAttached","message":"net1","lastTransitionTime":"2026-12-06T09:14:05Z","observedGeneration":3}],
           "networkData":{"interfaceName":"net1","ips":["10.1.10.3/24"]}}]}}
        """#.replacing("SRIOV", with: sriov)
        // vf3 is owned but no longer in the claim (the API server drops the entries of devices
        // deallocated): it is not applied again.
        let want = try JSONValue.parse(expected)
        #expect(body == want)
    }

    @Test("removing our entries; with nothing left, no status at all (an empty list would be a field of ours)")
    func removing() throws {
        let claim = try claim(resourceVersion: "")
        let kept = claim.statusApply(manager: "swift-multus", setting: [], removing: [vf1])
        #expect(kept["status"]?["devices"]?.arrayValue?.compactMap { $0["device"]?.stringValue } == ["pf0-vf2"])
        #expect(kept["metadata"] == ["name": "c", "namespace": "default"], "no resourceVersion to send")
        let none = claim.statusApply(manager: "swift-multus", setting: [], removing: [vf1, vf2])
        #expect(none == ["apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": ["name": "c", "namespace": "default"]])
        #expect(claim.statusApply(manager: "nobody", setting: [], removing: []) == none, "a manager that owns nothing applies nothing")
    }

    @Test("keys: three strings, and a shareID only as a string")
    func keys() {
        #expect(DeviceStatusKey(fields: ["driver": "d", "pool": "p", "device": "x"]) == DeviceStatusKey(driver: "d", pool: "p", device: "x"))
        #expect(DeviceStatusKey(fields: ["driver": "d", "pool": "p", "device": "x", "shareID": 7]) == nil)
        #expect(DeviceStatusKey(fields: ["driver": "d", "pool": "p"]) == nil)
        #expect(DeviceStatusKey(fields: ["driver": "d", "pool": 1, "device": "x"]) == nil)
        #expect(vf2.description == "\(sriov)/node-1/pf0-vf2#7c2f")
    }

    @Test("a FieldSet projects objects field by field and list-maps item by key; a leaf takes the whole value")
    func projection() throws {
        let set = FieldSet(try #require(try JSONValue.parse(#"{"f:a":{},"f:m":{"f:x":{}},"f:l":{"k:{\"type\":\"R\"}":{".":{},"f:s":{}}},"f:gone":{}}"#).objectValue))
        let value = try JSONValue.parse(#"{"a":[1,2],"b":3,"m":{"x":1,"y":2},"l":[{"type":"Q","s":1},{"type":"R","s":2,"t":3}]}"#)
        #expect(set.project(value, lists: ["l": ["type"]]) == (try JSONValue.parse(#"{"a":[1,2],"m":{"x":1},"l":[{"s":2,"type":"R"}]}"#)))
        #expect(set.project("scalar", lists: [:]) == nil)
        #expect(FieldSet(JSONObject()).project(value, lists: [:]) == value)
    }
}
