// Which source a pod's devices come from, and how pod-resources answers become device grants.
import CNI
@testable import MetaPlugin
import PodResources
import Testing
import TestSupport

@Suite struct NodeDevicesTests {
    static let socket = "/run/kubelet.sock"

    @Test func devicePluginsAndClaimsContainerByContainerEachSorted() {
        let pod = PodResources(name: "web", namespace: "default", containers: [
            ContainerResources(name: "app", devices: [ContainerDevices(resourceName: "intel.com/sriov", deviceIDs: ["0000:05:00.2", "0000:05:00.1"])],
                               dynamicResources: [DynamicResource(claimName: "rdma", claimNamespace: "default", claimResources: [
                                   ClaimResource(cdiDevices: ["nvidia.com/net=0000:08:00.1", "no-id", "a=b=c", "x="]),
                                   ClaimResource(cdiDevices: ["nvidia.com/net=0000:08:00.0"]),
                               ])]),
            ContainerResources(name: "sidecar", devices: [ContainerDevices(resourceName: "intel.com/sriov", deviceIDs: ["0000:05:00.0"])]),
        ])
        let devices = NodeDevices.devices(pod, socket: Self.socket)
        let plugin = DeviceOrigin.devicePlugin(socket: Self.socket), claim = DeviceOrigin.draClaim(socket: Self.socket)
        // Each container's IDs sorted, containers in order (Multus v4.3.1): app's .1 and .2, then sidecar's .0.
        #expect(devices.grants == [
            "intel.com/sriov": [DeviceGrant(id: "0000:05:00.1", origin: plugin), DeviceGrant(id: "0000:05:00.2", origin: plugin),
                                DeviceGrant(id: "0000:05:00.0", origin: plugin)],
            "rdma": [DeviceGrant(id: "0000:08:00.0", origin: claim), DeviceGrant(id: "0000:08:00.1", origin: claim)],
        ])
        #expect(devices.unusableCDINames == ["rdma": ["no-id", "a=b=c", "x="]])
        #expect(devices.reporter == "the kubelet's pod-resources API (/run/kubelet.sock)")
    }

    @Test(arguments: [("vendor.com/class=0000:05:00.5", "0000:05:00.5"), ("v/c=x", "x"), ("v/c", nil), ("v/c=", nil), ("a=b=c", nil), ("=id", "id")]
          as [(String, String?)])
    func cdiDeviceIDIsWhatFollowsTheOneEqualsSign(name: String, id: String?) {
        #expect(NodeDevices.cdiDeviceID(name) == id)
    }

    @Test func originsSayWhereTheDeviceCameFrom() {
        #expect("\(DeviceOrigin.devicePlugin(socket: "/s"))" == "device plugin, from the kubelet's pod-resources API (/s)")
        #expect("\(DeviceOrigin.draClaim(socket: "/s"))" == "DRA claim, from the kubelet's pod-resources API (/s)")
        #expect("\(DeviceOrigin.checkpoint(path: "/c"))" == "device plugin, from the kubelet's checkpoint /c")
    }

    @Test func withoutTheSocketTheCheckpointServes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let paths = DevicePaths(checkpoint: testdata("devices/kubelet_internal_checkpoint"), infoDirectory: directory.path,
                                podResourcesSocket: directory.pathOf("kubelet.sock"))
        let devices = try NodeDevices(paths).devices(of: PodIdentity(name: "web", namespace: "default", uid: "uid-web-sriov"))
        #expect(devices.grants["intel.com/sriov_netdevice"]?.map(\.id) == ["0000:03:02.1", "0000:03:02.0"])
        #expect(devices.reporter == "the kubelet's checkpoint \(paths.checkpoint)")
    }

    @Test func withTheSocketPodResourcesServesAndTheCheckpointIsNotRead() throws {
        let server = try PodResourcesServer(pods: [["name": "web", "namespace": "default", "containers": [
            ["name": "app", "devices": [["resourceName": "intel.com/sriov_netdevice", "deviceIds": ["0000:09:00.1"]]]],
        ]]])
        let paths = DevicePaths(checkpoint: testdata("devices/kubelet_internal_checkpoint.truncated"), infoDirectory: "/nonexistent",
                                podResourcesSocket: server.socket)
        let devices = try NodeDevices(paths).devices(of: PodIdentity(name: "web", namespace: "default", uid: "uid-web-sriov"))
        #expect(devices.grants == ["intel.com/sriov_netdevice": [DeviceGrant(id: "0000:09:00.1", origin: .devicePlugin(socket: server.socket))]])
        #expect(try server.calls() == ["Get"])
    }

    /// A kubelet that is restarting: the socket is there, nothing answers. ADD fails naming it;
    /// the checkpoint is not a fallback then (it may be stale or gone).
    @Test func aSocketThatRefusesIsAnErrorNamingIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let socket = directory.pathOf("kubelet.sock")
        try bindWithoutListening(socket)
        let paths = DevicePaths(checkpoint: testdata("devices/kubelet_internal_checkpoint"), infoDirectory: directory.path, podResourcesSocket: socket)
        #expect(throws: DeviceInfoError(path: socket, problem: "kubelet pod-resources API: Get: connect: Connection refused", isTransient: true)) {
            try NodeDevices(paths).devices(of: PodIdentity(name: "web", namespace: "default", uid: "uid-web-sriov"))
        }
    }
}
