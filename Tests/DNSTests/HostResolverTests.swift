// HostResolver without the network: IP literals, hosts and resolv.conf fixtures, and a fake DNS
// server on 127.0.0.1 (UDP and TCP on one ephemeral port, answered from a pthread) that plays
// the parts of good, slow, broken and hostile nameservers.
import Glibc
import Synchronization
@testable import System
import TestSupport
import Testing

@testable import DNS

/// Everything about resolving names, under one name for `swift test --filter HostResolverTests`.
@Suite enum HostResolverTests {}

// MARK: - Literals

extension HostResolverTests {
    @Suite struct Literals {
        @Test func literalsSkipFilesAndDNS() throws {
            let resolver = HostResolver(
                hostsFile: "/nonexistent/hosts", resolvConf: "/nonexistent/resolv.conf", nameservers: [])
            #expect(try resolver.resolve("[fd00::5]", port: 6443) == [SocketAddress(literal: "fd00::5", port: 6443)!])
            #expect(try resolver.resolve("192.0.2.7", port: 1) == [SocketAddress(literal: "192.0.2.7", port: 1)!])
        }

        @Test(arguments: [
            "fe80::1%eth0", "[fe80::1%25eth0]", "fd00:::1", "[api.example]", "a..example", ".example",
            String(repeating: "a", count: 64) + ".example", String(repeating: "abcdefg.", count: 32) + "example",
        ])
        func invalidHostsFailWithoutNetwork(host: String) {
            let resolver = HostResolver(
                hostsFile: "/nonexistent/hosts", resolvConf: "/nonexistent/resolv.conf", nameservers: [])
            let error = resolveError(resolver, host)
            #expect(error?.host == host)
            #expect(error?.reason.contains("not a valid") == true, "\(String(describing: error))")
            if host.contains("%") { #expect(error?.reason.contains("zone") == true) }
        }
    }
}

// MARK: - Files

extension HostResolverTests {
    @Suite struct Files {
        static let hosts = testdata("resolver/hosts")

        @Test(arguments: [
            ("localhost", ["127.0.0.1:80", "[::1]:80"]),
            ("ip6-localhost", ["[::1]:80"]),
            ("api.cluster.example", ["10.0.0.10:80", "10.0.0.11:80", "[fd00::10]:80"]),
            ("API.CLUSTER.example", ["10.0.0.10:80", "10.0.0.11:80", "[fd00::10]:80"]),
            ("api", ["10.0.0.10:80"]),
            ("kube-apiserver.", ["10.0.0.10:80"]),
            ("multi.example", ["10.0.0.20:80", "10.0.0.21:80"]),
            ("six-only.example", ["[fd00::21]:80"]),
            ("indented.example", ["10.0.0.40:80"]),
            ("dup.example", ["10.0.0.50:80"]),
            ("crlf.example", ["10.0.0.60:80"]),
            ("crlf2.example", ["10.0.0.61:80"]),
        ])
        func hostsFile(host: String, expected: [String]) throws {
            let resolver = HostResolver(hostsFile: Self.hosts, resolvConf: "/nonexistent/resolv.conf", nameservers: [])
            #expect(try resolver.resolve(host, port: 80).map(\.description) == expected)
        }

        @Test(arguments: [
            "commented.example", "zoned.example", "bogus.example", "not-an-ip", "cluster.example",
            "api.cluster", "trailing", "#10.9.9.9",
        ])
        func notInHostsFile(host: String) {
            #expect(
                HostsFile.addresses(of: host, in: String(decoding: readWholeFile(Self.hosts) ?? [], as: UTF8.self))
                    .isEmpty)
            let resolver = HostResolver(hostsFile: Self.hosts, resolvConf: "/nonexistent/resolv.conf", nameservers: [])
            let error = resolveError(resolver, host)
            #expect(error?.reason == "not in \(Self.hosts); no nameservers to ask")
        }

