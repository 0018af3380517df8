// draDeviceStatus (KEP-4817): the DRA devices ADD attaches reported in their ResourceClaims'
// status.devices, by server-side apply against the test API server (list-map per field manager,
// Kubernetes 1.36's per-driver authorization), through real plugins (macvlan on an empty bridge,
// host-local) in a real netns.
import CNI
import Testing
import TestSupport

private let claimName = "web-dra-net-x7k2p"
private let sriovDriver = "sriovnetwork.k8snetworkplumbingwg.io"
private let vfPool = "sriovnetwork.k8snetworkplumbingwg.io/vf-pool-a"
private let claimPath = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/\(claimName)"

/// The GPU driver's own entry for gpu-0, as its kubelet plugin applies it.
private let gpuEntry: JSONValue = [
    "driver": "gpu.nvidia.com", "pool": "node-1", "device": "gpu-0",
    "conditions": [["type": "Ready", "status": "True", "reason": "GPUPrepared", "message": "MIG disabled",
                    "lastTransitionTime": "2026-12-06T09:14:05Z", "observedGeneration": 1]],
    "data": ["uuid": "GPU-7f3c1d2e", "productName": "NVIDIA A100"],
]

/// The SR-IOV driver's own entry for the VF (its Multus mode): a Ready condition and its data,
/// no networkData, which it cannot know.
private let sriovDriverEntry: JSONValue = [
    "driver": .string(sriovDriver), "pool": "node-1", "device": "pf0-vf1",
    "conditions": [["type": "Ready", "status": "True", "reason": "VFPrepared", "message": "bound to vfio-pci",
                    "lastTransitionTime": "2026-12-06T09:14:04Z", "observedGeneration": 1]],
    "data": ["pciAddress": "0000:08:00.1"],
]

extension KubeSandbox {
    /// The claim with a VF and a GPU, the pod whose claim it is, and a macvlan NAD (on the empty
    /// bridge, host-local on 10.N.10.0/24) drawing from the VF's resourceName attribute.
    func putVFAndGPUPod() throws {
        try putDRAObjects()
        let config: JSONValue = ["cniVersion": "1.0.0", "name": "dra-vf", "type": "macvlan", "master": .string(substitutions["@PARENT@"] ?? ""),
                                 "mode": "bridge", "ipam": box.hostLocal(10)]
        try server.put(["apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                        "metadata": ["name": "dra-vf", "namespace": "default", "annotations": ["k8s.v1.cni.cncf.io/resourceName": .string(vfPool)]],
                        "spec": ["config": .string(config.serialized())]])
        try putDRAPod("web-dra-v1", networks: "dra-vf", claim: claimName)
    }

    /// A config with draDeviceStatus on, whose kubeconfig holds a token of Multus's service
    /// account with `role`, bound (as the DaemonSet pod's token is) to `node`; errors logged to a file.
    func deviceStatusConfig(role: TestRole, node: String? = "node-1", enabled: Bool = true) throws -> JSONValue {
        let token = "status-\(node ?? "none")"
        try server.addToken(token, role: role, nodeName: node)
        return config(kubeconfig: try server.kubeconfig(in: box.root, token: token, fileName: token),
                      extra: ["draDeviceStatus": .bool(enabled), "logFile": .string(logFile)])
    }

    var logFile: String { box.root + "/multus.log" }

