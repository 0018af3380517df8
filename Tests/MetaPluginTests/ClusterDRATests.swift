// DRA devices through resource.k8s.io/v1 (Multus v4.3.1's draclient), against the scripted API:
// which calls are made, what is skipped, what fails, and when the kubelet's claim names serve.
import CNI
import KubeClient
@testable import MetaPlugin
import Testing
import TestSupport

private let sriov = "sriovnetwork.k8snetworkplumbingwg.io"
private let vfPool = "sriovnetwork.k8snetworkplumbingwg.io/vf-pool-a"

private func fixture(_ name: String) throws -> JSONValue { try JSONValue.parse(readFile(testdata("dra/\(name)"))) }
private func claim(_ name: String) throws -> ResourceClaim { try ResourceClaim(json: fixture(name)) }
private func slices() throws -> [ResourceSlice] {
    try (fixture("slices.json").objectValue?["items"]?.arrayValue ?? []).map(ResourceSlice.init(json:))
}

/// The pod `name` on node-1 with claims named `claims` (one per pod claim `net0`, `net1`, ...).
private func pod(_ name: String = "web-dra", claims: [String], node: String = "node-1") -> PodIdentity {
    PodIdentity(name: name, namespace: "default", uid: "uid-\(name)", containers: ["app"], nodeName: node,
                claims: .success(PodClaims(claims: claims.enumerated().map { PodClaim(reference: "net\($0.offset)", claimName: $0.element) })))
}

private func api(claims: [ResourceClaim], failure: KubeError? = nil) throws -> ScriptedKubeAPI {
    ScriptedKubeAPI(.init(claims: Dictionary(uniqueKeysWithValues: claims.map { ($0.metadata.name, $0) }), slices: try slices(), draFailure: failure))
}

private func ids(_ answer: ClusterDRA.Answer) -> [String: [String]] {
    guard case .served(let units) = answer else { return [:] }
    var devices = PodDevices(reporter: "")
    for unit in units { devices.append(unit) }
    return devices.grants.mapValues { $0.map(\.id) }
}