        @Test func unreadableHostsFileIsReported() {
            let resolver = HostResolver(
                hostsFile: "/nonexistent/hosts", resolvConf: "/nonexistent/resolv.conf", nameservers: [])
            #expect(
                resolveError(resolver, "api")?.reason.hasPrefix(
                    "/nonexistent/hosts unreadable (No such file or directory)") == true)
        }

        @Test func resolvConfFixture() throws {
            let text = String(decoding: try readFile(testdata("resolver/resolv.conf")), as: UTF8.self)
            let conf = ResolvConf(parsing: text)
            #expect(conf.nameservers.map(\.description) == ["10.96.0.10:53", "[fd00::a]:53", "10.0.0.3:53"])
            #expect(conf.search == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local."])
            #expect(conf.ndots == 5)
            #expect(conf.timeout == .seconds(2))
            #expect(conf.attempts == 3)
        }

        @Test func resolvConfDefaultsAndLimits() {
            let empty = ResolvConf(parsing: "")
            #expect(empty.nameservers.map(\.description) == ["127.0.0.1:53"])
            #expect(empty.search.isEmpty && empty.ndots == 1 && empty.attempts == 2 && empty.timeout == .seconds(5))
            let clamped = ResolvConf(
                parsing: "options ndots:99 timeout:0 attempts:77\nsearch a.example\ndomain b.example\n")
            #expect(clamped.ndots == 15 && clamped.timeout == .seconds(1) && clamped.attempts == 5)
            #expect(clamped.search == ["b.example"])
            let missing = ResolvConf.load("/nonexistent/resolv.conf")
            #expect(missing.nameservers.map(\.description) == ["127.0.0.1:53"])
            #expect(missing.problem == "/nonexistent/resolv.conf: No such file or directory")
        }

        @Test(arguments: [
            ("api", ["a.example", "b.example"], 1, ["api.a.example", "api.b.example", "api"]),
            ("api.svc", ["a.example", "b.example"], 1, ["api.svc", "api.svc.a.example", "api.svc.b.example"]),
            ("api.svc", ["a.example", "b.example"], 2, ["api.svc.a.example", "api.svc.b.example", "api.svc"]),
            ("api.example.", ["a.example"], 5, ["api.example"]),
            ("api", ["a.example"], 0, ["api", "api.a.example"]),
            ("API", ["A.example.", ".", "a.example"], 1, ["api.a.example", "api"]),
            (
                "kubernetes.default.svc", ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], 5,
                [
                    "kubernetes.default.svc.default.svc.cluster.local", "kubernetes.default.svc.svc.cluster.local",
                    "kubernetes.default.svc.cluster.local", "kubernetes.default.svc",
                ]
            ),
            ("api", [String(repeating: "abcdefg.", count: 31) + "example"], 1, ["api"]),
        ])
        func searchOrder(host: String, domains: [String], ndots: Int, expected: [String]) {
            #expect(HostResolver.searchNames(for: host, domains: domains, ndots: ndots).map(\.description) == expected)
        }
    }
}

// MARK: - DNS against a fake server

extension HostResolverTests {
    @Suite struct Nameservers {
        /// Writes a resolv.conf (its nameservers are overridden) and an empty hosts file.
        static func resolver(
            _ directory: TemporaryDirectory, _ servers: [FakeDNSServer], resolvConf: String = "",
            timeout: Duration = .seconds(5)
        ) throws -> HostResolver {
            HostResolver(
                hostsFile: try directory.file("hosts", contents: Array("127.0.0.1 localhost\n".utf8)),
                resolvConf: try directory.file("resolv.conf", contents: Array(resolvConf.utf8)),
                nameservers: servers.map(\.address), timeout: timeout)
        }