    /// A DRA driver's kubelet plugin applying its own entry, as its own field manager, with the
    /// node-bound token and the role the Kubernetes docs give node-local drivers.
    func driverApplies(_ entry: JSONValue, driver: String) throws {
        let token = "driver-\(driver)"
        try server.addToken(token, user: "system:serviceaccount:dra:\(driver)", role: .rules([
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["get", "patch", "update"]],
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"], "verbs": ["associated-node:patch", "associated-node:update"],
             "resourceNames": [.string(driver)]],
        ]), nodeName: "node-1")
        let body: JSONValue = ["apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": ["name": .string(claimName), "namespace": "default"],
                               "status": ["devices": [entry]]]
        let answers = try send(server, [["method": "PATCH", "path": .string("\(claimPath)/status?fieldManager=\(driver)"), "token": .string(token),
                                         "contentType": "application/apply-patch+yaml", "body": body]])
        try #require(answers.first?.status == 200, "\(answers.first?.body ?? .null)")
    }

    /// The claim as the server stores it.
    func claim() throws -> JSONValue {
        try #require(try server.object(kind: "ResourceClaim", namespace: "default", name: claimName))
    }

    /// The stored claim's status.devices entry of `driver`.
    func deviceEntry(_ driver: String) throws -> JSONValue? {
        try claim()["status"]?["devices"]?.arrayValue?.first { $0["driver"]?.stringValue == driver }
    }

    /// The claim's managedFields, by manager.
    func managers() throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for entry in try claim()["metadata"]?["managedFields"]?.arrayValue ?? [] {
            if let manager = entry["manager"]?.stringValue { out[manager] = entry }
        }
        return out
    }

    /// resource.k8s.io requests since the last clearLog: method, path, query, status, content type.
    func claimRequests() throws -> [String] {
        try server.requests().filter { $0.path.hasPrefix("/apis/resource.k8s.io/v1/namespaces/") }
            .map { "\($0.method) \($0.path)\($0.query.isEmpty ? "" : "?" + $0.query) \($0.status)\($0.method == "PATCH" ? " " + ($0.contentType ?? "") : "")" }
    }

    /// The MAC of a link in the pod.
    func podMAC(_ name: String) -> String? {
        let fields = sh("ip -n \(box.netnsName) -br link show \(name)").output.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count > 2 ? String(fields[2]) : nil
    }

    func logLines() -> [String] {
        (readWholeFile(logFile).map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: "\n").map(String.init)
    }
}