@Suite("DRA through resource.k8s.io/v1")
struct ClusterDRATests {
    @Test("a claim with a VF and a GPU: the VF by its resourceName attribute, the GPU skipped and noted; one list per driver")
    func vfAndGPU() throws {
        let api = try api(claims: [claim("claim-vf-and-gpu.json")])
        let diagnostics = Diagnostics()
        let identity = pod(claims: ["web-dra-net-x7k2p"])
        let answer = try ClusterDRA(api: api, diagnostics: diagnostics).devices(of: identity, claims: identity.claims.get())
        guard case .served(let units) = answer else { Issue.record("not served: \(answer)"); return }
        #expect(units.map { $0.map(\.name) } == [[vfPool]])
        #expect(units.first?.first?.grant == DeviceGrant(id: "0000:08:00.1", origin: .draAllocation(DRADevice(
            claim: "default/web-dra-net-x7k2p", allocation: DeviceAllocation(request: "vf", driver: sriov, pool: "node-1", device: "pf0-vf1")))),
                "the newest generation's deviceID, this node's, with the allocation result kept")
        #expect(api.calls == ["GET resourceclaim default/web-dra-net-x7k2p", "LIST resourceslices \(sriov) node-1", "LIST resourceslices gpu.nvidia.com node-1"])
        #expect(diagnostics.all == ["DRA device gpu.nvidia.com/node-1/gpu-0 of ResourceClaim default/web-dra-net-x7k2p is skipped: it has no k8s.cni.cncf.io/deviceID attribute (not a network device)"])
    }

    @Test("a claim's IDs of one name are sorted within the claim; claims follow in the pod's order; a driver's slices are listed once")
    func claimsInOrderEachSorted() throws {
        let api = try api(claims: [claim("claim-vf-and-gpu.json"), claim("claim-two-vfs.json")])
        let identity = pod(claims: ["web-dra-two-vfs-q9m4t", "web-dra-net-x7k2p"])
        let answer = try ClusterDRA(api: api).devices(of: identity, claims: identity.claims.get())
        #expect(ids(answer) == [vfPool: ["0000:08:00.2", "0000:08:00.3", "0000:08:00.1"]], "vf3 was allocated before vf2")
        #expect(api.calls.filter { $0.hasPrefix("LIST") } == ["LIST resourceslices \(sriov) node-1", "LIST resourceslices gpu.nvidia.com node-1"])
    }

    @Test("a device without a resourceName, or in no slice of the node, is skipped and noted")
    func unmappedDevicesAreSkipped() throws {
        var json = try fixture("claim-two-vfs.json").objectValue ?? [:]
        let results: JSONValue = [["request": "vfs", "driver": .string(sriov), "pool": "node-1", "device": "pf0-vf4"],
                                  ["request": "vfs", "driver": .string(sriov), "pool": "node-1", "device": "pf0-vf9"]]
        json["status"] = ["allocation": ["devices": ["results": results]]]
        let api = try api(claims: [ResourceClaim(json: .object(json))])
        let diagnostics = Diagnostics()
        let identity = pod(claims: ["web-dra-two-vfs-q9m4t"])
        #expect(ids(try ClusterDRA(api: api, diagnostics: diagnostics).devices(of: identity, claims: identity.claims.get())) == [:])
        #expect(diagnostics.all == [
            "DRA device \(sriov)/node-1/pf0-vf4 of ResourceClaim default/web-dra-two-vfs-q9m4t is skipped: it has no k8s.cni.cncf.io/resourceName attribute for a NAD to name",
            "DRA device \(sriov)/node-1/pf0-vf9 of ResourceClaim default/web-dra-two-vfs-q9m4t is skipped: no ResourceSlice of driver \(sriov) on node node-1 lists it",
        ])
    }

    @Test("a claim not yet allocated fails, naming it, as something to try again")
    func unallocatedClaimFails() throws {
        let api = try api(claims: [claim("claim-unallocated.json")])
        let identity = pod(claims: ["web-dra-pending-r2d8w"])
        #expect(throws: DeviceInfoError(path: "ResourceClaim default/web-dra-pending-r2d8w", problem: "has no device allocation (status.allocation) yet", isTransient: true)) {
            try ClusterDRA(api: api).devices(of: identity, claims: identity.claims.get())
        }
    }

    @Test("resource.k8s.io/v1 not served, or not allowed: the kubelet's claim names are the fallback; a missing claim or a busy server fails",
          arguments: [
              (KubeError.notServed(server: "s", call: "GET resourceclaim", message: "the server could not find the requested resource"), nil),
              (KubeError.http(server: "s", call: "GET resourceclaim", status: 403, message: "forbidden"), nil),
              (KubeError.http(server: "s", call: "GET resourceclaim", status: 404, message: "not found"), false),
              (KubeError.http(server: "s", call: "GET resourceclaim", status: 503, message: "busy"), true),
          ] as [(KubeError, Bool?)])
    func fallBackOrFail(_ failure: KubeError, transient: Bool?) throws {
        let api = try api(claims: [claim("claim-vf-and-gpu.json")], failure: failure)
        let identity = pod(claims: ["web-dra-net-x7k2p"])
        let claims = try identity.claims.get()
        let outcome = Result { () throws(DeviceInfoError) in try ClusterDRA(api: api).devices(of: identity, claims: claims) }
        switch (outcome, transient) {
        case (.success(.unavailable(let reason)), nil):
            #expect(reason.contains(failure.description))
        case (.failure(let error), let transient?):
            #expect(error.path == "ResourceClaim default/web-dra-net-x7k2p" && error.isTransient == transient)
        default:
            Issue.record("unexpected \(outcome)")
        }
    }

    @Test("the extended-resource claim: keyed by the extended resource; a device whose resourceName differs fails")
    func extendedResourceClaim() throws {
        let api = try api(claims: [claim("claim-two-vfs.json")])
        func extended(_ resource: String) -> PodIdentity {
            var identity = pod(claims: [])
            identity.claims = .success(PodClaims(extended: ExtendedResourceClaim(claimName: "web-dra-two-vfs-q9m4t", mappings: [
                .init(containerName: "app", resourceName: resource, requestName: "vfs")])))
            return identity
        }
        let good = extended(vfPool)
        #expect(ids(try ClusterDRA(api: api).devices(of: good, claims: good.claims.get())) == [vfPool: ["0000:08:00.2", "0000:08:00.3"]])
        let bad = extended("intel.com/sriov")
        let error = #expect(throws: DeviceInfoError.self) { try ClusterDRA(api: api).devices(of: bad, claims: bad.claims.get()) }
        #expect(error?.description == "ResourceClaim default/web-dra-two-vfs-q9m4t: device \(sriov)/node-1/pf0-vf3 (request vfs, extended resource intel.com/sriov): "
            + "its k8s.cni.cncf.io/resourceName attribute is \"\(vfPool)\", the extended resource is intel.com/sriov")
    }
}