        @Test func addressesIPv4First() throws {
            let server = try FakeDNSServer { query, _ in
                switch query.type {
                case 1:
                    [
                        Reply.make(
                            query,
                            answers: [.a(Reply.questionPointer, "10.1.0.1"), .a(Reply.questionPointer, "10.1.0.2")])
                    ]
                case 28: [Reply.make(query, answers: [.aaaa(Reply.encode(query.name), "fd00::1")])]
                default: [Reply.make(query, rcode: 4)]
                }
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let found = try Nameservers.resolver(directory, [server]).resolve("api.example", port: 443)
            #expect(found.map(\.description) == ["10.1.0.1:443", "10.1.0.2:443", "[fd00::1]:443"])
            #expect(Set(server.log) == ["udp A api.example", "udp AAAA api.example"])
        }

        @Test func followsCNAMEChainsAndIgnoresOtherOwners() throws {
            let server = try FakeDNSServer { query, _ in
                // www.example -> edge.example (compressed against the question) -> lb.example
                let edge = [4] + Array("edge".utf8) + [0xc0, 0x10]  // "edge" + pointer to "example" in the question
                var answers: [Reply.Record] = [
                    .cname(Reply.questionPointer, Reply.encode("EDGE.example")),
                    .other(Reply.encode("other.example"), type: 1, rdata: [10, 9, 9, 9]),
                    .cname(edge, Reply.encode("lb.example")),
                ]
                if query.type == 1 {
                    answers += [
                        .a(Reply.encode("lb.example"), "10.2.0.1"),
                        .other(Reply.encode("lb.example"), type: 1, rdata: [1, 2, 3]),
                    ]
                }
                return [Reply.make(query, answers: answers)]
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            #expect(
                try Nameservers.resolver(directory, [server]).resolve("www.example", port: 80).map(\.description) == [
                    "10.2.0.1:80"
                ])
        }

        @Test func searchDomainsAndNdots() throws {
            let server = try FakeDNSServer { query, _ in
                guard query.name == "api.b.example" else { return [Reply.make(query, rcode: 3)] }
                return [Reply.make(query, answers: query.type == 1 ? [.a(Reply.questionPointer, "10.3.0.1")] : [])]
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let resolver = try Nameservers.resolver(
                directory, [server], resolvConf: "search a.example b.example\noptions ndots:2\n")
            #expect(try resolver.resolve("api", port: 1).map(\.description) == ["10.3.0.1:1"])
            #expect(server.names(.udp) == ["api.a.example", "api.b.example"])

            // As many dots as ndots: as-is first, then the search list.
            let dotted = resolveError(resolver, "x.y.z")
            #expect(server.names(.udp).suffix(3) == ["x.y.z", "x.y.z.a.example", "x.y.z.b.example"])
            let prefix = "not in \(directory.pathOf("hosts")); DNS \(server.address)"
            #expect(dotted?.reason == "\(prefix): NXDOMAIN for x.y.z, x.y.z.a.example, x.y.z.b.example")
            // Fewer dots than ndots: the search list first.
            _ = resolveError(resolver, "x.y")
            #expect(server.names(.udp).suffix(3) == ["x.y.a.example", "x.y.b.example", "x.y"])
            // A trailing dot: only the name itself.
            _ = resolveError(resolver, "api.b.example.c.")
            #expect(server.names(.udp).last == "api.b.example.c")
            #expect(server.names(.udp).count == 9)
        }

        @Test func allCandidatesFailReportsEachOutcome() throws {
            let server = try FakeDNSServer { query, _ in
                query.name == "api.a.example" ? [Reply.make(query, answers: [])] : [Reply.make(query, rcode: 3)]
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let resolver = try Nameservers.resolver(directory, [server], resolvConf: "search a.example b.example\n")
            let error = resolveError(resolver, "api")
            #expect(error?.host == "api")
            let prefix = "not in \(directory.pathOf("hosts")); DNS \(server.address)"
            #expect(error?.reason == "\(prefix): no A or AAAA records for api.a.example; NXDOMAIN for api.b.example, api")
        }

        @Test func truncatedAnswersRetryOverTCP() throws {
            let server = try FakeDNSServer { query, transport in
                guard transport == .tcp else { return [Reply.make(query, truncated: true)] }
                if query.type == 28 { return [Reply.make(query, answers: [])] }
                return [Reply.make(query, answers: (1...60).map { .a(Reply.questionPointer, "10.4.0.\($0)") })]
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let found = try Nameservers.resolver(directory, [server]).resolve("big.example", port: 443)
            #expect(found.count == 60)
            #expect(found.first?.description == "10.4.0.1:443")
            #expect(
                Set(server.log) == [
                    "udp A big.example", "udp AAAA big.example", "tcp A big.example", "tcp AAAA big.example",
                ])
        }

        @Test func serverFailureAndRefusedPortMoveToTheNextServer() throws {
            let failing = try FakeDNSServer { query, _ in [Reply.make(query, rcode: 2)] }
            defer { failing.stop() }
            let good = try FakeDNSServer { query, _ in
                [Reply.make(query, answers: query.type == 1 ? [.a(Reply.questionPointer, "10.5.0.1")] : [])]
            }
            defer { good.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var resolver = try Nameservers.resolver(directory, [failing, good])
            resolver.nameservers = [try closedUDPPort(), failing.address, good.address]
            let started = ContinuousClock.now
            #expect(try resolver.resolve("api.example", port: 1).map(\.description) == ["10.5.0.1:1"])
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(failing.log.count == 2)

            resolver.nameservers = [try closedUDPPort(), failing.address]
            let error = resolveError(resolver, "api.example")
            #expect(
                error?.reason.contains("SERVFAIL from \(failing.address) for api.example") == true,
                "\(String(describing: error))")
        }

        @Test func strayAndSpoofedPacketsAreIgnored() throws {
            let server = try FakeDNSServer { query, _ in
                let good: [Reply.Record] = query.type == 1 ? [.a(Reply.questionPointer, "10.6.0.1")] : []
                var wrongID = query
                wrongID.id &+= 1
                var wrongName = query
                wrongName.name = "evil.example"
                var wrongType = query
                wrongType.type = query.type == 1 ? 28 : 1
                return [
                    Reply.make(wrongID, answers: [.a(Reply.questionPointer, "6.6.6.1")]),
                    Reply.make(wrongName, answers: [.a(Reply.questionPointer, "6.6.6.2")]),
                    Reply.make(wrongType, answers: [.a(Reply.questionPointer, "6.6.6.3")]),
                    Reply.make(query, answers: [.a(Reply.questionPointer, "6.6.6.4")], isResponse: false),
                    Array(Reply.make(query, answers: [.a(Reply.questionPointer, "6.6.6.5")]).prefix(11)),
                    Reply.make(query, answers: good),
                ]
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            #expect(
                try Nameservers.resolver(directory, [server]).resolve("api.example", port: 1).map(\.description) == [
                    "10.6.0.1:1"
                ])
        }

        @Test func silentServerFailsWithinTheBudget() throws {
            let server = try FakeDNSServer { _, _ in [] }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let resolver = try Nameservers.resolver(
                directory, [server], resolvConf: "search a.example\n", timeout: .milliseconds(700))
            let started = ContinuousClock.now
            let error = resolveError(resolver, "api")
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(600) && elapsed < .milliseconds(1500), "took \(elapsed)")
            #expect(
                error?.reason.contains("DNS \(server.address): no answer from \(server.address) for api.a.example")
                    == true, "\(String(describing: error))")
            #expect(
                error?.reason.contains("not tried within the 0.7 seconds budget: api") == true,
                "\(String(describing: error))")
            #expect(server.names(.udp).allSatisfy { $0 == "api.a.example" })
        }