@Suite("DRA device status: status.devices of the claims of devices attached", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct DeviceStatusTests {
    @Test("a claim with a VF and a GPU whose driver wrote its entry: ADD adds ours (net1, its IPs and MAC, Ready), the GPU's unchanged; DEL takes ours out, the GPU's stays")
    func vfAndGPU() throws {
        let k = try KubeSandbox()
        try k.putVFAndGPUPod()
        try k.driverApplies(gpuEntry, driver: "gpu.nvidia.com")
        let gpuBefore = try #require(try k.deviceEntry("gpu.nvidia.com"))
        let gpuManaged = try #require(try k.managers()["gpu.nvidia.com"])
        let config = try k.deviceStatusConfig(role: try .deployed("multus", "multus-dra-device-status"))
        try k.server.clearLog()

        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(add.exitCode == 0, "\(add.stdout)")
        let n = k.box.number
        #expect(k.box.podInterfaces()["net1"] == ["10.\(n).10.2/24"])
        let mac = try #require(k.podMAC("net1"))
        let ours = try #require(try k.deviceEntry(sriovDriver))
        #expect(ours["networkData"] == ["interfaceName": "net1", "ips": [.string("10.\(n).10.2/24")], "hardwareAddress": .string(mac)])
        let ready = try #require(ours["conditions"]?.arrayValue?.first)
        #expect(ours["conditions"]?.arrayValue?.count == 1)
        #expect(ready["type"] == "Ready" && ready["status"] == "True" && ready["reason"] == "NetworkAttached" && ready["observedGeneration"] == 1)
        #expect(ready["message"] == .string("net1 of pod default/web-dra-v1 (container \(k.box.containerID.prefix(12))), network default/dra-vf"))
        #expect(ready["lastTransitionTime"]?.stringValue?.count == 20, "RFC 3339, whole seconds")
        #expect([ours["driver"], ours["pool"], ours["device"], ours["shareID"]] == [.string(sriovDriver), "node-1", "pf0-vf1", nil])
        #expect(try k.deviceEntry("gpu.nvidia.com") == gpuBefore, "the GPU driver's entry is untouched")
        let managers = try k.managers()
        #expect(managers["gpu.nvidia.com"] == gpuManaged, "and so is what its field manager owns")
        let owned = managers["swift-multus"]?["fieldsV1"]?["f:status"]?["f:devices"]?.objectValue?.keys
        #expect(owned == [#"k:{"device":"pf0-vf1","driver":"sriovnetwork.k8snetworkplumbingwg.io","pool":"node-1"}"#], "we own our entry only")
        #expect(managers["swift-multus"]?["operation"] == "Apply" && managers["swift-multus"]?["subresource"] == "status")
        #expect(try k.claimRequests() == [
            "GET \(claimPath) 200",
            "PATCH \(claimPath)/status?fieldManager=swift-multus 200 application/apply-patch+yaml",
        ], "one server-side apply, built on the claim as planning read it")
        #expect(add.diagnostics.contains("ResourceClaim default/\(claimName): status.devices written for \(sriovDriver)/node-1/pf0-vf1 (net1), as field manager swift-multus"))
        // network-status device-info from the VF's deviceID attribute, as for a device plugin's VF.
        let status = try #require(try k.networkStatus("web-dra-v1"))
        #expect(status.last?["device-info"] == ["type": "pci", "version": "1.1.0", "pci": ["pci-address": "0000:08:00.1"]])

        try k.server.clearLog()
        let del = k.multus("DEL", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(try k.deviceEntry(sriovDriver) == nil, "ours is gone")
        #expect(try k.claim()["status"]?["devices"] == [gpuBefore], "the GPU's stays, as it was")
        #expect(try k.managers() == ["gpu.nvidia.com": gpuManaged], "we own nothing any more")
        #expect(try k.claimRequests() == ["GET \(claimPath) 200", "PATCH \(claimPath)/status?fieldManager=swift-multus 200 application/apply-patch+yaml"])
        #expect(del.diagnostics.contains("ResourceClaim default/\(claimName): status.devices of \(sriovDriver)/node-1/pf0-vf1 (net1) removed"))
        try k.server.clearLog()
        k.expectClean(["cluster-net", "dra-vf"])
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var roles: [String]
        var node: String?
        var status: Int
        var refused: String
        var testDescription: String { name }
    }

    /// Multus v4.3.1's role and ours reach resourceclaims/status with no patch (403); with the
    /// status patch alone, or a token not bound to the claim's node, Kubernetes 1.36's per-driver
    /// check refuses the write in validation (422).
    @Test("without the permission ADD still succeeds; stderr, the log (error) and a DeviceStatusNotWritten event say why; DEL writes nothing", arguments: [
        Refusal(name: "Multus v4.3.1's ClusterRole", roles: [], node: "node-1", status: 403,
                refused: #"cannot patch resource "resourceclaims/status" in API group "resource.k8s.io" in the namespace "default""#),
        Refusal(name: "deploy/rbac.yml without the optional role", roles: ["multus"], node: "node-1", status: 403,
                refused: #"cannot patch resource "resourceclaims/status" in API group "resource.k8s.io" in the namespace "default""#),
        Refusal(name: "status patch, no resourceclaims/driver", roles: ["multus", "status-only"], node: "node-1", status: 422,
                refused: #"status.devices: Forbidden: changing status.devices requires extra permission: resourceclaims.resource.k8s.io "sriovnetwork.k8snetworkplumbingwg.io" is forbidden: User "system:serviceaccount:kube-system:multus" cannot associated-node:patch resource "resourceclaims/driver""#),
        Refusal(name: "the optional role, but a token of another node", roles: ["multus", "multus-dra-device-status"], node: "node-2", status: 422,
                refused: #"cannot arbitrary-node:patch resource "resourceclaims/driver""#),
    ])
    func refused(_ refusal: Refusal) throws {
        let k = try KubeSandbox()
        try k.putVFAndGPUPod()
        try k.driverApplies(gpuEntry, driver: "gpu.nvidia.com")
        let before = try k.claim()["status"]
        var role = TestRole.multus
        if !refusal.roles.isEmpty {
            let deployed = try refusal.roles.filter { $0 != "status-only" }.flatMap { try TestRole.deployed($0).inlineRules }
            let statusOnly: [JSONValue] = refusal.roles.contains("status-only")
                ? [["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["patch"]]] : []
            role = .rules(.array(deployed + statusOnly))
        }
        let config = try k.deviceStatusConfig(role: role, node: refusal.node)

        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["net1"] == ["10.\(k.box.number).10.2/24"], "the network is attached")
        #expect(try k.claim()["status"] == before, "nothing written")
        let prefix = "ResourceClaim default/\(claimName): status.devices not written for \(sriovDriver)/node-1/pf0-vf1 (net1) (the network is attached): "
            + "APPLY resourceclaim default/\(claimName) status on \(k.server.server): HTTP \(refusal.status): "
        let said = try #require(add.diagnostics.first { $0.hasPrefix(prefix) }, "\(add.diagnostics)")
        #expect(said.contains(refusal.refused), "\(said)")
        #expect(said.hasSuffix(refusal.status == 403 ? "; the role needs patch on resourceclaims/status (the optional ClusterRole in deploy/rbac.yml)"
                                                     : "; from Kubernetes 1.36 on, a status.devices write also needs associated-node:patch on resourceclaims/driver for the device's driver (the optional ClusterRole in deploy/rbac.yml)"))
        #expect(k.logLines().contains { $0.contains("[error] \(prefix)") }, "logged at error level")
        #expect(try k.events("web-dra-v1").contains("Warning DeviceStatusNotWritten: \(said)"))

        try k.server.clearLog()
        let del = k.multus("DEL", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(try k.claimRequests() == ["GET \(claimPath) 200"], "DEL reads the claim, finds nothing of ours, writes nothing")
        try k.server.clearLog()
        k.expectClean(["cluster-net", "dra-vf"])
    }

    @Test("the SR-IOV driver owns the VF entry's Ready condition: ours goes in without a condition, its condition and data stay; DEL leaves its entry as it was")
    func driverOwnsReady() throws {
        let k = try KubeSandbox()
        try k.putVFAndGPUPod()
        try k.driverApplies(sriovDriverEntry, driver: sriovDriver)
        let before = try #require(try k.deviceEntry(sriovDriver))
        let config = try k.deviceStatusConfig(role: try .deployed("multus", "multus-dra-device-status"))
        try k.server.clearLog()

        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(add.exitCode == 0, "\(add.stdout)")
        let entry = try #require(try k.deviceEntry(sriovDriver))
        #expect(entry["conditions"] == before["conditions"] && entry["data"] == before["data"], "the driver's fields are untouched")
        #expect(entry["networkData"]?["interfaceName"] == "net1" && entry["networkData"]?["hardwareAddress"] == k.podMAC("net1").map(JSONValue.string))
        let requests = try k.claimRequests()
        #expect(requests.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == [
            "GET \(claimPath) 200", "PATCH \(claimPath)/status?fieldManager=swift-multus 409", "GET \(claimPath) 200",
            "PATCH \(claimPath)/status?fieldManager=swift-multus 200",
        ], "never forced: a conflict, then the networkData alone")
        #expect(add.diagnostics.contains { $0.hasPrefix("ResourceClaim default/\(claimName): APPLY resourceclaim default/\(claimName) status on \(k.server.server): HTTP 409: Apply failed with ")
            && $0.contains(#"conflict with "sriovnetwork.k8snetworkplumbingwg.io" using resource.k8s.io/v1: .status.devices[device="pf0-vf1",driver="sriovnetwork.k8snetworkplumbingwg.io",pool="node-1"].conditions[type="Ready"]"#)
            && $0.hasSuffix("; writing networkData without our Ready condition") }, "\(add.diagnostics)")

        let del = k.multus("DEL", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(try k.deviceEntry(sriovDriver) == before, "the driver's entry, as it was before ADD")
        #expect(try k.managers()["swift-multus"] == nil)
        try k.server.clearLog()
        k.expectClean(["cluster-net", "dra-vf"])
    }

    @Test("an ADD that fails after the device status went out (network-status refused) rolls it back: the claim is as before")
    func rollback() throws {
        let k = try KubeSandbox()
        try k.putVFAndGPUPod()
        try k.driverApplies(gpuEntry, driver: "gpu.nvidia.com")
        let before = try k.claim()["status"]
        let noStatusUpdate = try TestRole.deployed("multus").inlineRules.filter { $0["resources"] != ["pods/status"] }
            + TestRole.deployed("multus-dra-device-status").inlineRules
        let config = try k.deviceStatusConfig(role: .rules(.array(noStatusUpdate)))
        try k.server.clearLog()

        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(add.error?.msg.contains("writing k8s.v1.cni.cncf.io/network-status of pod default/web-dra-v1") == true, "\(add.stdout)")
        #expect(try k.claimRequests().map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == [
            "GET \(claimPath)", "PATCH \(claimPath)/status?fieldManager=swift-multus", "GET \(claimPath)", "PATCH \(claimPath)/status?fieldManager=swift-multus",
        ], "written, then taken out again")
        #expect(try k.claim()["status"] == before)
        #expect(try k.managers()["swift-multus"] == nil)
        try k.server.clearLog()
        k.expectClean(["cluster-net", "dra-vf"])
    }

    @Test("draDeviceStatus off: ADD writes no claim, DEL makes no API call, even with the permission")
    func off() throws {
        let k = try KubeSandbox()
        try k.putVFAndGPUPod()
        let config = try k.deviceStatusConfig(role: try .deployed("multus", "multus-dra-device-status"), enabled: false)
        let before = try k.claim()
        try k.server.clearLog()
        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: k.devicePaths())
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.claim() == before)
        #expect(try k.claimRequests() == ["GET \(claimPath) 200"])
        try k.server.clearLog()
        #expect(k.multus("DEL", pod: "web-dra-v1", config: config, devices: k.devicePaths()).exitCode == 0)
        #expect(try k.server.requests().isEmpty, "DEL from the cache makes no API call")
        k.expectClean(["cluster-net", "dra-vf"])
    }
}
