// The test API server's server-side apply of resourceclaims/status, checked over HTTPS with
// python3's http.client (Tests/apiserver/request.py): what kube-apiserver does with a list-map
// written by several field managers, and Kubernetes 1.36's per-driver authorization of
// status.devices, which the plugin's device status is tested against. No root needed.
import CNI
import Testing
import TestSupport

private let claimPath = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/web-dra-net-x7k2p"
private let vfKey = #"k:{"device":"pf0-vf1","driver":"sriovnetwork.k8snetworkplumbingwg.io","pool":"node-1"}"#

private func applying(_ devices: [JSONValue]?, manager: String, token: String = "admin", force: Bool = false,
                      extra: JSONObject = [:], contentType: String = "application/apply-patch+yaml") -> JSONValue {
    var metadata: JSONObject = ["name": "web-dra-net-x7k2p", "namespace": "default"]
    for (key, value) in extra { metadata[key] = value }
    var body: JSONObject = ["apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": .object(metadata)]
    if let devices { body["status"] = ["devices": .array(devices)] }
    let query = "fieldManager=\(manager)" + (force ? "&force=true" : "")
    return ["method": "PATCH", "path": .string("\(claimPath)/status?\(query)"), "token": .string(token), "contentType": .string(contentType),
            "body": .object(body)]
}

private let vf: JSONValue = ["driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "pf0-vf1",
                             "networkData": ["interfaceName": "net1", "ips": ["10.1.10.2/24"], "hardwareAddress": "02:00:00:00:00:01"]]
private let gpu: JSONValue = ["driver": "gpu.nvidia.com", "pool": "node-1", "device": "gpu-0",
                              "conditions": [["type": "Ready", "status": "True", "reason": "Prepared", "lastTransitionTime": "2026-12-06T09:14:05Z"]]]

private func server(tokens: [(String, TestRole, String?)] = []) throws -> TestAPIServer {
    let server = try TestAPIServer()
    try server.put(file: testdata("dra/claim-vf-and-gpu.json"))
    try server.addToken("admin", role: .clusterAdmin)
    for (token, role, node) in tokens { try server.addToken(token, role: role, nodeName: node) }
    return server
}

private func stored(_ server: TestAPIServer) throws -> JSONValue {
    try #require(try server.object(kind: "ResourceClaim", namespace: "default", name: "web-dra-net-x7k2p"))
}

private func managedFields(_ claim: JSONValue) -> [String: JSONValue] {
    var out: [String: JSONValue] = [:]
    for entry in claim["metadata"]?["managedFields"]?.arrayValue ?? [] { out[entry["manager"]?.stringValue ?? ""] = entry["fieldsV1"] }
    return out
}