        @Test func anAnswerForOneFamilyDoesNotWaitForeverForTheOther() throws {
            let server = try FakeDNSServer { query, _ in
                query.type == 1 ? [Reply.make(query, answers: [.a(Reply.questionPointer, "10.7.0.1")])] : []
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let started = ContinuousClock.now
            #expect(
                try Nameservers.resolver(directory, [server]).resolve("api.example", port: 1).map(\.description) == [
                    "10.7.0.1:1"
                ])
            #expect(ContinuousClock.now - started < .seconds(2))
        }

        @Test func garbageAnswersNeverCrash() throws {
            let server = try FakeDNSServer { query, _ in
                var generator = SystemRandomNumberGenerator()
                let header = Array(Reply.make(query, answers: []).prefix(12))
                let echoed = Reply.make(query, answers: [])
                func noise(_ count: Int) -> [UInt8] {
                    (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
                }
                return [
                    noise(Int.random(in: 0...600)),
                    header + noise(Int.random(in: 0...300)),
                    // Answer count 0xffff and random records after a valid question.
                    Array(echoed.prefix(6)) + [0xff, 0xff] + Array(echoed[8...]) + noise(Int.random(in: 0...300)),
                    // Compression loops: a pointer to itself, and two pointers to each other.
                    Reply.make(query, answers: [.other([0xc0, UInt8(echoed.count)], type: 1, rdata: [1, 1, 1, 1])]),
                    Reply.make(query, answers: [.cname(Reply.questionPointer, [0xc0, UInt8(echoed.count + 12)])])
                        + [0xc0, UInt8(echoed.count + 14), 0xc0, UInt8(echoed.count + 12)],
                ]
            }
            defer { server.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let resolver = try Nameservers.resolver(directory, [server], timeout: .milliseconds(400))
            for index in 0..<10 {
                let error = resolveError(resolver, "g\(index).example")
                #expect(error?.reason.contains("g\(index).example") == true, "\(String(describing: error))")
            }
        }
    }
}

// MARK: - The wire format directly

extension HostResolverTests {
    @Suite struct WireFormat {
        @Test func queryBytes() throws {
            let name = try #require(DNSName("Api.Example."))
            #expect(
                DNSMessage.query(id: 0x1234, name: name, type: .aaaa) == [
                    0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                    3, 0x61, 0x70, 0x69, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0, 0, 28, 0, 1,
                ])
        }

