// Device IDs for NADs annotated k8s.v1.cni.cncf.io/resourceName, from a real gRPC pod-resources
// server (grpcio, Tests/podresources/server.py) and from the checkpoint, through real plugins in
// a real netns.
import CNI
import MetaPlugin
import Testing
import TestSupport

private let sriov = "intel.com/sriov_netdevice"
private let checkpoint = testdata("devices/kubelet_internal_checkpoint")
/// What the DRA SR-IOV driver's devices carry as k8s.cni.cncf.io/resourceName (testdata/dra).
private let vfPool = "sriovnetwork.k8snetworkplumbingwg.io/vf-pool-a"
private let sriovDriver = "sriovnetwork.k8snetworkplumbingwg.io"

/// What the kubelet reports for pod web-sriov: two VFs, in its order.
private let kubeletPods: JSONValue = [
    ["name": "web-sriov", "namespace": "default", "containers": [
        ["name": "app", "devices": [["resourceName": .string(sriov), "deviceIds": ["0000:05:00.1", "0000:05:00.2"]]]],
    ]],
    ["name": "web-dra", "namespace": "default", "containers": [
        ["name": "app", "dynamicResources": [["claimName": "rdma-claim", "claimNamespace": "default", "claimResources": [
            ["cdiDevices": [["name": "nvidia.com/net=0000:08:00.1"]], "driverName": "net.nvidia.com", "poolName": "node-1", "deviceName": "vf-1"],
        ]]]],
    ]],
    // The pods of testdata/dra's claims, as the kubelet lists them (Multus v4.3.0's claim-name path).
    ["name": "web-dra-v1", "namespace": "default", "containers": [
        ["name": "app", "dynamicResources": [["claimName": "web-dra-net-x7k2p", "claimNamespace": "default", "claimResources": [
            ["cdiDevices": [["name": "k8s.sriovnetwork.k8snetworkplumbingwg.io/vf=0000:08:00.1"]], "driverName": .string(sriovDriver), "poolName": "node-1", "deviceName": "pf0-vf1"],
            ["cdiDevices": [["name": "k8s.gpu.nvidia.com/gpu=GPU-7f3c1d2e"]], "driverName": "gpu.nvidia.com", "poolName": "node-1", "deviceName": "gpu-0"],
        ]]]],
    ]],
    ["name": "web-dra-two", "namespace": "default", "containers": [["name": "app"]]],
    ["name": "web-dra-pending", "namespace": "default", "containers": [["name": "app"]]],
]

/// A pod whose two containers got two VFs each, listed out of order (Multus v4.3.0 sorted all
/// four pod-wide, v4.3.1 sorts each container's and keeps the containers' order).
private let twoContainerPods: JSONValue = [
    ["name": "web-sriov", "namespace": "default", "containers": [
        ["name": "app", "devices": [["resourceName": .string(sriov), "deviceIds": ["0000:05:00.4", "0000:05:00.3"]]]],
        ["name": "sidecar", "devices": [["resourceName": .string(sriov), "deviceIds": ["0000:05:00.2", "0000:05:00.1"]]]],
    ]],
]

extension KubeSandbox {
    /// Device paths for this test: the fixture checkpoint, a device-info directory of its own, and
    /// `socket` (by default one that does not exist).
    func devicePaths(socket: String? = nil) -> DevicePaths {
        DevicePaths(checkpoint: checkpoint, infoDirectory: box.root + "/devinfo", podResourcesSocket: socket ?? box.root + "/no-kubelet.sock")
    }

    /// The `deviceID` each delegate's config carried, from the cache entry, in plan order.
    func cachedDeviceIDs() throws -> [String?] {
        let cache = try JSONValue.parse(readFile("\(box.cniDir)/attachments/\(box.containerID).json"))
        return cache["attachments"]?.arrayValue?.map { $0["network"]?["deviceID"]?.stringValue } ?? []
    }

    /// A ptp NAD on subnet 10.N.`subnet`.0/24 drawing from `resourceName`.
    func putDeviceNAD(_ name: String, resourceName: String, subnet: Int) throws {
        let config: JSONValue = ["cniVersion": "1.0.0", "name": .string(name), "type": "ptp",
                                 "ipam": ["type": "host-local", "dataDir": .string(box.ipamDir), "subnet": .string("10.\(box.number).\(subnet).0/24")]]
        try server.put(["apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                        "metadata": ["name": .string(name), "namespace": "default", "annotations": ["k8s.v1.cni.cncf.io/resourceName": .string(resourceName)]],
                        "spec": ["config": .string(config.serialized())]])
    }

