import CNI
import CNIExec
import Glibc
@testable import MetaPlugin
import Synchronization
import System
import Testing
import TestSupport

/// Only root can make namespaces and links.
private let runsAsRoot = getuid() == 0

fileprivate extension Tag {
    /// Needs root: creates network namespaces and veth links.
    @Tag static var podNetns: Self
}

/// Runs a shell script on the host; exit status and combined output.
@discardableResult
private func shell(_ script: String) -> (status: Int32, output: String) {
    do {
        let out = try PosixSpawnExecutor().run("/bin/sh", stdin: Array("exec 2>&1\n\(script)\n".utf8),
                                               environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], timeout: .seconds(30))
        let status: Int32 = switch out.termination { case .exited(let code): code; case .signaled(let signal): 128 + signal }
        return (status, String(decoding: out.stdout, as: UTF8.self))
    } catch {
        return (-1, "\(error)")
    }
}

/// The calling thread's network namespace ("net:[4026531840]"), or another task's.
private func netnsLink(_ path: String = "/proc/thread-self/ns/net") -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    let length = readlink(path, &buffer, buffer.count - 1)
    guard length > 0 else { return "unreadable: errno \(errno)" }
    return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A pod-like netns: eth0 (10.N.1.2/24, fd00:N:1::2/64) and net1 (10.N.2.2/24, fd00:N:2::2/64),
/// veths whose peers live in a second netns, and default routes via 10.N.1.1 and fd00:N:1::1 on
/// eth0. Names are unique per instance, so parallel tests never collide; addresses need not be,
/// as every pod is its own namespace.
private struct PodNamespace {
    private static let counter = Atomic<Int>(0)
    let name: String
    let peer: String
    let n: Int
    var path: String { "/var/run/netns/\(name)" }

    init() throws {
        n = 1 + Self.counter.add(1, ordering: .relaxed).newValue % 250
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        name = "prt-\(id)"
        peer = "prt-\(id)-p"
        let setup = shell("""
            set -e
            ip netns add \(name)
            ip netns add \(peer)
            ip -n \(name) link add eth0 type veth peer name p0 netns \(peer)
            ip -n \(name) link add net1 type veth peer name p1 netns \(peer)
            ip -n \(name) addr add 10.\(n).1.2/24 dev eth0
            ip -n \(name) addr add 10.\(n).2.2/24 dev net1
            ip -n \(name) addr add fd00:\(n):1::2/64 dev eth0 nodad
            ip -n \(name) addr add fd00:\(n):2::2/64 dev net1 nodad
            ip -n \(name) link set lo up
            ip -n \(name) link set eth0 up
            ip -n \(name) link set net1 up
            ip -n \(peer) link set p0 up
            ip -n \(peer) link set p1 up
            ip -n \(name) route add default via 10.\(n).1.1 dev eth0
            ip -n \(name) -6 route add default via fd00:\(n):1::1 dev eth0
            """)
        if setup.status != 0 {
            remove()
            throw SetupFailure(output: setup.output)
        }
    }

    func remove() {
        shell("ip netns del \(name) 2>/dev/null; ip netns del \(peer) 2>/dev/null")
    }

    /// `ip route show default` lines for the family, "proto"/"metric"/"pref" details dropped.
    func defaults(_ family: IPFamily) -> [String] {
        let flag = family == .v4 ? "-4" : "-6"
        return shell("ip -n \(name) \(flag) route show default table main").output
            .split(separator: "\n")
            .map { line in
                let words = line.split(separator: " ")
                return words.prefix(5).joined(separator: " ")  // "default via X dev Y"
            }
    }

    func v4(_ third: Int) -> String { "10.\(n).\(third).1" }
    func v6(_ third: Int) -> String { "fd00:\(n):\(third)::1" }
}

private struct SetupFailure: Error, CustomStringConvertible {
    var output: String
    var description: String { "netns setup failed: \(output)" }
}