        @Test func compressionLoopsAreMalformedNotHangs() throws {
            let name = try #require(DNSName("api.example"))
            let query = FakeDNSServer.Query(id: 7, name: "api.example", type: 1)
            let base = Reply.make(query, answers: [])
            let selfLoop = Reply.make(
                query, answers: [.other([0xc0, UInt8(base.count)], type: 1, rdata: [1, 1, 1, 1])])
            #expect(
                DNSMessage.answer(selfLoop, id: 7, name: name, type: .a) == .malformed("undecodable answer section"))
            let cnameLoop = Reply.make(
                query,
                answers: [
                    .cname(Reply.questionPointer, Reply.encode("b.example")),
                    .cname(Reply.encode("b.example"), Reply.questionPointer),
                ])
            #expect(
                DNSMessage.answer(cnameLoop, id: 7, name: name, type: .a) == .malformed("CNAME loop at api.example"))
            var questionLoop = base
            questionLoop[12] = 0xc0
            questionLoop[13] = 12
            #expect(DNSMessage.answer(questionLoop, id: 7, name: name, type: .a) == nil)
        }

        @Test func randomAndMutatedPacketsNeverTrap() throws {
            let name = try #require(DNSName("api.example"))
            let query = FakeDNSServer.Query(id: 9, name: "api.example", type: 1)
            let valid = Reply.make(
                query,
                answers: [
                    .cname(Reply.questionPointer, Reply.encode("lb.example")),
                    .a(Reply.encode("lb.example"), "10.8.0.1"), .a(Reply.encode("other.example"), "10.8.0.2"),
                ])
            #expect(DNSMessage.answer(valid, id: 9, name: name, type: .a) == .addresses([[10, 8, 0, 1]]))
            var generator = SeededGenerator(seed: 0xD5_5EED)
            var seen: [String: Int] = [:]
            for round in 0..<20_000 {
                var packet = valid
                if round % 4 == 0 {
                    packet = (0..<Int.random(in: 0...80, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                } else {
                    for _ in 0..<Int.random(in: 1...6, using: &generator) {
                        packet[Int.random(in: 0..<packet.count, using: &generator)] = UInt8.random(
                            in: 0...255, using: &generator)
                    }
                    if round % 3 == 0 {
                        packet = Array(packet.prefix(Int.random(in: 0...packet.count, using: &generator)))
                    }
                }
                let echoedID = UInt16(packet.first ?? 0) << 8 | UInt16(packet.dropFirst().first ?? 0)
                for (id, type) in [(UInt16(9), DNSRecordType.a), (echoedID, .aaaa)] {
                    let kind = answerKind(DNSMessage.answer(packet, id: id, name: name, type: type), type: type)
                    if kind.hasPrefix("wrong"), !seen.keys.contains(where: { $0.hasPrefix("wrong") }) {
                        Issue.record("\(generator), round \(round), \(type): \(kind) for \(packet)")
                    }
                    seen[kind.hasPrefix("wrong") ? "wrong" : kind, default: 0] += 1
                }
            }
            // Every outcome the decoder has comes up, and nothing else does.
            #expect(seen.keys.sorted() == [
                "addresses", "malformed", "nameError", "noData", "not an answer", "serverFailure", "truncated",
            ], "\(generator): \(seen)")
            #expect(seen.values.reduce(0, +) == 40_000, "\(generator)")
        }
    }
}

