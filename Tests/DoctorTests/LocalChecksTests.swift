import CNI
import Doctor
import Glibc
import Testing
import TestSupport

/// The config, plugin and node groups, on a node in a temporary directory with fake plugins.
@Suite("doctor: config, plugins, node")
struct LocalChecksTests {
    @Test func aHealthyNodeWithoutKubernetesHasNoErrorOrWarning() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig()
        let checks = node.run()
        #expect(checks.filter { $0.verdict != .ok }.isEmpty, "\(checks)")
        #expect(checks[named: "plugins.bridge"]?.verdict == .ok)
        #expect(checks[named: "kubernetes.kubeconfig"]?.detail.contains("no kubeconfig") == true)
    }

    @Test func aConflistWithItsVersionOnlyInsideItsPlugins() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        let list: JSONValue = ["name": "pitfall", "plugins": [["cniVersion": "1.0.0", "type": "bridge"], ["cniVersion": "1.0.0", "type": "tuning"]]]
        try node.writeConfig(delegates: [list])
        let check = try #require(node.run()[named: "config.cniVersion"])
        #expect(check.verdict == .error)
        #expect(check.detail == #"delegates[0]: the list has no cniVersion, its plugins say "1.0.0": it runs at 0.1.0"#)
        #expect(check.fix.contains("put \"cniVersion\" at the top of each conflist"))
    }

    @Test func aFirstConfigThatIsNotMultusIsAnError() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig(file: "10-multus.conf")
        _ = try writeFile(node.confDir + "/05-flannel.conflist", Array(#"{"cniVersion":"1.0.0","name":"cbr0","plugins":[{"type":"flannel"}]}"#.utf8))
        let check = try #require(node.run()[named: "config.file"])
        #expect(check.verdict == .error)
        #expect(check.detail.contains("05-flannel.conflist, is \"flannel\", not multus"))
        #expect(check.fix.contains("sort first"))
    }

    @Test func unknownKeysAreNamed() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig(delegates: [DoctorNode.bridge()], [("readinessIndicatorFile", "/x"), ("logLevel", "debug")])
        let check = try #require(node.run()[named: "config.keys"])
        #expect(check.verdict == .warning)
        #expect(check.detail.hasSuffix(#"unknown key "readinessIndicatorFile" (ignored)"#))
        #expect(check.fix == #"spell "readinessIndicatorFile" -> "readinessindicatorfile": Multus matched keys in any letter case, swift-multus matches them exactly"#)
    }

    @Test func multussOwnKeysAreNotUnknown() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig(delegates: [DoctorNode.bridge()], [("retryDeleteOnError", true), ("logLevel", "debug")])
        let check = try #require(node.run()[named: "config.keys"])
        #expect(check.verdict == .ok, "\(check.detail)")
    }

    @Test func aMissingPluginIsAnErrorNamingWhoAsked() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig(delegates: [DoctorNode.bridge(), ["cniVersion": "1.0.0", "name": "second", "type": "macvlan"]])
        let checks = node.run(executor: DoctorNode.executor(missing: ["macvlan"]))
        let check = try #require(checks[named: "plugins.macvlan"])
        #expect(check.verdict == .error)
        #expect(check.detail.contains("plugin \"macvlan\" not found in \(node.binDir); named by delegates[1]"))
        #expect(check.fix == "install the \"macvlan\" plugin into \(node.binDir), or correct the config that names it")
        #expect(checks[named: "plugins.bridge"]?.verdict == .ok)
        #expect(Doctor.exitCode(checks) == 1)
    }

    @Test func aPluginWithoutTheVersionAskedIsAnError() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig(delegates: [DoctorNode.bridge(version: "1.0.0")])
        let executor = DoctorNode.executor(versions: ["bridge": ["0.3.1", "0.4.0"]])
        let check = try #require(node.run(executor: executor)[named: "plugins.bridge"])
        #expect(check.verdict == .error)
        #expect(check.detail == "/fake/bridge speaks 0.3.1, 0.4.0; delegates[0] asks 1.0.0")
        #expect(check.fix.contains("upgrade the plugin"))
        // VERSION asked as libcni asks it.
        #expect(executor.calls.map(\.command) == ["VERSION"])
        #expect(executor.calls.first?.stdin == ["cniVersion": "1.0.0"])
    }

    @Test func aCacheEntryWhoseNetnsIsGone() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig()
        try makeDirectories(node.cniDir + "/attachments")
        for (id, netns) in [("gone1", node.root + "/netns/gone"), ("alive", "/proc/self/ns/net")] {
            let entry: JSONValue = ["format": "swift-multus/attachments/v1", "state": "added", "containerID": .string(id),
                                    "netns": .string(netns), "args": "", "attachments": []]
            _ = try writeFile(node.cniDir + "/attachments/\(id).json", entry.serializedBytes())
        }
        let check = try #require(node.run()[named: "node.cache"])
        #expect(check.verdict == .warning)
        #expect(check.detail == "1 cache entry whose network namespace is gone (leftover attachments): gone1 (\(node.root)/netns/gone)")
        #expect(check.fix.contains("GC"))
    }

    @Test func aStaleTemporaryFile() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig()
        let stale = try writeFile(node.confDir + "/.00-multus.conf.tmp-0123456789abcdef", [])
        let fresh = try writeFile(node.cniDir + "/.x.tmp-fedcba9876543210", [])
        var old = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, stale, &old, 0) == 0)
        let check = try #require(node.run()[named: "node.temp-files"])
        #expect(check.verdict == .warning)
        #expect(check.detail.hasSuffix(": \(stale)"))
        #expect(!check.detail.contains(fresh))
        #expect(fileExists(stale), "the doctor removes nothing")
    }

    @Test func aMissingReadinessFileAndAnOpenCNIDir() throws {
        let node = try DoctorNode()
        defer { node.remove() }
        try node.writeConfig(delegates: [DoctorNode.bridge()], [("readinessindicatorfile", .string(node.root + "/ready"))])
        chmod(node.cniDir, 0o777)
        let checks = node.run()
        #expect(checks[named: "node.readiness"]?.verdict == .error)
        #expect(checks[named: "node.cni-dir"]?.verdict == .error)
        #expect(checks[named: "node.cni-dir"]?.detail.contains("writable by group or others (mode 777)") == true)
    }
}
