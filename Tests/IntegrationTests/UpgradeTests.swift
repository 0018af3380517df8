import CNI
import Glibc
import KubeClient
import MetaPlugin
import Testing
import TestSupport

@Suite("Taking over from Multus in place", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct UpgradeTests {
    /// Every release and shape, with the NADs and pod in the API or deleted since. Multus v4.2+
    /// loses a conflist cluster network's plugin fields in its `Bytes` (its own DEL fails on them).
    @Test("DEL of a pod a Multus release attached: every interface, lease and firewall rule gone, from Multus's files alone",
          arguments: MultusRelease.allCases, ClusterNetworkShape.allCases)
    func delFromMultusCache(release: MultusRelease, shape: ClusterNetworkShape) throws {
        for nadsDeleted in [false, true] {
            let k = try KubeSandbox()
            let pod = try MultusFixture(k, release: release, shape: shape)
            pod.expectAttached()
            if nadsDeleted {
                for name in MultusFixture.nads { #expect(try k.server.delete(kind: "NetworkAttachmentDefinition", namespace: "default", name: name)) }
                #expect(try k.server.delete(kind: "Pod", namespace: "default", name: MultusFixture.pod))
            }

            let del = pod.multus("DEL")
            #expect(del.exitCode == 0, "NADs deleted: \(nadsDeleted): \(del.stdout)")
            #expect(try k.takeRequests() == [], "no API call, no NAD needed")
            pod.expectGone()
            #expect(del.diagnostics == [])

            let again = pod.multus("DEL")
            #expect(again.exitCode == 0)
            #expect(try k.takeRequests() == [], "the repeated DEL is free too")
            pod.removeFirewallRules()
        }
    }

    @Test("CHECK of a pod a Multus release attached runs every delegate's CHECK against libcni's cached result, and finds a missing interface",
          arguments: MultusRelease.allCases, ClusterNetworkShape.allCases)
    func checkFromMultusCache(release: MultusRelease, shape: ClusterNetworkShape) throws {
        let k = try KubeSandbox()
        let pod = try MultusFixture(k, release: release, shape: shape)
        let check = pod.multus("CHECK")
        #expect(check.exitCode == 0, "\(check.stdout)")
        #expect(try k.takeRequests() == [])

        sh("ip -n \(k.box.netnsName) link del mv1")
        let broken = try #require(pod.multus("CHECK").error)
        #expect(broken.details.contains("network \"default/macvlan-conf\" (interface mv1, from Multus's cache \(pod.cacheFile))"), "\(broken.details)")

        #expect(pod.multus("DEL").exitCode == 0)
        pod.expectGone()
        pod.removeFirewallRules()
    }

    /// The cache was lost (or never written) and one NAD has since been deleted: DEL still tears
    /// down the two networks it can resolve, and names the one it cannot.
    @Test("DEL with no record at all: every network that can be resolved is torn down; a deleted NAD is skipped and named")
    func fallbackSkipsWhatCannotBeResolved() throws {
        let k = try KubeSandbox()
        let n = k.box.number
        #expect(k.multus("ADD", pod: "web-comma").exitCode == 0)
        #expect([k.box.leases("cluster-net"), k.box.leases("macvlan-conf"), k.box.leases("ptp-conf")] == [["10.\(n).0.2"], ["10.\(n).1.2"], ["10.\(n).2.2"]])
        removeTree(k.box.cniDir + "/attachments/\(k.box.containerID).json")
        #expect(try k.server.delete(kind: "NetworkAttachmentDefinition", namespace: "default", name: "macvlan-conf"))

        let del = k.multus("DEL", pod: "web-comma")
        #expect(del.exitCode == 0, "\(del.stdout)")
        #expect(k.box.leases("cluster-net") == [] && k.box.leases("ptp-conf") == [], "the two resolvable networks are torn down")
        #expect(k.box.leases("macvlan-conf") == ["10.\(n).1.2"], "the deleted NAD's network could not be")
        #expect(Set(k.box.podInterfaces().keys) == ["lo", "net1"])
        let skipped = del.diagnostics.filter { $0.contains("skipped") }
        #expect(skipped.count == 1)
        #expect(skipped.first?.contains("default/macvlan-conf") == true, "\(del.diagnostics)")
        // Clean up what nobody could resolve any more.
        sh("ip -n \(k.box.netnsName) link del net1")
        removeTree(k.box.ipamDir + "/macvlan-conf")
    }
}