/// The outcome of reading a fuzzed packet, by kind; "wrong ..." when the answer breaks the
/// decoder's promises (addresses of the asked size and never none, a reason for malformed,
/// an rcode other than 0 and 3 for a server failure).
private func answerKind(_ answer: DNSAnswer?, type: DNSRecordType) -> String {
    switch answer {
    case nil: "not an answer"
    case .addresses(let list):
        !list.isEmpty && list.allSatisfy { $0.count == (type == .a ? 4 : 16) } ? "addresses" : "wrong addresses \(list)"
    case .malformed(let reason): reason.isEmpty ? "wrong: malformed without a reason" : "malformed"
    case .noData: "noData"
    case .nameError: "nameError"
    case .truncated: "truncated"
    case .serverFailure(let rcode): rcode != 0 && rcode != 3 ? "serverFailure" : "wrong rcode \(rcode)"
    }
}

// MARK: - Fixtures

/// The error `resolve` threw, nil if it succeeded.
func resolveError(_ resolver: HostResolver, _ host: String) -> ResolveError? {
    do {
        _ = try resolver.resolve(host, port: 1)
        return nil
    } catch {
        return error
    }
}

/// A UDP port on 127.0.0.1 nobody listens on (bound, then closed): queries to it are refused.
func closedUDPPort() throws -> SocketAddress {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    let port = try bindLoopback(fd, port: 0)
    return SocketAddress(family: .v4, bytes: [127, 0, 0, 1], port: port)
}

/// Binds `fd` to 127.0.0.1:`port` and returns the port bound.
func bindLoopback(_ fd: Int32, port: Int) throws -> Int {
    let address = SocketAddress(family: .v4, bytes: [127, 0, 0, 1], port: port)
    guard fd >= 0, address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
        throw FixtureError(call: "bind", path: address.description, errno: errno)
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: bound.sin_port))
}

/// Builds answers the way a server would (independently of the code under test).
enum Reply {
    /// A pointer to the question's name, which always starts at offset 12.
    static let questionPointer: [UInt8] = [0xc0, 0x0c]