@Suite("Test API server: server-side apply of ResourceClaim status")
struct TestAPIServerApplyTests {
    @Test("status.devices is a list-map by driver, pool, device (and shareID): each manager owns its own entries, and applying without one removes only its own")
    func listMap() throws {
        let server = try server()
        let before = try stored(server)
        let answers = try send(server, [applying([gpu], manager: "gpu"), applying([vf], manager: "swift-multus"), applying(nil, manager: "swift-multus")])
        #expect(answers.map(\.status) == [200, 200, 200])
        #expect(answers[1].body["status"]?["devices"] == [gpu, vf], "the second manager's entry joins the first's")
        #expect(answers[1].body["status"]?["allocation"] == before["status"]?["allocation"], "the rest of status stays")
        let managed = managedFields(answers[1].body)
        #expect(managed["swift-multus"]?["f:status"]?["f:devices"] == [vfKey: [".": [:], "f:device": [:], "f:driver": [:],
                                                                              "f:networkData": ["f:hardwareAddress": [:], "f:interfaceName": [:], "f:ips": [:]], "f:pool": [:]]],
                "FieldsV1 as the API server writes it, keys sorted")
        #expect(managed["gpu"]?["f:status"]?["f:devices"]?.objectValue?.keys == [#"k:{"device":"gpu-0","driver":"gpu.nvidia.com","pool":"node-1"}"#])
        let entry = try #require(answers[1].body["metadata"]?["managedFields"]?.arrayValue?.last)
        #expect(entry["operation"] == "Apply" && entry["subresource"] == "status" && entry["apiVersion"] == "resource.k8s.io/v1" && entry["fieldsType"] == "FieldsV1")
        #expect(answers[2].body["status"]?["devices"] == [gpu], "applying nothing removes what swift-multus owned, and only that")
        #expect(managedFields(answers[2].body).keys.sorted() == ["gpu"], "a manager that owns nothing has no entry")
        #expect(answers.compactMap { $0.body["metadata"]?["resourceVersion"]?.stringValue }.count == 3)
        #expect(Set(answers.compactMap { $0.body["metadata"]?["resourceVersion"]?.stringValue }).count == 3, "every write bumps resourceVersion")
    }

    @Test("one entry, two managers: each owns its fields; removing ours leaves the other's fields and the entry")
    func sharedEntry() throws {
        let server = try server()
        let driverFields: JSONValue = ["driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "pf0-vf1",
                                       "conditions": [["type": "Ready", "status": "True", "reason": "Prepared", "lastTransitionTime": "2026-12-06T09:14:05Z"]]]
        let answers = try send(server, [applying([driverFields], manager: "driver"), applying([vf], manager: "swift-multus"), applying(nil, manager: "swift-multus")])
        #expect(answers.map(\.status) == [200, 200, 200])
        #expect(answers[1].body["status"]?["devices"]?.arrayValue?.first?["conditions"] == driverFields["conditions"])
        #expect(answers[1].body["status"]?["devices"]?.arrayValue?.first?["networkData"] == vf["networkData"])
        #expect(answers[2].body["status"]?["devices"] == [driverFields], "our networkData goes, the driver's condition and the entry stay")
    }

    @Test("a field another manager owns with another value is a 409 FieldManagerConflict naming both; equal values are shared; force takes the field")
    func conflicts() throws {
        let server = try server()
        var otherReady = gpu
        otherReady = ["driver": "gpu.nvidia.com", "pool": "node-1", "device": "gpu-0",
                      "conditions": [["type": "Ready", "status": "False", "reason": "Prepared", "lastTransitionTime": "2026-12-06T09:14:05Z"]]]
        let answers = try send(server, [applying([gpu], manager: "gpu"), applying([otherReady], manager: "other"), applying([gpu], manager: "same"),
                                        applying([otherReady], manager: "other", force: true)])
        #expect(answers.map(\.status) == [200, 409, 200, 200])
        #expect(answers[1].body["reason"] == "Conflict")
        #expect(answers[1].body["message"] == #"Apply failed with 1 conflict: conflict with "gpu" using resource.k8s.io/v1: .status.devices[device="gpu-0",driver="gpu.nvidia.com",pool="node-1"].conditions[type="Ready"].status"#)
        #expect(answers[1].body["details"]?["causes"] == [["reason": "FieldManagerConflict", "message": #"conflict with "gpu" using resource.k8s.io/v1"#,
                                                          "field": #".status.devices[device="gpu-0",driver="gpu.nvidia.com",pool="node-1"].conditions[type="Ready"].status"#]])
        #expect(managedFields(answers[2].body).keys.sorted() == ["gpu", "same"], "the same value: no conflict, both own it")
        let forced = managedFields(answers[3].body)
        #expect(forced["other"] != nil)
        #expect(forced["gpu"]?["f:status"]?["f:devices"]?[#"k:{"device":"gpu-0","driver":"gpu.nvidia.com","pool":"node-1"}"#]?["f:conditions"]?[#"k:{"type":"Ready"}"#]?["f:status"] == nil,
                "forcing took status from its owners")
    }

    @Test("the request as kube-apiserver checks it: content type, fieldManager, the body, resourceVersion, and status validation")
    func requestChecks() throws {
        let server = try server()
        let rv = try stored(server)["metadata"]?["resourceVersion"] ?? .null
        var noManager = applying([vf], manager: "")
        noManager = ["method": "PATCH", "path": .string("\(claimPath)/status"), "token": "admin", "contentType": "application/apply-patch+yaml",
                     "body": noManager["body"] ?? .null]
        var unallocated = vf
        unallocated = ["driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "pf0-vf9", "networkData": ["interfaceName": "net1"]]
        let badIP: JSONValue = ["driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "pf0-vf1", "networkData": ["ips": ["10.1.10.2"]]]
        let answers = try send(server, [
            applying([vf], manager: "m", contentType: "application/merge-patch+json"),
            noManager,
            applying([vf], manager: "m", extra: ["name": "other"]),
            applying([vf], manager: "m", extra: ["managedFields": []]),
            applying([vf], manager: "m", extra: ["resourceVersion": "1"]),
            applying([unallocated], manager: "m"),
            applying([badIP], manager: "m"),
            applying([["driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1"]], manager: "m"),
            applying([vf], manager: "m", extra: ["resourceVersion": rv]),
        ])
        #expect(answers.map(\.status) == [415, 400, 400, 400, 409, 422, 422, 422, 200])
        #expect(answers[1].body["message"] == #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#)
        #expect(answers[3].body["message"] == "metadata.managedFields must be nil")
        #expect(answers[4].body["reason"] == "Conflict")
        #expect(answers[5].body["message"] == #"ResourceClaim.resource.k8s.io "web-dra-net-x7k2p" is invalid: status.devices[0]: Invalid value: "sriovnetwork.k8snetworkplumbingwg.io/node-1/pf0-vf9": must be an allocated device in the claim"#)
        #expect(answers[6].body["message"]?.stringValue?.hasSuffix(#"status.devices[0].networkData.ips[0]: Invalid value: "10.1.10.2": must be a valid address in CIDR form"#) == true)
        #expect(try stored(server)["status"]?["devices"] == [vf], "only the last, conditional on the current resourceVersion, was stored")
    }

    struct Grant: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: JSONValue
        var node: String?
        /// The answers to: our entry set, our entry set again unchanged, the GPU's entry set.
        var statuses: [Int]
        /// The verb the first refusal names.
        var refusedVerb = "arbitrary-node:patch"
        var testDescription: String { name }
    }

    /// kube-apiserver's AuthorizedForDeviceStatus: per driver whose entries change, with the
    /// request's verb prefixed by how the caller relates to the claim's allocated node.
    @Test("writing status.devices needs patch on resourceclaims/status, then, per driver changed, associated-node:patch (a service account bound to the claim's node) or arbitrary-node:patch on resourceclaims/driver", arguments: [
        Grant(name: "no status patch", rules: [["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"], "verbs": ["*"]]], node: "node-1",
              statuses: [403, 403, 403]),
        Grant(name: "status patch only", rules: [["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["patch"]]], node: "node-1",
              statuses: [422, 422, 422], refusedVerb: "associated-node:patch"),
        Grant(name: "associated-node for the VF's driver, bound to node-1", rules: [
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["patch"]],
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"], "verbs": ["associated-node:patch"], "resourceNames": ["sriovnetwork.k8snetworkplumbingwg.io"]],
        ], node: "node-1", statuses: [200, 200, 422]),
        Grant(name: "associated-node, bound to node-2", rules: [
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["patch"]],
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"], "verbs": ["associated-node:patch"]],
        ], node: "node-2", statuses: [422, 422, 422]),
        Grant(name: "arbitrary-node, no bound node", rules: [
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["patch"]],
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"], "verbs": ["arbitrary-node:patch"]],
        ], node: nil, statuses: [200, 200, 200]),
    ])
    func authorization(_ grant: Grant) throws {
        let server = try server(tokens: [("t", .rules(grant.rules), grant.node)])
        let answers = try send(server, [applying([vf], manager: "m", token: "t"), applying([vf], manager: "m", token: "t"),
                                        applying([vf, gpu], manager: "m", token: "t")])
        #expect(answers.map(\.status) == grant.statuses)
        if grant.statuses[0] == 422 {
            let verb = grant.refusedVerb
            #expect(answers[0].body["message"] == .string(#"ResourceClaim.resource.k8s.io "web-dra-net-x7k2p" is invalid: status.devices: Forbidden: changing status.devices requires extra permission: resourceclaims.resource.k8s.io "sriovnetwork.k8snetworkplumbingwg.io" is forbidden: User "system:serviceaccount:kube-system:multus" cannot "# + verb + #" resource "resourceclaims/driver" in API group "resource.k8s.io" in the namespace "default""#))
            #expect(answers[0].body["details"]?["causes"]?.arrayValue?.first?["reason"] == "FieldValueForbidden")
        }
        if grant.statuses[2] == 422 && grant.statuses[0] == 200 {
            #expect(answers[2].body["message"]?.stringValue?.contains(#""gpu.nvidia.com" is forbidden"#) == true, "only the driver whose entry changes is checked")
        }
    }
}
