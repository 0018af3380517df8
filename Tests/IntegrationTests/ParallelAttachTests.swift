import CNI
import Testing
import TestSupport

/// One call of the slow step: which command, on which interface, from when to when (ns since the epoch).
struct StepInterval: Equatable {
    var command: String
    var ifName: String
    var start: UInt64
    var end: UInt64

    /// The most intervals running at one instant.
    static func peak(_ intervals: [StepInterval]) -> Int {
        let edges = intervals.flatMap { [($0.start, 1), ($0.end, -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var running = 0
        var peak = 0
        for (_, change) in edges {
            running += change
            peak = max(peak, running)
        }
        return peak
    }
}

/// Eight secondaries, each the real ptp plugin with host-local followed by a chained step that
/// sleeps 300 ms, behind a real bridge main network. The chained step (`testdata/plugins/slow-step`)
/// is a test fixture, not a plugin under test: it only takes time, passes its prevResult on, and
/// logs when it ran, so that concurrency is seen in overlapping intervals rather than in timings.
@Suite("Parallel attach with real plugins", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct ParallelAttachIntegrationTests {
    static let secondaries = 1...8

    /// The multus config; the slow step is found in `testdata/plugins` (binDir), the real plugins in CNI_PATH.
    func config(_ box: Sandbox, concurrency: Int, failing: Int? = nil) -> JSONValue {
        let log = box.root + "/steps.log"
        func slow(_ k: Int?) -> JSONValue {
            ["type": "slow-step", "sleep": .number("0.3"), "log": .string(log), "fail": .bool(k != nil && k == failing)]
        }
        let main = chained(box.bridgeNetwork("podnet", third: 1), slow(nil))
        let others = Self.secondaries.map { k in chained(box.ptpNetwork("par\(k)", third: k + 1), slow(k)) }
        return box.multusConfig(delegates: [main] + others,
                                extra: ["binDir": .string(testdata("plugins")), "attachConcurrency": JSONValue(concurrency), "resultMode": "merged"])
    }

    /// A single plugin config as the first plugin of a conflist, `step` chained after it.
    func chained(_ network: JSONValue, _ step: JSONValue) -> JSONValue {
        var plugin = network.objectValue ?? JSONObject()
        let name = plugin["name"] ?? .null
        plugin["name"] = nil
        plugin["cniVersion"] = nil
        return ["cniVersion": "1.0.0", "name": name, "plugins": [.object(plugin), step]]
    }

    func steps(_ box: Sandbox) -> [StepInterval] {
        let text = readWholeFile(box.root + "/steps.log").map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 4, let start = UInt64(f[2]), let end = UInt64(f[3]) else { return nil }
            return StepInterval(command: f[0], ifName: f[1], start: start, end: end)
        }
    }

    @Test("eight slow secondaries: each its own name and subnet in order; side by side only with attachConcurrency 8",
          arguments: [1, 8])
    func eightSlowSecondaries(concurrency: Int) throws {
        let box = try Sandbox()
        let config = config(box, concurrency: concurrency)

        let add = box.multus("ADD", config)
        #expect(add.exitCode == 0, "\(add.stdout)")
        let result = try #require(add.result)
        #expect(result.ips.map(\.address.text) == (1...9).map { "\(box.address($0, 2))/24" })
        let interfaces = box.podInterfaces()
        #expect(interfaces.keys.sorted() == ["eth0", "lo"] + Self.secondaries.map { "net\($0)" })
        for k in Self.secondaries {
            #expect(interfaces["net\(k)"] == ["\(box.address(k + 1, 2))/24"], "net\(k)")
            #expect(box.leases("par\(k)") == [box.address(k + 1, 2)], "par\(k)")
        }
        let added = steps(box).filter { $0.command == "ADD" }
        try #require(added.count == 9, "\(added)")
        let main = try #require(added.first { $0.ifName == "eth0" })
        let secondaryAdds = added.filter { $0.ifName != "eth0" }
        #expect(secondaryAdds.allSatisfy { $0.start > main.end }, "the main network first and alone")
        if concurrency == 1 {
            #expect(StepInterval.peak(secondaryAdds) == 1)
        } else {
            #expect(StepInterval.peak(secondaryAdds) >= 2, "\(secondaryAdds)")
        }

        let del = box.multus("DEL", config)
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(Set(box.podInterfaces().keys) == ["lo"])
        for network in ["podnet"] + Self.secondaries.map({ "par\($0)" }) { #expect(box.leases(network) == [], "leases left for \(network)") }
        let deleted = steps(box).filter { $0.command == "DEL" }
        try #require(deleted.count == 9, "\(deleted)")
        let mainDel = try #require(deleted.first { $0.ifName == "eth0" })
        let secondaryDels = deleted.filter { $0.ifName != "eth0" }
        #expect(secondaryDels.allSatisfy { $0.end < mainDel.start }, "the main network last and alone")
        if concurrency == 1 {
            #expect(StepInterval.peak(secondaryDels) == 1)
        } else {
            #expect(StepInterval.peak(secondaryDels) >= 2, "\(secondaryDels)")
        }
    }

    @Test("the fifth of eight failing rolls back all eight and the main network: no interface, no lease")
    func fifthFailsAllRolledBack() throws {
        let box = try Sandbox()
        let config = config(box, concurrency: 8, failing: 5)

        let add = box.multus("ADD", config)
        #expect(add.exitCode != 0)
        let error = try #require(add.error, "stdout: \(add.stdout)")
        #expect(error.code.rawValue == 11)
        #expect(error.msg == "slow-step told to fail")
        #expect(error.details.contains("\"par5\"") && error.details.contains("net5"), "\(error.details)")
        #expect(Set(box.podInterfaces().keys) == ["lo"], "no interface left behind")
        // Every network had allocated (host-local's last_reserved_ip outlives the lease) and holds nothing now.
        for (network, third) in [("podnet", 1)] + Self.secondaries.map({ ("par\($0)", $0 + 1) }) {
            #expect(box.lastReserved(network) == box.address(third, 2), "\(network) never allocated")
            #expect(box.leases(network) == [], "lease left for \(network)")
        }
        let logged = steps(box)
        #expect(Set(logged.filter { $0.command == "ADD" }.map(\.ifName)) == Set(["eth0"] + Self.secondaries.map { "net\($0)" }))
        #expect(Set(logged.filter { $0.command == "DEL" }.map(\.ifName)) == Set(["eth0"] + Self.secondaries.map { "net\($0)" }),
                "the rollback reached every network")

        let del = box.multus("DEL", config)
        #expect(del.exitCode == 0, "\(del.stdout)")
    }
}