    enum Record {
        case a([UInt8], String)
        case aaaa([UInt8], String)
        case cname([UInt8], [UInt8])
        case other([UInt8], type: UInt16, rdata: [UInt8])
    }

    static func encode(_ name: String) -> [UInt8] {
        name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func make(
        _ query: FakeDNSServer.Query, rcode: UInt8 = 0, truncated: Bool = false, answers: [Record] = [],
        isResponse: Bool = true
    ) -> [UInt8] {
        var flags: UInt16 = 0x0180 | UInt16(rcode)  // RD, RA
        if isResponse { flags |= 0x8000 }
        if truncated { flags |= 0x0200 }
        var bytes = u16(query.id) + u16(flags) + u16(1) + u16(UInt16(answers.count)) + u16(0) + u16(0)
        bytes += encode(query.name) + u16(query.type) + u16(1)
        for record in answers {
            let (owner, type, rdata): ([UInt8], UInt16, [UInt8]) =
                switch record {
                case .a(let owner, let text): (owner, 1, SocketAddress(literal: text, port: 0)?.bytes ?? [])
                case .aaaa(let owner, let text): (owner, 28, SocketAddress(literal: text, port: 0)?.bytes ?? [])
                case .cname(let owner, let target): (owner, 5, target)
                case .other(let owner, let type, let rdata): (owner, type, rdata)
                }
            bytes += owner + u16(type) + u16(1) + [0, 0, 0, 60] + u16(UInt16(rdata.count)) + rdata
        }
        return bytes
    }

    private static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
}

/// A nameserver on 127.0.0.1: UDP and TCP on the same ephemeral port, served by one pthread
/// until `stop()`. `handler` returns the messages to send back (none, one, or decoys first).
final class FakeDNSServer: Sendable {
    enum Transport: Sendable { case udp, tcp }

    struct Query: Sendable {
        var id: UInt16
        var name: String
        var type: UInt16
    }

    typealias Handler = @Sendable (Query, Transport) -> [[UInt8]]

    let address: SocketAddress
    private let endpoint: Endpoint
    private let thread: pthread_t

    init(handler: @escaping Handler) throws {
        endpoint = try Endpoint(handler: handler)
        address = endpoint.address
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { context in
                context.map { Unmanaged<Endpoint>.fromOpaque($0).takeRetainedValue().serve() }
                return nil
            }, Unmanaged.passRetained(endpoint).toOpaque())
        guard result == 0 else {
            endpoint.close()
            throw FixtureError(call: "pthread_create", path: "", errno: result)
        }
        self.thread = thread
    }

    /// "udp A api.example" per query received, in order.
    var log: [String] { endpoint.seen.withLock { $0 } }