@Suite("Device sources: the node's and the cluster's DRA")
struct PodDeviceSourcesTests {
    /// A node source answering with one device-plugin device and a claim by name, as pod-resources would.
    struct Node: DeviceSource {
        func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices {
            var devices = PodDevices(reporter: "the kubelet's pod-resources API (/s)")
            devices.append(unit: [DeviceGrant(id: "0000:05:00.1", origin: .devicePlugin(socket: "/s"))], to: vfPool)
            devices.append(unit: [DeviceGrant(id: "0000:08:00.1", origin: .draClaim(socket: "/s"))], to: "web-dra-net-x7k2p")
            return devices
        }
    }

    @Test("served: the claim names give way to resourceName attributes, after the device plugin's; the note says which path served")
    func servedReplacesClaimNames() throws {
        let api = try api(claims: [claim("claim-vf-and-gpu.json")])
        let diagnostics = Diagnostics()
        let source = PodDeviceSources(node: Node(), cluster: ClusterDRA(api: api), diagnostics: diagnostics)
        let devices = try source.devices(of: pod(claims: ["web-dra-net-x7k2p"]))
        #expect(devices.grants.mapValues { $0.map(\.id) } == [vfPool: ["0000:05:00.1", "0000:08:00.1"]])
        #expect(devices.claimNamesNotKeys == ["web-dra-net-x7k2p", "net0"])
        #expect(diagnostics.all == ["DRA devices of pod default/web-dra (ResourceClaims web-dra-net-x7k2p): from resource.k8s.io/v1, by their k8s.cni.cncf.io/resourceName attribute (as Multus v4.3.1)"])
        var allocator = DeviceAllocator(source: source, pod: pod(claims: ["web-dra-net-x7k2p"]))
        let error = #expect(throws: DeviceAllocationError.self) { try allocator.next(resourceName: "web-dra-net-x7k2p", for: "default/old-nad") }
        #expect(error?.description.hasSuffix("; web-dra-net-x7k2p is a ResourceClaim of the pod: with resource.k8s.io/v1 a NAD's resourceName names its devices' "
            + "k8s.cni.cncf.io/resourceName attribute, not the claim (as in Multus v4.3.1)") == true, "\(error?.description ?? "")")
    }

    @Test("not served: the kubelet's claim names stay, and the note says why")
    func fallBackKeepsClaimNames() throws {
        let api = try api(claims: [], failure: .notServed(server: "https://api", call: "GET resourceclaim default/web-dra-net-x7k2p", message: "the server could not find the requested resource"))
        let diagnostics = Diagnostics()
        let devices = try PodDeviceSources(node: Node(), cluster: ClusterDRA(api: api), diagnostics: diagnostics).devices(of: pod(claims: ["web-dra-net-x7k2p"]))
        #expect(devices.grants.mapValues { $0.map(\.id) } == [vfPool: ["0000:05:00.1"], "web-dra-net-x7k2p": ["0000:08:00.1"]])
        #expect(diagnostics.all == ["DRA devices of pod default/web-dra (ResourceClaims web-dra-net-x7k2p): by claim name from the kubelet's pod-resources API (/s) (as Multus v4.3.0), "
            + "because the API server does not serve resource.k8s.io/v1 (GET resourceclaim default/web-dra-net-x7k2p on https://api: HTTP 404: the server could not find the requested resource (the server does not serve this API))"])
    }

    @Test("a pod without claims asks the API nothing")
    func noClaimsNoCalls() throws {
        let api = try api(claims: [])
        _ = try PodDeviceSources(node: Node(), cluster: ClusterDRA(api: api), diagnostics: nil).devices(of: pod(claims: []))
        #expect(api.calls == [])
    }
}

