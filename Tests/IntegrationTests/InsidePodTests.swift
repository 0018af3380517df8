import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// What happens inside the pod: default routes moved by `default-route`, devices handed out by a
/// device plugin. Real plugins, real netns, the test API server.
@Suite("Inside the pod: default routes and device info", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct InsidePodTests {
    func defaultRoutes(_ k: KubeSandbox, family: String) -> [String] {
        sh("ip -n \(k.box.netnsName) \(family) route show default").output.split(separator: "\n").map { String($0).trimmingSpacesAround }
    }

    @Test("default-route on a secondary moves the IPv4 default to net1, removes eth0's, leaves IPv6 alone; CHECK passes")
    func defaultRouteMoves() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        let add = k.multus("ADD", pod: "web-gw")
        #expect(add.exitCode == 0, "\(add.stdout)")
        #expect(defaultRoutes(k, family: "-4") == ["default via 10.\(n).1.1 dev net1"])
        let v6 = defaultRoutes(k, family: "-6")
        #expect(v6.count == 1 && v6.first?.hasPrefix("default via fd00:\(n)::1 dev eth0") == true, "\(v6)")

        // The result (eth0's) says what the kernel holds: eth0 no longer has the IPv4 default,
        // and keeps the IPv6 one. Merged, the IPv4 default is listed with net1's result.
        let result = try #require(add.result)
        #expect(result.routes.filter { $0.dst.text == "0.0.0.0/0" }.map(\.gw) == [])
        #expect(result.routes.contains { $0.dst.text == "::/0" })
        let status = try #require(try k.networkStatus("web-gw"))
        #expect(status.map { $0["interface"]?.stringValue } == ["eth0", "net1"])
        #expect(status.map { $0["default"] } == [nil, true], "default marks the interface holding the default route")

        let check = k.multus("CHECK", pod: "web-gw")
        #expect(check.exitCode == 0, "\(check.stdout)")
        #expect(k.multus("DEL", pod: "web-gw").exitCode == 0)
        k.expectClean(["cluster-dual", "macvlan-conf"])
    }

    @Test("without default-route nothing changes")
    func noDefaultRoute() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        #expect(k.multus("ADD", pod: "web-nogw").exitCode == 0)
        #expect(defaultRoutes(k, family: "-4") == ["default via 10.\(n).8.1 dev eth0"])
        #expect(defaultRoutes(k, family: "-6").first?.hasPrefix("default via fd00:\(n)::1 dev eth0") == true)
        #expect(try k.networkStatus("web-nogw")?.first?["default"] == true)
        #expect(k.multus("CHECK", pod: "web-nogw").exitCode == 0)
        #expect(k.multus("DEL", pod: "web-nogw").exitCode == 0)
    }

    @Test("two IPv4 default-route gateways are refused before anything is attached")
    func twoGatewaysRefused() throws {
        let k = try KubeSandbox()
        let error = try #require(k.multus("ADD", pod: "web-twogw").error)
        #expect(error.code == .invalidNetworkConfig)
        #expect(error.msg.contains("two IPv4 default-route gateways"))
        #expect(k.box.podInterfaces().keys.sorted() == ["lo"])
        for network in ["cluster-net", "macvlan-conf", "ptp-conf"] {
            #expect(k.box.leases(network) == nil, "no IPAM ever ran for \(network): refused, not attached and rolled back")
        }
        #expect(try k.takeRequests() == [
            "GET /api/v1/namespaces/default/pods/web-twogw",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/kube-system/network-attachment-definitions/cluster-net",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/macvlan-conf",
            "GET /apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/ptp-conf",
        ], "reads only: no event, no status write")
    }

    @Test("two NADs of one device-plugin resource get different devices; device-info files come and go")
    func deviceInfo() throws {
        let k = try KubeSandbox()
        let devinfo = k.box.root + "/devinfo"
        let devices = DevicePaths(checkpoint: testdata("devices/kubelet_internal_checkpoint"), infoDirectory: devinfo)
        // The device plugin's own files, which are copied for each delegate.
        try makeDirectories(devinfo + "/dp")
        for id in ["0000:03:02.0", "0000:03:02.1"] {
            let info: JSONValue = ["type": "pci", "version": "1.1.0", "pci": ["pci-address": .string(id)]]
            try writeFile("\(devinfo)/dp/intel.com-sriov_netdevice-\(id)-device.json", info.serializedBytes())
        }

        let add = k.multus("ADD", pod: "web-sriov", devices: devices)
        #expect(add.exitCode == 0, "\(add.stdout)")
        // The configs exactly as run, from the cache: each delegate its own device (container by
        // container, as Multus v4.3.1: web's .1, then sidecar's .0).
        let cache = try JSONValue.parse(readFile("\(k.box.cniDir)/attachments/\(k.box.containerID).json"))
        let ran = cache.objectValue?["attachments"]?.arrayValue?.compactMap { $0.objectValue?["network"]?.objectValue?["deviceID"]?.stringValue }
        #expect(ran == ["0000:03:02.1", "0000:03:02.0"])
        let files = ["\(devinfo)/cni/default-sriov-a-\(k.box.containerID)_net1", "\(devinfo)/cni/default-sriov-b-\(k.box.containerID)_net2"]
        #expect(files.allSatisfy(fileExists), "device-info files written")
        let status = try #require(try k.networkStatus("web-sriov"))
        #expect(status.compactMap { $0["device-info"]?.objectValue?["pci"]?.objectValue?["pci-address"]?.stringValue } == ["0000:03:02.1", "0000:03:02.0"],
                "network-status agrees with the delegates' devices")

        #expect(k.multus("DEL", pod: "web-sriov", devices: devices).exitCode == 0)
        #expect(!files.contains(where: fileExists), "device-info files removed on DEL")
        k.expectClean(["cluster-net", "sriov-a", "sriov-b"])
    }
}

extension String {
    var trimmingSpacesAround: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
