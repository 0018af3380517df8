// Device IDs for NADs annotated k8s.v1.cni.cncf.io/resourceName, from a real gRPC pod-resources
// server (grpcio, Tests/podresources/server.py) and from the checkpoint, through real plugins in
// a real netns.
import CNI
import MetaPlugin
import Testing
import TestSupport

private let sriov = "intel.com/sriov_netdevice"
private let checkpoint = testdata("devices/kubelet_internal_checkpoint")

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

    @Test("no socket: the checkpoint serves, and the log says so")
    func checkpointWithoutSocket() throws {
        let k = try KubeSandbox()
        let devices = k.devicePaths()
        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(try k.cachedDeviceIDs() == [nil, "0000:03:02.0", "0000:03:02.1"])
        #expect(add.diagnostics.filter { $0.contains("): device ") } == [
            "network default/sriov-a (interface net1): device 0000:03:02.0 of \(sriov) (device plugin, from the kubelet's checkpoint \(checkpoint))",
            "network default/sriov-b (interface net2): device 0000:03:02.1 of \(sriov) (device plugin, from the kubelet's checkpoint \(checkpoint))",
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
}