    /// The names asked over `transport`, in the order first asked.
    func names(_ transport: Transport) -> [String] {
        let prefix = transport == .udp ? "udp " : "tcp "
        var seen = Set<String>()
        return log.filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.map(String.init) }
            .filter { seen.insert($0).inserted }
    }

    /// Ends the thread and closes the sockets.
    func stop() {
        var byte: UInt8 = 1
        _ = write(endpoint.wake.write, &byte, 1)
        pthread_join(thread, nil)
        endpoint.close()
    }

    /// The sockets and what the serving thread shares with the tests.
    private final class Endpoint: Sendable {
        let udp: Int32
        let tcp: Int32
        let wake: (read: Int32, write: Int32)
        let address: SocketAddress
        let seen = Mutex<[String]>([])
        let handler: Handler

        init(handler: @escaping Handler) throws {
            self.handler = handler
            let (udp, tcp) = try Self.bindPair()
            (self.udp, self.tcp) = (udp, tcp)
            var pipeEnds: [Int32] = [0, 0]
            guard pipe(&pipeEnds) == 0 else {
                Glibc.close(udp)
                Glibc.close(tcp)
                throw FixtureError(call: "pipe2", path: "", errno: errno)
            }
            pipeEnds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
            wake = (pipeEnds[0], pipeEnds[1])
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
            }
            address = SocketAddress(family: .v4, bytes: [127, 0, 0, 1], port: Int(UInt16(bigEndian: bound.sin_port)))
        }

        func close() { [udp, tcp, wake.read, wake.write].forEach { _ = Glibc.close($0) } }

        /// A UDP and a TCP socket bound to the same free port (retried if TCP finds it taken).
        private static func bindPair() throws -> (Int32, Int32) {
            for _ in 0..<20 {
                let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                let port = try bindLoopback(udp, port: 0)
                let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                if (try? bindLoopback(tcp, port: port)) != nil, listen(tcp, 8) == 0 { return (udp, tcp) }
                Glibc.close(udp)
                Glibc.close(tcp)
            }
            throw FixtureError(call: "bind", path: "127.0.0.1 udp+tcp", errno: EADDRINUSE)
        }

        func serve() {
            var packet = [UInt8](repeating: 0, count: 65536)
            while true {
                var fds = [
                    pollfd(fd: udp, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: tcp, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                ]
                guard poll(&fds, 3, -1) >= 0 || errno == EINTR else { return }
                if fds[2].revents != 0 { return }
                if fds[0].revents != 0 { answerUDP(&packet) }
                if fds[1].revents != 0 { answerTCP() }
            }
        }

        private func answerUDP(_ packet: inout [UInt8]) {
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { from in
                    packet.withUnsafeMutableBytes { recvfrom(udp, $0.baseAddress, $0.count, 0, from, &length) }
                }
            }
            guard count > 0, let query = FakeDNSServer.parse(Array(packet[0..<count])) else { return }
            record(query, .udp)
            for reply in handler(query, .udp) {
                _ = withUnsafePointer(to: &peer) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
                        reply.withUnsafeBytes { sendto(udp, $0.baseAddress, $0.count, 0, to, length) }
                    }
                }
            }
        }

        private func answerTCP() {
            let connection = accept(tcp, nil, nil)
            guard connection >= 0 else { return }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            defer { Glibc.close(connection) }
            var limit = timeval(tv_sec: 2, tv_usec: 0)
            _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            guard let prefix = Self.readExactly(connection, 2),
                let message = Self.readExactly(connection, Int(prefix[0]) << 8 | Int(prefix[1])),
                let query = FakeDNSServer.parse(message)
            else { return }
            record(query, .tcp)
            for reply in handler(query, .tcp) {
                let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xff)] + reply
                _ = framed.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }

        private func record(_ query: Query, _ transport: Transport) {
            let type = query.type == 1 ? "A" : query.type == 28 ? "AAAA" : "TYPE\(query.type)"
            seen.withLock { $0.append("\(transport) \(type) \(query.name)") }
        }

        private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            var offset = 0
            while offset < count {
                let n = bytes.withUnsafeMutableBytes { raw in
                    raw.baseAddress.map { recv(fd, $0 + offset, count - offset, 0) } ?? -1
                }
                guard n > 0 else { return nil }
                offset += n
            }
            return bytes
        }
    }

    /// The ID, name and type of a query (uncompressed, one question).
    static func parse(_ packet: [UInt8]) -> Query? {
        guard packet.count > 12 else { return nil }
        var labels: [String] = []
        var offset = 12
        while offset < packet.count, packet[offset] != 0 {
            let length = Int(packet[offset])
            guard length < 64, offset + 1 + length < packet.count else { return nil }
            labels.append(String(decoding: packet[(offset + 1)...(offset + length)], as: UTF8.self))
            offset += 1 + length
        }
        guard offset + 4 < packet.count else { return nil }
        return Query(
            id: UInt16(packet[0]) << 8 | UInt16(packet[1]), name: labels.joined(separator: "."),
            type: UInt16(packet[offset + 1]) << 8 | UInt16(packet[offset + 2]))
    }
}
