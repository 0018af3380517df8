import CNI
import Glibc
import Testing
import TestSupport

/// podman (4.x, CNI backend) driving the multus binary as a network, with no Kubernetes: the
/// documented usage of docs/operations.md "Without Kubernetes: podman". setup.sh installs podman, runc and
/// a static busybox (the container's whole image), so as root a missing one fails, not skips.
let podmanAvailable = ["/usr/bin/podman", "/usr/sbin/runc", "/bin/busybox"].allSatisfy { (path: String) in access(path, X_OK) == 0 }

@Suite("podman without Kubernetes", .tags(.privileged), .enabled(if: isRoot, "needs root"))
struct PodmanTests {
    /// A private podman (storage, runroot, containers.conf, network dir) with one network `mnet`:
    /// multus with a bridge main network and a macvlan secondary.
    final class World: @unchecked Sendable {
        let box: Sandbox
        let podman: String

        init(resultMode: String? = nil) throws {
            try #require(podmanAvailable, "podman, runc and busybox-static are missing: Tests/scripts/setup.sh installs them")
            box = try Sandbox()
            let root = box.root
            let netDir = root + "/net.d"
            for directory in ["rootfs/bin", "storage", "run", "net.d"] { try makeDirectories(root + "/" + directory) }
            let binaryDirectory = String(BinaryTests.binary.dropLast("/multus".count))
            try writeFile(root + "/containers.conf", Array("""
                [network]
                network_backend = "cni"
                cni_plugin_dirs = ["\(binaryDirectory)", "/usr/lib/cni"]
                network_config_dir = "\(netDir)"
                """.utf8))
            var multus: JSONObject = ["type": "multus", "cniDir": .string(box.cniDir), "binDir": "/usr/lib/cni",
                                      "delegates": [box.bridgeNetwork("mnet-bridge", third: 1), box.macvlanNetwork("mnet-mac", third: 2, master: box.makeParentBridge())]]
            if let resultMode { multus["resultMode"] = .string(resultMode) }
            let conflist: JSONValue = ["cniVersion": "1.0.0", "name": "mnet", "plugins": [.object(multus)]]
            try writeFile(netDir + "/mnet.conflist", conflist.serializedBytes())
            // Lower limits than the host's: this machine refuses to raise them, and podman would.
            podman = "CONTAINERS_CONF=\(root)/containers.conf podman --root \(root)/storage --runroot \(root)/run --runtime /usr/sbin/runc"
            let imported = sh("""
                cp /bin/busybox \(root)/rootfs/bin/ && for t in sh sleep ip cat; do ln -s busybox \(root)/rootfs/bin/$t; done
                tar -C \(root)/rootfs -cf \(root)/rootfs.tar . && \(podman) import \(root)/rootfs.tar localhost/smt-busybox:1
                """)
            guard imported.status == 0 else { throw FixtureError(call: "podman import", path: imported.output, errno: 0) }
        }

        func run(_ name: String, _ options: String = "") -> (status: Int32, output: String) {
            sh("\(podman) run -d --name \(name) --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network mnet \(options) localhost/smt-busybox:1 /bin/sleep 600")
        }

        /// Interface name -> IPv4 addresses and MAC inside the container, from busybox's `ip addr`.
        func interfaces(_ name: String) -> [String: (ips: [String], mac: String)] {
            var found: [String: (ips: [String], mac: String)] = [:]
            var current = ""
            for line in sh("\(podman) exec \(name) ip addr").output.split(separator: "\n") {
                let fields = line.split(separator: " ").map(String.init)
                if let first = fields.first, first.hasSuffix(":"), fields.count > 1 {
                    current = String(fields[1].dropLast().split(separator: "@").first ?? "")
                    found[current] = ([], "")
                } else if fields.first == "link/ether", fields.count > 1 {
                    found[current]?.mac = fields[1]
                } else if fields.first == "inet", fields.count > 1 {
                    found[current]?.ips.append(fields[1])
                }
            }
            return found
        }

        func inspect(_ name: String) -> JSONObject? {
            let text = sh("\(podman) inspect \(name) --format '{{json .NetworkSettings.Networks.mnet}}'").output
            return (try? JSONValue.parse(Array(text.utf8)))?.objectValue
        }

        deinit {
            sh("\(podman) rm -af -t 0 >/dev/null 2>&1; \(podman) rmi -af >/dev/null 2>&1")
        }
    }

    @Test("run, inspect, /etc/hosts, --ip/--mac-address, network reload, rm: eth0 is the result, net1 is attached, nothing leaks")
    func lifecycle() throws {
        let world = try World()
        let box = world.box
        let started = world.run("c1")
        #expect(started.status == 0, "\(started.output)")
        let inside = world.interfaces("c1")
        #expect(inside["eth0"]?.ips == ["\(box.address(1, 2))/24"])
        #expect(inside["net1"]?.ips == ["\(box.address(2, 2))/24"])
        let inspected = try #require(world.inspect("c1"))
        #expect(inspected["IPAddress"] == .string(box.address(1, 2)))
        #expect(inspected["MacAddress"] == .string(inside["eth0"]?.mac ?? "?"))
        #expect(inspected["SecondaryIPAddresses"] == nil)
        let hosts = sh("\(world.podman) exec c1 cat /etc/hosts").output
        #expect(hosts.contains(box.address(1, 2)) && !hosts.contains(box.address(2, 2)), "\(hosts)")

        let mac = "0a:58:0a:\(String(format2: box.number)):01:32"
        let pinned = world.run("c2", "--ip \(box.address(1, 50)) --mac-address \(mac)")
        #expect(pinned.status == 0, "\(pinned.output)")
        let c2 = world.interfaces("c2")
        #expect(c2["eth0"]?.ips == ["\(box.address(1, 50))/24"])
        #expect(c2["eth0"]?.mac == mac)
        #expect(c2["net1"]?.ips.first?.hasPrefix("10.\(box.number).2.") == true)
        #expect(c2["net1"]?.mac != mac)

        for _ in 0..<3 {
            #expect(sh("\(world.podman) network reload c1").status == 0)
            let reloaded = world.interfaces("c1")
            #expect(reloaded["eth0"]?.ips == ["\(box.address(1, 2))/24"])
            #expect(reloaded["net1"]?.ips.first?.hasPrefix("10.\(box.number).2.") == true)
        }

        #expect(sh("\(world.podman) rm -f -t 0 c1 c2").status == 0)
        #expect(box.leases("mnet-bridge") == [] && box.leases("mnet-mac") == [])
        #expect(directoryEntries(box.cniDir + "/attachments").filter { $0.hasSuffix(".json") } == [])
    }

    @Test("merged: podman lists net1's address as a secondary one and its MAC as an additional one")
    func merged() throws {
        let world = try World(resultMode: "merged")
        let box = world.box
        let started = world.run("m1")
        #expect(started.status == 0, "\(started.output)")
        let inspected = try #require(world.inspect("m1"))
        #expect(inspected["IPAddress"] == .string(box.address(1, 2)))
        #expect(inspected["SecondaryIPAddresses"] == [["Addr": .string(box.address(2, 2)), "PrefixLength": 24]])
        #expect(inspected["AdditionalMACAddresses"] == [.string(world.interfaces("m1")["net1"]?.mac ?? "?")])
        #expect(sh("\(world.podman) rm -f -t 0 m1").status == 0)
    }
}