    func putPod(_ name: String, networks: String) throws {
        try server.put(["apiVersion": "v1", "kind": "Pod",
                        "metadata": ["name": .string(name), "namespace": "default", "uid": .string("uid-\(name)"),
                                     "annotations": ["k8s.v1.cni.cncf.io/networks": .string(networks)]],
                        "spec": ["nodeName": "node-1", "containers": [["name": "app", "image": "pause"]]]])
    }

    /// A pod on node-1 whose claim `net`, made from a template, is the ResourceClaim `claim`
    /// (testdata/dra), as the resource claim controller records it in the pod's status.
    func putDRAPod(_ name: String, networks: String, claim: String) throws {
        try server.put(["apiVersion": "v1", "kind": "Pod",
                        "metadata": ["name": .string(name), "namespace": "default", "uid": .string("uid-\(name)"),
                                     "annotations": ["k8s.v1.cni.cncf.io/networks": .string(networks)]],
                        "spec": ["nodeName": "node-1", "resourceClaims": [["name": "net", "resourceClaimTemplateName": "vf-and-gpu"]],
                                 "containers": [["name": "app", "image": "pause", "resources": ["claims": [["name": "net"]]]]]],
                        "status": ["phase": "Pending", "resourceClaimStatuses": [["name": "net", "resourceClaimName": .string(claim)]]]])
    }

    /// The claims and slices of testdata/dra.
    func putDRAObjects() throws {
        for file in ["claim-vf-and-gpu.json", "claim-two-vfs.json", "claim-unallocated.json", "slices.json"] {
            try server.put(file: testdata("dra/\(file)"))
        }
    }

    /// The resource.k8s.io requests since the last `takeRequests`, with their queries.
    func draRequests() throws -> [String] {
        try server.requests().filter { $0.path.hasPrefix("/apis/resource.k8s.io/") }
            .map { "\($0.method) \($0.path)\($0.query.isEmpty ? "" : "?" + $0.query) \($0.status)" }
    }

    /// The `device` each attachment was cached with, in plan order.
    func cachedDevices() throws -> [JSONValue?] {
        let cache = try JSONValue.parse(readFile("\(box.cniDir)/attachments/\(box.containerID).json"))
        return cache["attachments"]?.arrayValue?.map { $0["device"] } ?? []
    }
}