@Suite("A pod's ResourceClaims")
struct PodClaimsTests {
    func pod(_ spec: JSONObject, _ status: JSONObject) throws -> Pod {
        try Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"], "spec": .object(spec), "status": .object(status)])
    }

    @Test("generated claims from status, claims made beforehand from spec, in spec order, each once; init containers first")
    func claimsAndContainers() throws {
        let p = try pod(["nodeName": "node-1",
                         "initContainers": [["name": "setup"]], "containers": [["name": "app"], ["name": "sidecar"]],
                         "resourceClaims": [["name": "gpu", "resourceClaimTemplateName": "t"], ["name": "shared", "resourceClaimName": "rack-nic"],
                                            ["name": "net", "resourceClaimTemplateName": "t2"], ["name": "again", "resourceClaimName": "rack-nic"],
                                            ["name": "unneeded", "resourceClaimTemplateName": "t3"]]],
                        ["resourceClaimStatuses": [["name": "net", "resourceClaimName": "p-net-abc"], ["name": "gpu", "resourceClaimName": "p-gpu-xyz"],
                                                   ["name": "unneeded"]],
                         "extendedResourceClaimStatus": ["resourceClaimName": "p-extended-resources-q",
                                                         "requestMappings": [["containerName": "app", "resourceName": "intel.com/sriov", "requestName": "container-0-request-0"]]]])
        #expect(try p.claims() == PodClaims(
            claims: [PodClaim(reference: "gpu", claimName: "p-gpu-xyz"), PodClaim(reference: "shared", claimName: "rack-nic"), PodClaim(reference: "net", claimName: "p-net-abc")],
            extended: ExtendedResourceClaim(claimName: "p-extended-resources-q", mappings: [.init(containerName: "app", resourceName: "intel.com/sriov", requestName: "container-0-request-0")])))
        #expect(p.containerNames == ["setup", "app", "sidecar"])
        #expect(p.nodeName == "node-1")
    }

    @Test("a claim status of the wrong kind is an error naming the field")
    func malformedClaims() throws {
        let p = try pod([:], ["resourceClaimStatuses": [["name": "net", "resourceClaimName": 7]]])
        #expect(throws: SpecError.invalidField(path: "status.resourceClaimStatuses[0].resourceClaimName", reason: "must be a string, found a number")) { try p.claims() }
    }
}

@Suite("A cached DRA device")
struct CachedDRADeviceTests {
    /// What a later write of the claim's status.devices (and its removal on DEL) needs to name
    /// the entry: claim, driver, pool, device and shareID survive the cache.
    @Test("claim, request, driver, pool, device and shareID round-trip through the cache entry; a device-plugin device has none")
    func roundTrip() throws {
        let dra = DRADevice(claim: "default/web-dra-net-x7k2p", allocation: DeviceAllocation(
            request: "vf", driver: sriov, pool: "node-1", device: "pf0-vf1", shareID: "4f1c2a9e-0b7d-4e3a-9c5f-1d2e3f4a5b6c"))
        let devices = [AttachedDevice(resourceName: vfPool, deviceID: "0000:08:00.1", infoFile: "/run/devinfo/x", dra: dra),
                       AttachedDevice(resourceName: "intel.com/sriov", deviceID: "0000:05:00.1", infoFile: "/run/devinfo/y")]
        for device in devices {
            #expect(try AttachedDevice(fields: JSONFields(device.json, path: "device")) == device)
        }
        #expect(devices[0].json.objectValue?["dra"]?.objectValue?["shareID"] == "4f1c2a9e-0b7d-4e3a-9c5f-1d2e3f4a5b6c")
        #expect(devices[1].json.objectValue?["dra"] == nil)
    }
}
