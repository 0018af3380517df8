import CNI
import Glibc
import Testing
import TestSupport

/// STATUS, GC and many pods at once, with the real plugins in real network namespaces.
@Suite("STATUS, GC and concurrency", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct RuntimeLifecycleTests {
    static func statusConfig(_ box: Sandbox, readiness: String, timeout: Int, main: JSONValue) -> JSONValue {
        box.multusConfig(version: "1.1.0", delegates: [main], extra: [
            "readinessindicatorfile": .string(readiness), "readinessindicatortimeout": JSONValue(timeout),
        ])
    }

    @Test("STATUS waits for a readiness file that appears late")
    func statusWaitsForReadiness() throws {
        let box = try Sandbox()
        let readiness = box.root + "/ready"
        let config = Self.statusConfig(box, readiness: readiness, timeout: 10, main: box.bridgeNetwork("podnet", third: 1))
        // Appears 0.4 s from now, while STATUS waits.
        sh("(sleep 0.4; touch '\(readiness)') >/dev/null 2>&1 &")
        let started = ContinuousClock.now
        let status = box.multus("STATUS", config)
        #expect(status.exitCode == 0, "\(status.stdout)")
        #expect(ContinuousClock.now - started >= .milliseconds(300))
    }

    @Test("STATUS fails with code 50 naming the file when it never appears, within the bound")
    func statusReadinessTimeout() throws {
        let box = try Sandbox()
        let readiness = box.root + "/never"
        let config = Self.statusConfig(box, readiness: readiness, timeout: 1, main: box.bridgeNetwork("podnet", third: 1))
        let started = ContinuousClock.now
        let error = try #require(box.multus("STATUS", config).error)
        #expect(error.code == .notAvailable)
        #expect(error.msg.contains(readiness))
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test("STATUS passes a 1.1.0 main delegate's code 50 through; a 1.0.0 one counts as ready")
    func statusFromTheMainDelegate() throws {
        let box = try Sandbox()
        let bin = box.root + "/bin"
        try makeDirectories(bin)
        try writeFile(bin + "/not-ready", Array("""
            #!/bin/sh
            cat >/dev/null
            case "$CNI_COMMAND" in
              STATUS) echo '{"cniVersion":"1.1.0","code":50,"msg":"no uplink yet","details":"eth9 down"}'; exit 1 ;;
              VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["1.1.0"]}' ;;
              *) exit 1 ;;
            esac
            """.utf8), mode: 0o755)
        try writeFile(box.root + "/ready", [])
        var config = try #require(Self.statusConfig(box, readiness: box.root + "/ready", timeout: 1,
                                                    main: ["cniVersion": "1.1.0", "name": "uplink", "type": "not-ready"]).objectValue)
        config["binDir"] = .string(bin)
        let error = try #require(box.multus("STATUS", .object(config)).error)
        #expect(error.code == .notAvailable)
        #expect(error.msg == "no uplink yet")
        #expect(error.details.contains("\"uplink\""))

        let ready = Self.statusConfig(box, readiness: box.root + "/ready", timeout: 1, main: box.bridgeNetwork("podnet", third: 1))
        #expect(box.multus("STATUS", ready).exitCode == 0)
    }

    @Test("GC with three cached pods, one no longer valid: only its interfaces and leases go")
    func garbageCollection() throws {
        let boxes = try (0..<3).map { _ in try Sandbox() }
        let shared = boxes[0]
        let config = shared.multusConfig(version: "1.1.0", delegates: [shared.bridgeNetwork("podnet", third: 1), shared.ptpNetwork("p2pnet", third: 2)])
        for box in boxes { #expect(box.multus("ADD", config).exitCode == 0) }
        #expect(shared.leases("podnet")?.count == 3 && shared.leases("p2pnet")?.count == 3)

        var gc = try #require(config.objectValue)
        gc["cni.dev/valid-attachments"] = .array([boxes[0], boxes[2]].map { ["containerID": .string($0.containerID), "ifname": "eth0"] })
        let collected = shared.multus("GC", .object(gc))
        #expect(collected.exitCode == 0, "\(collected.stdout)")

        #expect(Set(boxes[1].podInterfaces().keys) == ["lo"], "the invalid pod's interfaces are gone")
        #expect(shared.leases("podnet")?.count == 2 && shared.leases("p2pnet")?.count == 2)
        for box in [boxes[0], boxes[2]] {
            #expect(box.podInterfaces()["net1"] != nil)
            #expect(box.multus("CHECK", config).exitCode == 0, "a valid pod still passes CHECK")
            #expect(box.multus("DEL", config).exitCode == 0)
        }
        #expect(shared.leases("podnet") == [] && shared.leases("p2pnet") == [])
    }

    @Test("50 pods attached, checked and deleted in parallel: no lost or mixed cache entries, no leaked lease")
    func fiftyPodsInParallel() throws {
        let box = try Sandbox()
        let count = 50
        let config = box.multusConfig(delegates: [box.bridgeNetwork("podnet", third: 1), box.ptpNetwork("p2pnet", third: 2)])
        try writeFile(box.root + "/multus.conf", config.serializedBytes())
        let names = (0..<count).map { "\(box.netnsName)-\($0)" }
        defer { for name in names { sh("ip netns del \(name) 2>/dev/null") } }
        for name in names { sh("ip netns add \(name)") }

        /// Every pod's `command` as its own multus process, all at once, as kubelet would run them.
        func everyPod(_ command: String) -> [(rc: String, out: String)] {
            let script = (0..<count).map { i in
                "(CNI_COMMAND=\(command) CNI_CONTAINERID=par-\(box.id)-\(i) CNI_NETNS=/var/run/netns/\(names[i]) CNI_IFNAME=eth0 CNI_PATH=\(pluginDirectory) "
                    + "\(BinaryTests.binary) < \(box.root)/multus.conf > \(box.root)/out-\(command)-\(i); echo $? > \(box.root)/rc-\(command)-\(i)) &"
            }.joined(separator: "\n") + "\nwait"
            sh(script)
            return (0..<count).map { i in
                (String(decoding: readWholeFile("\(box.root)/rc-\(command)-\(i)") ?? [], as: UTF8.self).trimmingCharacters,
                 String(decoding: readWholeFile("\(box.root)/out-\(command)-\(i)") ?? [], as: UTF8.self))
            }
        }

        let added = everyPod("ADD")
        #expect(added.allSatisfy { $0.rc == "0" }, "\(added.filter { $0.rc != "0" }.prefix(3))")
        let addresses = added.compactMap { try? CNIResult(json: JSONValue.parse($0.out), fallbackVersion: .latest).ips.map(\.address.text) }
        #expect(addresses.count == count)
        #expect(Set(addresses.flatMap { $0 }).count == count, "every pod its own main address")
        #expect(box.leases("podnet")?.count == count && box.leases("p2pnet")?.count == count)
        let cached = sh("ls \(box.cniDir)/attachments").output.split(separator: "\n").filter { $0.hasSuffix(".json") }
        #expect(cached.count == count)
        // Each cache entry is its own pod's: the netns it recorded is that pod's.
        for i in 0..<count {
            let entry = String(decoding: readWholeFile("\(box.cniDir)/attachments/par-\(box.id)-\(i).json") ?? [], as: UTF8.self)
            #expect(entry.contains("/var/run/netns/\(names[i])\""))
        }

        let checked = everyPod("CHECK")
        #expect(checked.allSatisfy { $0.rc == "0" }, "\(checked.filter { $0.rc != "0" }.prefix(2))")
        #expect(everyPod("DEL").allSatisfy { $0.rc == "0" })
        #expect(box.leases("podnet") == [] && box.leases("p2pnet") == [])
        #expect(sh("ls \(box.cniDir)/attachments").output.split(separator: "\n").filter { $0.hasSuffix(".json") }.isEmpty)
        for name in names { #expect(sh("ip -n \(name) -br link").output.split(separator: "\n").count == 1, "only lo left in \(name)") }
    }
}

extension String {
    var trimmingCharacters: String { String(filter { !$0.isWhitespace }) }
}