@Suite("Device IDs: pod-resources, DRA, checkpoint", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct DeviceSourceTests {
    @Test("two NADs of one resource get the kubelet's two IDs in order from pod-resources Get, in one call; the log names the source")
    func podResourcesGet() throws {
        let k = try KubeSandbox()
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let devices = k.devicePaths(socket: kubelet.socket)
        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:05:00.1", "0000:05:00.2"], "pod-resources, not the checkpoint's 0000:03:02.x")
        #expect(try kubelet.calls() == ["Get"], "one call for both networks")
        let source = "device plugin, from the kubelet's pod-resources API (\(kubelet.socket))"
        #expect(add.diagnostics.filter { $0.contains("): device ") } == [
            "network default/sriov-a (interface net1): device 0000:05:00.1 of \(sriov) (\(source))",
            "network default/sriov-b (interface net2): device 0000:05:00.2 of \(sriov) (\(source))",
        ])
        #expect(k.multus("DEL", pod: "web-sriov", devices: devices).exitCode == 0)
        #expect(try kubelet.calls() == ["Get"], "DEL from the cache asks nothing")
        k.expectClean(["cluster-net", "sriov-a", "sriov-b"])
    }

    @Test("Get answering UNIMPLEMENTED (a kubelet before 1.27): List serves, once", arguments: [PodResourcesServer.GetMode.unimplemented, .disabled])
    func listWhenGetIsNotServed(mode: PodResourcesServer.GetMode) throws {
        let k = try KubeSandbox()
        let kubelet = try PodResourcesServer(pods: kubeletPods, get: mode)
        let devices = k.devicePaths(socket: kubelet.socket)
        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:05:00.1", "0000:05:00.2"])
        #expect(try kubelet.calls() == (mode == .disabled ? ["Get", "List"] : ["List"]))
        #expect(k.multus("DEL", pod: "web-sriov", devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "sriov-a", "sriov-b"])
    }

    /// Multus v4.3.1 (#1539): a container's devices are its own; v4.3.0 sorted the pod's four
    /// IDs as one list, so sriov-a got sidecar's .1 while app's PCIDEVICE_* variable said .3.
    @Test("two containers' VFs: each container's sorted, containers in the kubelet's order, from Get and from List", arguments: [PodResourcesServer.GetMode.serve, .unimplemented])
    func containerOrder(mode: PodResourcesServer.GetMode) throws {
        let k = try KubeSandbox()
        try k.putDeviceNAD("sriov-c", resourceName: sriov, subnet: 11)
        try k.putDeviceNAD("sriov-d", resourceName: sriov, subnet: 12)
        try k.putPod("web-sriov", networks: "sriov-a,sriov-b,sriov-c,sriov-d")
        let kubelet = try PodResourcesServer(pods: twoContainerPods, get: mode)
        let devices = k.devicePaths(socket: kubelet.socket)
        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:05:00.3", "0000:05:00.4", "0000:05:00.1", "0000:05:00.2"])
        #expect(k.multus("DEL", pod: "web-sriov", devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "sriov-a", "sriov-b", "sriov-c", "sriov-d"])
    }

    @Test("a kubelet refusing the first calls with RESOURCE_EXHAUSTED (its rate limit): ADD retries within the deadline and succeeds")
    func rateLimitedKubelet() throws {
        let k = try KubeSandbox()
        let kubelet = try PodResourcesServer(pods: kubeletPods, exhausted: 3)
        let devices = k.devicePaths(socket: kubelet.socket)
        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:05:00.1", "0000:05:00.2"])
        #expect(try kubelet.calls() == ["Get", "Get", "Get", "Get"])
        #expect(k.multus("DEL", pod: "web-sriov", devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "sriov-a", "sriov-b"])
    }

    /// The checkpoint's containers in the pod's order (here the spec names neither, so the
    /// file's): web's .1, then sidecar's .0, where Multus v4.3.0 sorted them pod-wide.
    @Test("no socket: the checkpoint serves, container by container, and the log says so")
    func checkpointWithoutSocket() throws {
        let k = try KubeSandbox()
        let devices = k.devicePaths()
        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:03:02.1", "0000:03:02.0"])
        #expect(add.diagnostics.filter { $0.contains("): device ") } == [
            "network default/sriov-a (interface net1): device 0000:03:02.1 of \(sriov) (device plugin, from the kubelet's checkpoint \(checkpoint))",
            "network default/sriov-b (interface net2): device 0000:03:02.0 of \(sriov) (device plugin, from the kubelet's checkpoint \(checkpoint))",
        ])
        #expect(k.multus("DEL", pod: "web-sriov", devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "sriov-a", "sriov-b"])
    }

    @Test("a NAD whose resourceName names a DRA claim gets the ID after '=' of the claim's CDI device")
    func draClaim() throws {
        let k = try KubeSandbox()
        try k.putDeviceNAD("dra-net", resourceName: "rdma-claim", subnet: 10)
        try k.putPod("web-dra", networks: "dra-net")
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let devices = k.devicePaths(socket: kubelet.socket)
        let add = k.multus("ADD", pod: "web-dra", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["net1"] == ["10.\(k.box.number).10.2/24"])
        #expect(try k.cachedDeviceIDs() == [nil, "0000:08:00.1"])
        #expect(add.diagnostics.contains(
            "network default/dra-net (interface net1): device 0000:08:00.1 of rdma-claim (DRA claim, from the kubelet's pod-resources API (\(kubelet.socket)))"))
        #expect(k.multus("DEL", pod: "web-dra", devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "dra-net"])
    }

    @Test("a third NAD of a resource the kubelet gave two devices fails ADD naming it, the resource and both IDs; nothing is attached")
    func noDeviceLeft() throws {
        let k = try KubeSandbox()
        try k.putDeviceNAD("sriov-c", resourceName: sriov, subnet: 11)
        try k.putPod("web-sriov", networks: "sriov-a,sriov-b,sriov-c")
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let add = k.multus("ADD", pod: "web-sriov", devices: k.devicePaths(socket: kubelet.socket))
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg == "network-attachment-definition default/sriov-c: no device of resource \(sriov) is left for network default/sriov-c: "
            + "the kubelet's pod-resources API (\(kubelet.socket)) reports 2 (0000:05:00.1, 0000:05:00.2), all taken by earlier networks (default/sriov-a, default/sriov-b)")
        k.expectClean(["cluster-net", "sriov-a", "sriov-b", "sriov-c"])

        // DEL without a cache entry tears down from the config, and the network short of a device does not stop it.
        let del = k.multus("DEL", pod: "web-sriov", devices: k.devicePaths(socket: kubelet.socket))
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(del.diagnostics.filter { $0.contains("without a device") } == [
            "network default/sriov-c (interface net3) is torn down without a device: no device of resource \(sriov) is left for network default/sriov-c: "
                + "the kubelet's pod-resources API (\(kubelet.socket)) reports 2 (0000:05:00.1, 0000:05:00.2), all taken by earlier networks (default/sriov-a, default/sriov-b)",
        ])
        #expect(try kubelet.calls() == ["Get", "Get"], "one call for ADD, one for DEL's plan")
    }

    @Test("a kubelet that is restarting (socket there, nothing listening) fails ADD with try-again-later, naming the socket; nothing is attached")
    func kubeletRestarting() throws {
        let k = try KubeSandbox()
        let socket = k.box.root + "/kubelet.sock"
        try bindWithoutListening(socket)
        let add = k.multus("ADD", pod: "web-sriov", devices: k.devicePaths(socket: socket))
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.code == .tryAgainLater, "the runtime retries the sandbox once the kubelet is back")
        #expect(error.msg == "network-attachment-definition default/sriov-a: devices of resource \(sriov): \(socket): kubelet pod-resources API: Get: connect: Connection refused")
        k.expectClean(["cluster-net", "sriov-a", "sriov-b"])
    }

    // MARK: DRA through resource.k8s.io/v1 (Multus v4.3.1)

    @Test("a claim with an SR-IOV VF and a GPU: the NAD of the VF's resourceName attribute gets its deviceID, the GPU is skipped, the log says resource.k8s.io/v1 served",
          arguments: [TestRole.multus, .swiftMultus])
    func draVFAndGPU(role: TestRole) throws {
        let k = try KubeSandbox()
        try k.server.addToken("dra-role", role: role)
        let config = k.config(kubeconfig: try k.server.kubeconfig(in: k.box.root, token: "dra-role", fileName: "dra-role"))
        try k.putDRAObjects()
        try k.putDeviceNAD("dra-vf", resourceName: vfPool, subnet: 10)
        try k.putDRAPod("web-dra-v1", networks: "dra-vf", claim: "web-dra-net-x7k2p")
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let devices = k.devicePaths(socket: kubelet.socket)
        try k.server.clearLog()
        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(k.box.podInterfaces()["net1"] == ["10.\(k.box.number).10.2/24"])
        #expect(try k.cachedDeviceIDs() == [nil, "0000:08:00.1"], "generation 2 of node-1's pool: not node-2's, not the stale generation's")
        #expect(try k.draRequests() == [
            "GET /apis/resource.k8s.io/v1/namespaces/default/resourceclaims/web-dra-net-x7k2p 200",
            "GET /apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3Dnode-1%2Cspec.driver%3D\(sriovDriver) 200",
            "GET /apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3Dnode-1%2Cspec.driver%3Dgpu.nvidia.com 200",
        ])
        #expect(add.diagnostics.contains("DRA devices of pod default/web-dra-v1 (ResourceClaims web-dra-net-x7k2p): from resource.k8s.io/v1, by their k8s.cni.cncf.io/resourceName attribute (as Multus v4.3.1)"))
        #expect(add.diagnostics.contains("DRA device gpu.nvidia.com/node-1/gpu-0 of ResourceClaim default/web-dra-net-x7k2p is skipped: it has no k8s.cni.cncf.io/deviceID attribute (not a network device)"))
        #expect(add.diagnostics.contains("network default/dra-vf (interface net1): device 0000:08:00.1 of \(vfPool) (DRA device \(sriovDriver)/node-1/pf0-vf1 of ResourceClaim default/web-dra-net-x7k2p request vf, from resource.k8s.io/v1)"))
        #expect(try k.cachedDevices().last??["dra"] == ["claim": "default/web-dra-net-x7k2p", "request": "vf", "driver": .string(sriovDriver), "pool": "node-1", "device": "pf0-vf1"],
                "the allocation result stays with the attachment, for DEL")
        #expect(try kubelet.calls() == ["Get"], "device plugins still come from the kubelet")
        try k.server.clearLog()
        #expect(k.multus("DEL", pod: "web-dra-v1", config: config, devices: devices).exitCode == 0)
        #expect(try k.draRequests() == [], "DEL from the cache reads no claim")
        k.expectClean(["cluster-net", "dra-vf"])
    }

    @Test("two NADs of one resource from one claim: each gets one of its VFs, in sorted order; the driver's slices are listed once")
    func draTwoNADsOneClaim() throws {
        let k = try KubeSandbox()
        try k.putDRAObjects()
        try k.putDeviceNAD("dra-vf", resourceName: vfPool, subnet: 10)
        try k.putDeviceNAD("dra-vf-b", resourceName: vfPool, subnet: 11)
        try k.putDRAPod("web-dra-two", networks: "dra-vf,dra-vf-b", claim: "web-dra-two-vfs-q9m4t")
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let devices = k.devicePaths(socket: kubelet.socket)
        try k.server.clearLog()
        let add = k.multus("ADD", pod: "web-dra-two", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:08:00.2", "0000:08:00.3"], "the claim allocated vf3 first; its IDs are sorted")
        #expect(try k.draRequests().count == 2, "one claim, one list for its one driver")
        #expect(k.multus("DEL", pod: "web-dra-two", devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "dra-vf", "dra-vf-b"])
    }

    @Test("a claim not yet allocated fails ADD naming it, with try-again-later; nothing is attached")
    func draClaimNotAllocated() throws {
        let k = try KubeSandbox()
        try k.putDRAObjects()
        try k.putDeviceNAD("dra-vf", resourceName: vfPool, subnet: 10)
        try k.putDRAPod("web-dra-pending", networks: "dra-vf", claim: "web-dra-pending-r2d8w")
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let add = k.multus("ADD", pod: "web-dra-pending", devices: k.devicePaths(socket: kubelet.socket))
        let error = try #require(add.error, "\(add.stdout)")
        #expect(error.code == .tryAgainLater)
        #expect(error.msg == "network-attachment-definition default/dra-vf: devices of resource \(vfPool): ResourceClaim default/web-dra-pending-r2d8w: has no device allocation (status.allocation) yet")
        k.expectClean(["cluster-net", "dra-vf"])
    }

    /// Before Kubernetes 1.34, or under Multus v4.3.0's ClusterRole, the kubelet's claim names
    /// serve (every CDI device of the claim, the GPU's too), and the log says why.
    @Test("resource.k8s.io/v1 not served, or Multus v4.3.0's role: DRA devices by claim name from the kubelet, as Multus v4.3.0", arguments: ["unserved", "role"])
    func draClaimNameFallback(_ why: String) throws {
        let k = try KubeSandbox()
        try k.putDRAObjects()
        var config = k.config()
        if why == "unserved" {
            try k.server.unserve(["resource.k8s.io/v1"])
        } else {
            try k.server.addToken("old-role", role: .multus430)
            config = k.config(kubeconfig: try k.server.kubeconfig(in: k.box.root, token: "old-role", fileName: "old-role"))
        }
        try k.putDeviceNAD("dra-by-claim", resourceName: "web-dra-net-x7k2p", subnet: 10)
        try k.putDRAPod("web-dra-v1", networks: "dra-by-claim", claim: "web-dra-net-x7k2p")
        let kubelet = try PodResourcesServer(pods: kubeletPods)
        let devices = k.devicePaths(socket: kubelet.socket)
        let add = k.multus("ADD", pod: "web-dra-v1", config: config, devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:08:00.1"])
        let reason = why == "unserved" ? "because the API server does not serve resource.k8s.io/v1" : "because the role does not allow reading ResourceClaim default/web-dra-net-x7k2p"
        #expect(add.diagnostics.contains { $0.hasPrefix("DRA devices of pod default/web-dra-v1 (ResourceClaims web-dra-net-x7k2p): by claim name from the kubelet's pod-resources API (\(kubelet.socket)) (as Multus v4.3.0), \(reason)") },
                "\(add.diagnostics)")
        #expect(add.diagnostics.contains("network default/dra-by-claim (interface net1): device 0000:08:00.1 of web-dra-net-x7k2p (DRA claim, from the kubelet's pod-resources API (\(kubelet.socket)))"))
        #expect(k.multus("DEL", pod: "web-dra-v1", config: config, devices: devices).exitCode == 0)
        k.expectClean(["cluster-net", "dra-by-claim"])
    }
}