@Suite(.tags(.podNetns), .enabled(if: runsAsRoot, "needs root for network namespaces"))
struct PodRoutesTests {
    @Test func listsTheDefaultRoutesOfBothFamilies() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        let routes = try PodRoutes.defaultRoutes(netns: pod.path)
        #expect(routes == [
            DefaultRoute(family: .v4, ifName: "eth0", gateway: pod.v4(1)),
            DefaultRoute(family: .v6, ifName: "eth0", gateway: pod.v6(1)),
        ])
    }

    @Test func movesTheIPv4DefaultOnly() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v4(2)), ifName: "net1")
        #expect(pod.defaults(.v4) == ["default via \(pod.v4(2)) dev net1"])
        #expect(pod.defaults(.v6) == ["default via \(pod.v6(1)) dev eth0"])
        #expect(try PodRoutes.defaultRoutes(netns: pod.path) == [
            DefaultRoute(family: .v4, ifName: "net1", gateway: pod.v4(2)),
            DefaultRoute(family: .v6, ifName: "eth0", gateway: pod.v6(1)),
        ])
    }

    @Test func movesTheIPv6DefaultOnly() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v6(2)), ifName: "net1")
        #expect(pod.defaults(.v6) == ["default via \(pod.v6(2)) dev net1"])
        #expect(pod.defaults(.v4) == ["default via \(pod.v4(1)) dev eth0"])
    }

    @Test func isIdempotent() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        for _ in 0..<2 {
            try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v4(2)), ifName: "net1")
            try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v6(2)), ifName: "net1")
        }
        #expect(pod.defaults(.v4) == ["default via \(pod.v4(2)) dev net1"])
        #expect(pod.defaults(.v6) == ["default via \(pod.v6(2)) dev net1"])
    }

    @Test func keepsAMatchingRouteAndDeletesEveryOther() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        // More defaults: another metric on net1, and a second IPv4 gateway on eth0.
        let extra = shell("""
            set -e
            ip -n \(pod.name) route add default via \(pod.v4(2)) dev net1 metric 100
            ip -n \(pod.name) route add default via 10.\(pod.n).1.254 dev eth0 metric 200
            ip -n \(pod.name) -6 route add default via \(pod.v6(2)) dev net1 metric 100
            """)
        try #require(extra.status == 0, "\(extra.output)")
        try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v4(1)), ifName: "eth0")
        #expect(pod.defaults(.v4) == ["default via \(pod.v4(1)) dev eth0"])
        #expect(pod.defaults(.v6).count == 2)
    }

    @Test func takesALinkLocalIPv6GatewayOnTheInterface() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address("fe80::1"), ifName: "net1")
        #expect(pod.defaults(.v6) == ["default via fe80::1 dev net1"])
        #expect(try PodRoutes.defaultRoutes(netns: pod.path).filter { $0.family == .v6 } == [
            DefaultRoute(family: .v6, ifName: "net1", gateway: "fe80::1"),
        ])
    }

    @Test func namesAMissingInterface() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        let error = try #require(throws: PodRouteError.self) {
            try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v4(2)), ifName: "net9")
        }
        #expect(error.step == .findInterface)
        #expect(error.errno == .noSuchDevice)
        #expect(error.description.contains("net9"))
        #expect(error.description.contains(pod.path))
        #expect(pod.defaults(.v4) == ["default via \(pod.v4(1)) dev eth0"])
    }

    @Test func namesAMissingNetns() throws {
        let path = "/var/run/netns/prt-missing-\(UInt32.random(in: 0...UInt32.max))"
        let error = try #require(throws: PodRouteError.self) {
            try PodRoutes.setDefaultRoute(netns: path, gateway: address("10.1.1.1"), ifName: "eth0")
        }
        #expect(error.step == .openNetns)
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.description.contains(path))
        #expect(throws: PodRouteError.self) { try PodRoutes.defaultRoutes(netns: path) }
    }

    @Test func refusesAFileThatIsNoNetns() throws {
        let error = try #require(throws: PodRouteError.self) { try PodRoutes.defaultRoutes(netns: "/proc/self/status") }
        #expect(error.step == .enterNetns)
        #expect(error.errno == .invalidArgument)
    }

    @Test func putsTheOldRoutesBackWhenTheKernelRefusesTheNewOne() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        // Not on any of net1's subnets: the kernel refuses the gateway.
        let error = try #require(throws: PodRouteError.self) {
            try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address("192.168.77.1"), ifName: "net1")
        }
        #expect(error.step == .addRoute)
        #expect(error.errno == Errno(rawValue: ENETUNREACH))
        #expect(error.description.contains("192.168.77.1"))
        #expect(error.kernelMessage != nil)  // the extended ack: "Nexthop has invalid gateway"
        #expect(pod.defaults(.v4) == ["default via \(pod.v4(1)) dev eth0"])
    }

    @Test func leavesTheCallingThreadInItsNetns() throws {
        let pod = try PodNamespace()
        defer { pod.remove() }
        let before = netnsLink()
        _ = try PodRoutes.defaultRoutes(netns: pod.path)
        try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v4(2)), ifName: "net1")
        #expect(netnsLink() == before)
        #expect(netnsLink("/proc/self/ns/net") == before)  // the main thread's
    }

    @Test func runsConcurrentlyOnDifferentNamespaces() throws {
        let pods = try (0..<10).map { _ in try PodNamespace() }
        defer { pods.forEach { $0.remove() } }
        let failures = Mutex<[String]>([])
        let tasks = pods.map { pod in
            Thread {
                do throws(PodRouteError) {
                    try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v4(2)), ifName: "net1")
                    try PodRoutes.setDefaultRoute(netns: pod.path, gateway: address(pod.v6(2)), ifName: "net1")
                } catch {
                    failures.withLock { $0.append(error.description) }
                }
            }
        }
        tasks.forEach { $0.join() }
        #expect(failures.withLock { $0 } == [])
        for pod in pods {
            #expect(pod.defaults(.v4) == ["default via \(pod.v4(2)) dev net1"])
            #expect(pod.defaults(.v6) == ["default via \(pod.v6(2)) dev net1"])
        }
    }
}

