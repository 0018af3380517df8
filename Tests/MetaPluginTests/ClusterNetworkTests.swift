import CNI
import MetaPlugin
import Testing
import TestSupport

/// `clusterNetwork`/`defaultNetworks` resolved against testdata/meta (see its README.md).
@Suite("clusterNetwork")
struct ClusterNetworkTests {
    static let confDir = testdata("meta/confdir")

    static func config(_ box: Sandbox, clusterNetwork: String, defaultNetworks: [String] = []) -> JSONValue {
        multusConfig(box, delegates: [], [
            ("confDir", .string(confDir)), ("clusterNetwork", .string(clusterNetwork)),
            ("defaultNetworks", .array(defaultNetworks.map { .string($0) })),
        ])
    }

    static func add(_ clusterNetwork: String, defaultNetworks: [String] = []) throws -> (Reply, FakeExecutor) {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        return (run("ADD", config(box, clusterNetwork: clusterNetwork, defaultNetworks: defaultNetworks), executor: executor), executor)
    }

    @Test(arguments: [
        ("flannel", ["ADD flannel@eth0", "ADD portmap@eth0"]),
        (testdata("meta/confdir/10-flannel.conflist"), ["ADD flannel@eth0", "ADD portmap@eth0"]),
        (testdata("meta/confdir/05-flannel.conf"), ["ADD flannel-single@eth0"]),
        (testdata("meta/dirnet"), ["ADD first-plugin@eth0"]),
        (testdata("meta/dirnet/"), ["ADD first-plugin@eth0"]),
        ("macvlan-net", ["ADD macvlan@eth0"]),
        ("sriov-net", ["ADD sriov@eth0"]),
    ])
    func resolvesAFileADirectoryOrANameInConfDir(reference: String, steps: [String]) throws {
        let (reply, executor) = try Self.add(reference)
        expectSuccess(reply)
        #expect(executor.steps == steps)
    }

    @Test func defaultNetworksFollowTheMainAsNet1AndOn() throws {
        let (reply, executor) = try Self.add("flannel", defaultNetworks: ["macvlan-net", testdata("meta/confdir/40-sriov.json"), testdata("meta/dirnet")])
        expectSuccess(reply)
        #expect(executor.steps == ["ADD flannel@eth0", "ADD portmap@eth0", "ADD macvlan@net1", "ADD sriov@net2", "ADD first-plugin@net3"])
        #expect(executor.calls.map(\.network) == ["flannel", "flannel", "macvlan-net", "sriov-net", "first"])
        // A file's keys reach the delegate as written.
        #expect(executor.calls[2].config["ipam"] == ["type": "host-local", "subnet": "192.168.1.0/24"])
    }

    @Test func inlineDelegatesAreIgnoredWhenClusterNetworkIsSet() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        var config = Self.config(box, clusterNetwork: "sriov-net").objectValue!
        config["delegates"] = .array(threeDelegates)
        expectSuccess(run("ADD", .object(config), executor: executor))
        #expect(executor.steps == ["ADD sriov@eth0"])
    }

    @Test(arguments: [
        ("no-such-net", "clusterNetwork", [] as [String]),
        ("hidden-net", "clusterNetwork", []),
        ("txt-net", "clusterNetwork", []),
        ("flannel", "defaultNetworks[1]", ["sriov-net", "missing-net"]),
    ])
    func anUnknownNameNamesTheKeyAndTheConfDir(reference: String, key: String, defaults: [String]) throws {
        let (reply, executor) = try Self.add(reference, defaultNetworks: defaults)
        // The malformed 00-broken.conf may be the file that was meant: it is named too.
        expectFailure(reply, code: 7, msgContains: [key, Self.confDir, "unreadable: 00-broken.conf"])
        #expect(executor.calls.isEmpty)
    }

    @Test(arguments: [
        (testdata("meta/broken.conf"), 6, [testdata("meta/broken.conf")]),
        (testdata("meta/confdir/00-broken.conf"), 6, [testdata("meta/confdir/00-broken.conf")]),
        (testdata("meta/noconfigs"), 7, ["clusterNetwork", testdata("meta/noconfigs")]),
        (testdata("meta/absent.conf"), 7, ["clusterNetwork", testdata("meta/absent.conf")]),
    ])
    func aBadPathNamesTheFile(reference: String, code: Int, fragments: [String]) throws {
        let (reply, executor) = try Self.add(reference)
        expectFailure(reply, code: code, msgContains: fragments)
        #expect(executor.calls.isEmpty)
    }

    @Test func delWithoutACacheTearsDownTheResolvedNetworks() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        expectSuccess(run("DEL", Self.config(box, clusterNetwork: "flannel", defaultNetworks: ["macvlan-net"]), executor: executor))
        #expect(executor.steps == ["DEL macvlan@net1", "DEL portmap@eth0", "DEL flannel@eth0"])
    }
}