/// What needs no namespace: gateway validation, error texts, message parsing.
struct PodRoutesParsingTests {
    @Test func describesTheCall() {
        let error = PodRouteError(netns: "/var/run/netns/pod", ifName: "net1", gateway: "10.1.2.1",
                                  step: .addRoute, errno: Errno(rawValue: ENETUNREACH), kernelMessage: "Nexthop has invalid gateway")
        #expect(error.description == "setting the default route via 10.1.2.1 dev net1 in netns /var/run/netns/pod: "
            + "cannot add the route: Network is unreachable (errno \(ENETUNREACH)): Nexthop has invalid gateway")
    }

    @Test func roundTripsARouteMessage() throws {
        var route = RouteMessage(family: UInt8(AF_INET6))
        route.attributes = [
            NetlinkAttribute(type: NL.RTA_TABLE, u32: 254),
            NetlinkAttribute(type: NL.RTA_GATEWAY, value: address("fe80::1").bytes),
            NetlinkAttribute(type: NL.RTA_OIF, u32: 7),
        ]
        let parsed = try #require(RouteMessage(payload: route.payload[...]))
        #expect(parsed == route)
        #expect(parsed.hops == [RouteHop(interfaceIndex: 7, gateway: address("fe80::1").bytes)])
        #expect(parsed.fullTable == 254)
    }

    @Test func rejectsLengthsThatOverrunTheBuffer() {
        var header: [UInt8] = []
        header.appendNative(UInt32(64))  // claims 64 bytes, has 16
        header.appendNative(NL.RTM_NEWROUTE)
        header.appendNative(UInt16(0))
        header.appendNative(UInt32(1))
        header.appendNative(UInt32(0))
        #expect(NetlinkMessage.parse(header) == nil)
        #expect(NetlinkAttribute.parse([12, 0, 1, 0, 1, 2, 3, 4][...]) == nil)
        #expect(NetlinkAttribute.parse([2, 0, 1, 0][...]) == nil)
        #expect(RouteMessage(payload: [2, 0, 0][...]) == nil)
    }

    @Test func readsTheKernelsErrorText() throws {
        // struct nlmsgerr (capped: the request header only), then NLMSGERR_ATTR_MSG.
        var payload: [UInt8] = []
        payload.appendNative(-ENETUNREACH)
        payload += [UInt8](repeating: 0, count: 16)
        NetlinkAttribute(type: NL.NLMSGERR_ATTR_MSG, value: Array("Nexthop has invalid gateway".utf8) + [0]).encode(into: &payload)
        let message = NetlinkMessage(type: NL.NLMSG_ERROR, flags: NL.NLM_F_CAPPED | NL.NLM_F_ACK_TLVS, sequence: 1, payload: payload[...])
        let (code, text) = try #require(message.errorCode())
        #expect(code == Errno(rawValue: ENETUNREACH))
        #expect(text == "Nexthop has invalid gateway")
    }

    @Test func formatsAddresses() {
        #expect(address("10.1.2.3").bytes == [10, 1, 2, 3])
        #expect(IPFamily.v4.text(of: [10, 1, 2, 3]) == "10.1.2.3")
        #expect(IPFamily.v6.text(of: address("fd00:0:1::1").bytes) == "fd00:0:1::1")
        #expect(IPFamily.v4.text(of: [1, 2]) == nil)
    }
}

/// A gateway as setDefaultRoute takes it: parsed where the selection is read, so a test's text
/// must be an address.
private func address(_ text: String) -> IPAddress { IPAddress(stringLiteral: text) }
