import CNI
import Glibc
import HTTPS
import KubeClient
import Synchronization
import System
import Testing
import TestSupport

/// The live client against the test API server: trust, names, credentials, retries, framing.
@Suite("LiveKubeAPI over TLS")
struct LiveKubeAPITests {
    static let token = "client-test-token"

    /// A server, a directory and a kubeconfig with a token for it.
    struct Fixture {
        let server: TestAPIServer
        let directory: TemporaryDirectory

        init(tls12Only: Bool = false) throws {
            server = try TestAPIServer(tls12Only: tls12Only)
            directory = try TemporaryDirectory(prefix: "kubeclient-tests")
            try server.addToken(LiveKubeAPITests.token, user: "tester")
        }

        func api(callTimeout: Duration = .seconds(5), edit: (inout Kubeconfig) -> Void = { _ in }) throws -> LiveKubeAPI {
            var kubeconfig = try Kubeconfig.load(path: server.kubeconfig(in: directory.path, token: LiveKubeAPITests.token))
            edit(&kubeconfig)
            return LiveKubeAPI(kubeconfig: kubeconfig, callTimeout: callTimeout, budget: .seconds(10))
        }

        /// One invocation (a new LiveKubeAPI, as each CNI call is a new process) reading a pod
        /// with `sessions`: whether the server saw it resume a TLS session.
        func invocationResumed(_ sessions: TLSSessionCache, _ edit: (inout Kubeconfig) -> Void = { _ in }) throws -> Bool {
            try server.clearLog()
            var kubeconfig = try Kubeconfig.load(path: server.kubeconfig(in: directory.path, token: LiveKubeAPITests.token))
            edit(&kubeconfig)
            let api = LiveKubeAPI(kubeconfig: kubeconfig, callTimeout: .seconds(5), budget: .seconds(10), sessionCache: sessions)
            #expect(try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).metadata.name == "web-0")
            return try #require(server.requests().first).tlsResumed
        }
    }

    @Test func readsAPodAndANAD() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api()
        let pod = try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        #expect(pod.metadata.name == "web-0")
        #expect(!pod.metadata.uid.isEmpty)
        #expect(pod.metadata.annotations["k8s.v1.cni.cncf.io/networks"] != nil)
        let nad = try api.networkAttachmentDefinition(namespace: .make("default"), name: .make("macvlan-conf"), consistency: .quorum)
        #expect(nad.config.contains("macvlan"))
    }

    /// `.cached` asks for `resourceVersion=0`, which the watch cache answers (here two writes
    /// behind: the pod as it was, a NAD created since unknown); `.quorum` asks for none, and storage
    /// answers. The log's `(watch cache)` tells the two apart.
    @Test func cachedAndQuorumReads() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api()
        let calls = Mutex<[String]>([])
        api.observeCalls { report in calls.withLock { $0.append(report.call) } }
        var pod = try #require(try f.server.object(kind: "Pod", namespace: "default", name: "web-0")?.objectValue)
        pod["spec"] = ["nodeName": "node-2"]
        try f.server.setWatchCacheLag(writes: 2)
        try f.server.put(.object(pod))
        try f.server.put(["kind": "NetworkAttachmentDefinition", "metadata": ["name": "fresh-net", "namespace": "default"], "spec": ["config": "{}"]])
        try f.server.clearLog()

        #expect(try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .cached).nodeName != "node-2")
        #expect(try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).nodeName == "node-2")
        let missing = #expect(throws: KubeError.self) {
            try api.networkAttachmentDefinition(namespace: .make("default"), name: .make("fresh-net"), consistency: .cached)
        }
        #expect(missing?.isNotFound == true && missing?.isNotServed == false)
        #expect(try api.networkAttachmentDefinition(namespace: .make("default"), name: .make("fresh-net"), consistency: .quorum).metadata.name == "fresh-net")
        let log = try f.server.requests()
        #expect(log.map(\.query) == ["resourceVersion=0", "", "resourceVersion=0", ""])
        #expect(log.map(\.servedFrom) == [.cache, .storage, .cache, .storage])
        #expect(calls.withLock { $0 } == ["GET pod default/web-0 (watch cache)", "GET pod default/web-0", "GET network-attachment-definition default/fresh-net (watch cache)",
                                          "GET network-attachment-definition default/fresh-net"])
    }

    /// `update` of pods/status is the one status write Multus's ClusterRole grants: the whole pod
    /// goes back with only our annotation changed, conditional on the version we read.
    @Test func statusUpdateSendsTheWholePodAndAStaleVersionConflicts() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api()
        let read = try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        let stored = try api.updatePodStatus(read.settingAnnotation("example.com/a", to: "1"))
        #expect(stored.metadata.annotations["example.com/a"] == "1")
        #expect(stored.metadata.annotations["k8s.v1.cni.cncf.io/networks"] == read.metadata.annotations["k8s.v1.cni.cncf.io/networks"])
        #expect(stored.metadata.resourceVersion != read.metadata.resourceVersion)
        let requests = try f.server.requests()
        #expect(requests.map { "\($0.method) \($0.path) \($0.status)" } == [
            "GET /api/v1/namespaces/default/pods/web-0 200", "PUT /api/v1/namespaces/default/pods/web-0/status 200",
        ])
        #expect(requests.last?.contentType == "application/json")
        let sentSpec = requests.last?.body?["spec"]
        #expect(sentSpec != nil && sentSpec == read.object["spec"], "the pod goes back whole")

        #expect {
            try api.updatePodStatus(read.settingAnnotation("example.com/b", to: "2"))
        } throws: { error in
            (error as? KubeError)?.isConflict == true
        }
        #expect(try f.server.object(kind: "Pod", namespace: "default", name: "web-0")?["metadata"]?["annotations"]?["example.com/b"] == nil)
    }

    @Test func anEventIsCreatedAsClientGoCreatesOne() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api()
        let pod = try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        let time = WallClockTime(seconds: 1_796_395_483, nanoseconds: 5)
        try api.createEvent(KubeEvent(about: pod.metadata, kind: .normal, reason: "AddedInterface", message: "Add net1 [10.1.1.2/24] from default/macvlan-conf",
                                      component: "multus", time: time))
        let events = try f.server.list(kind: "Event", namespace: "default")
        try #require(events.count == 1)
        let event = events[0]
        #expect(event["metadata"]?["name"] == .string("web-0.\(String(1_796_395_483_000_000_005, radix: 16))"))
        #expect(event["involvedObject"] == ["kind": "Pod", "namespace": "default", "name": "web-0", "apiVersion": "v1",
                                            "uid": .string(pod.metadata.uid), "resourceVersion": .string(pod.metadata.resourceVersion)])
        #expect(event["reason"] == "AddedInterface")
        #expect(event["type"] == "Normal")
        #expect(event["source"] == ["component": "multus"])
        #expect(event["firstTimestamp"] == "2026-12-04T14:44:43Z")
        #expect(event["lastTimestamp"] == event["firstTimestamp"])
        #expect(event["count"] == 1)
        #expect(try f.server.requests().map { "\($0.method) \($0.path) \($0.status)" }.last == "POST /api/v1/namespaces/default/events 201")
    }

    @Test func aMissingObjectIsNotFoundWithTheServersMessage() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect {
            try f.api().networkAttachmentDefinition(namespace: .make("default"), name: .make("nope"), consistency: .quorum)
        } throws: { error in
            guard let error = error as? KubeError, case .http(_, let call, 404, let message) = error else { return false }
            return error.isNotFound && call.contains("default/nope") && message.contains("not found")
        }
    }

    /// resource.k8s.io/v1 as Multus v4.3.1's role reads it: a claim by name, the slices of one
    /// driver on one node by server-side field selectors.
    @Test func readsAResourceClaimAndTheSlicesOfADriverOnANode() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.server.put(file: testdata("dra/claim-vf-and-gpu.json"))
        try f.server.put(file: testdata("dra/slices.json"))
        let api = try f.api()
        let claim = try api.resourceClaim(namespace: .make("default"), name: "web-dra-net-x7k2p")
        #expect(claim.results == [DeviceAllocation(request: "vf", driver: "sriovnetwork.k8snetworkplumbingwg.io", pool: "node-1", device: "pf0-vf1"),
                                  DeviceAllocation(request: "gpu", driver: "gpu.nvidia.com", pool: "node-1", device: "gpu-0")])
        #expect(claim.metadata.generation == 1)
        let slices = try api.resourceSlices(driver: "sriovnetwork.k8snetworkplumbingwg.io", nodeName: "node-1")
        #expect(slices.map(\.metadata.name) == ["node-1-sriovnetwork.k8snetworkplumbingwg.io-7xk2p", "node-1-sriovnetwork.k8snetworkplumbingwg.io-old9z"],
                "node-2's slice of the driver and the GPU driver's are left out by the server")
        #expect(slices.first?.poolGeneration == 2 && slices.first?.devices.first?.string("k8s.cni.cncf.io/deviceID") == "0000:08:00.1")
        #expect(try api.resourceSlices(driver: "gpu.nvidia.com", nodeName: "").map(\.metadata.name) == ["node-1-gpu.nvidia.com-4kz9d"])
        let requests = try f.server.requests()
        #expect(requests.map { "\($0.method) \($0.path)?\($0.query) \($0.status)" } == [
            "GET /apis/resource.k8s.io/v1/namespaces/default/resourceclaims/web-dra-net-x7k2p? 200",
            "GET /apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3Dnode-1%2Cspec.driver%3Dsriovnetwork.k8snetworkplumbingwg.io 200",
            "GET /apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.driver%3Dgpu.nvidia.com 200",
        ])
    }

    /// A claim that is not there is NotFound about it; a server without resource.k8s.io/v1
    /// answers 404 about nothing, which is `notServed` (and still a 404, as client-go's
    /// IsNotFound sees both).
    @Test func aMissingClaimIsNotFoundAndAMissingAPIIsNotServed() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api()
        let missing = #expect(throws: KubeError.self) { try api.resourceClaim(namespace: .make("default"), name: "nope") }
        #expect(missing?.isNotFound == true && missing?.isNotServed == false)
        #expect(missing?.description.contains(#"resourceclaims.resource.k8s.io "nope" not found"#) == true)
        try f.server.unserve(["resource.k8s.io/v1"])
        let claim = #expect(throws: KubeError.self) { try api.resourceClaim(namespace: .make("default"), name: "nope") }
        let slices = #expect(throws: KubeError.self) { try api.resourceSlices(driver: "d", nodeName: "n") }
        for error in [claim, slices] {
            #expect(error?.isNotServed == true && error?.isNotFound == true, "\(String(describing: error))")
        }
    }

    @Test func aServerSignedByAnotherCAIsRefused() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let other = try TestAPIServer()
        let foreignCA = try readFile(other.caPath)
        #expect {
            try f.api { $0.certificateAuthority = foreignCA }.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .tls(_, let reason)? = error as? KubeError else { return false }
            return reason.contains("certificate")
        }
    }

    /// The client skips OpenSSL's legacy name table (cossl_init_lean) and adds back only the
    /// digests certificates are signed with; an RSA chain (kubeadm's default) must still verify,
    /// and an RSA client key still sign.
    @Test func anRSACertifiedServerAndClientCertificateWork() throws {
        let server = try TestAPIServer(rsaKeys: true)
        let directory = try TemporaryDirectory(prefix: "kubeclient-rsa")
        defer { directory.remove() }
        try server.addToken(Self.token, user: "tester")
        try server.addCertUser(cn: "system:multus-client")
        #expect(try readFile(server.clientKeyPath).count > 1000, "a PEM RSA 2048 key; an EC P-256 one is ~240 bytes")
        for kubeconfig in [try server.kubeconfig(in: directory.path, token: Self.token),
                           try server.kubeconfig(in: directory.path, clientCert: true, fileName: "cert")] {
            let api = LiveKubeAPI(kubeconfig: try Kubeconfig.load(path: kubeconfig), callTimeout: .seconds(5), budget: .seconds(10))
            #expect(try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).metadata.name == "web-0")
        }
        #expect(try server.requests().map(\.user) == ["tester", "system:multus-client"])
    }

    /// Each CNI call is a new process: a new LiveKubeAPI stands in for one. The server's log
    /// says whether the client resumed a session. TLS 1.3 hands out tickets after the handshake,
    /// TLS 1.2 during it.
    @Test("the next invocation resumes the kept TLS session", arguments: ["TLS 1.3", "TLS 1.2"])
    func theNextInvocationResumesTheKeptTLSSession(version: String) throws {
        let f = try Fixture(tls12Only: version == "TLS 1.2")
        defer { f.directory.remove() }
        // A cniDir that does not exist yet, as on a node's first pod.
        let kept = f.directory.path + "/cni/tls-sessions"
        let sessions = TLSSessionCache(directory: kept)
        func invocationResumed(_ edit: (inout Kubeconfig) -> Void = { _ in }) throws -> Bool { try f.invocationResumed(sessions, edit) }
        #expect(try invocationResumed() == false, "nothing kept yet")
        #expect(try invocationResumed() == true)
        #expect(try invocationResumed() == true, "the resumed connection's new ticket is kept too")

        // Kept without the server's certificate, which resuming never reads.
        let pem = String(decoding: try readFile(f.server.directory + "/pki/server.crt"), as: UTF8.self)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let certificate = try #require(Base64.decode(body))
        let files = try directoryEntries(kept).map { try readFile(kept + "/" + $0) }
        #expect(files.count == 1)
        #expect(files.allSatisfy { !$0.isEmpty && !Self.contains($0, certificate.suffix(64)) })
        // Another name to verify is another identity: a full, verified handshake.
        #expect(try invocationResumed { $0.tlsServerName = "localhost" } == false)
        #expect(try invocationResumed { $0.tlsServerName = "localhost" } == true)

        // A kept session that no longer parses means a full handshake, not a failure.
        for name in directoryEntries(kept) { try writeFile(kept + "/" + name, Array("not a session".utf8)) }
        #expect(try invocationResumed() == false)
        #expect(try invocationResumed() == true)
    }

    /// A kept session resumes a verified identity, so only a file that nobody else could have
    /// written is used: private, ours, not a link, fresh, and made under this very CA.
    @Test func aKeptSessionIsUsedOnlyWhenPrivateFreshAndMadeUnderThisCA() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let kept = f.directory.path + "/tls-sessions"
        let sessions = TLSSessionCache(directory: kept)
        let otherCA = try TestAPIServer(objects: nil)
        let bothCAs = try readFile(f.server.caPath) + (try readFile(otherCA.caPath))
        func resumed(_ edit: (inout Kubeconfig) -> Void = { _ in }) throws -> Bool { try f.invocationResumed(sessions, edit) }
        func file() throws -> String { kept + "/" + (try #require(directoryEntries(kept).first { $0.hasSuffix(".session") })) }
        func age(_ path: String, seconds: Int) {
            var times = [timespec(tv_sec: time(nil) - seconds, tv_nsec: 0), timespec(tv_sec: time(nil) - seconds, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0)
        }
        #expect(try !resumed() && resumed())
        #expect(try mode(file()) == 0o600 && mode(kept) == 0o700)

        #expect(chmod(try file(), 0o644) == 0)
        #expect(try !resumed(), "readable by others")
        #expect(try resumed(), "rewritten 0600")
        #expect(chown(try file(), 65534, 65534) == 0)
        #expect(try !resumed(), "another user's")
        #expect(chmod(kept, 0o755) == 0)
        #expect(try !resumed() && !resumed(), "a directory others may enter: neither read nor written")
        #expect(chmod(kept, 0o700) == 0)
        #expect(try resumed(), "the session stored before")
        let path = try file()
        #expect(rename(path, f.directory.path + "/moved") == 0 && symlink(f.directory.path + "/moved", path) == 0)
        #expect(try !resumed(), "a link")
        age(try file(), seconds: 25 * 3600)
        #expect(try !resumed(), "stale")

        // Another CA: the session made under the first is dropped, not kept beside.
        #expect(try resumed())
        #expect(try !resumed { $0.certificateAuthority = bothCAs })
        #expect(directoryEntries(kept).count == 1)
        #expect(try resumed { $0.certificateAuthority = bothCAs })
        #expect(try !resumed(), "back to the first CA: a full, verified handshake")

        // Storing sweeps stale sessions of other servers, and leftover temporary files.
        let other = kept + "/0000.session", leftover = kept + "/.x.session.tmp-0123456789abcdef"
        for stale in [other, leftover] {
            _ = try writeFile(stale, [1], mode: 0o600)
            age(stale, seconds: 25 * 3600)
        }
        #expect(try !resumed { $0.tlsServerName = "localhost" })
        #expect(!fileExists(other) && !fileExists(leftover))
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    private static func contains(_ haystack: [UInt8], _ needle: ArraySlice<UInt8>) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// The CA is only parsed when a full handshake needs it; a broken one must still be named,
    /// with the kubeconfig it came from.
    @Test("a CA that is not PEM is named, with or without a session cache", arguments: [false, true])
    func aCAThatIsNotPEMIsNamed(cached: Bool) throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let path = try f.server.kubeconfig(in: f.directory.path, token: Self.token)
        var kubeconfig = try Kubeconfig.load(path: path)
        kubeconfig.certificateAuthority = Array("-----BEGIN CERTIFICATE-----\nnot base64\n".utf8)
        let sessions = cached ? TLSSessionCache(directory: f.directory.path + "/tls-sessions") : nil
        let api = LiveKubeAPI(kubeconfig: kubeconfig, callTimeout: .seconds(5), budget: .seconds(10), sessionCache: sessions)
        #expect {
            try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .tls(_, let reason)? = error as? KubeError else { return false }
            return reason == "certificate-authority holds no PEM certificate (in \(path))"
        }
    }

    /// OpenSSL's error texts are loaded only when one is printed (cossl_error_text); they must
    /// still be there, as here for a client key that does not belong to its certificate.
    @Test func openSSLErrorsKeepTheirText() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect {
            try f.api {
                $0.credentials.clientCertificate = try? readFile(f.server.clientCertPath)
                $0.credentials.clientKey = try? readFile(f.server.directory + "/pki/ca.key")
            }.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .tls(_, let reason)? = error as? KubeError else { return false }
            return reason.hasPrefix("client-key does not match client-certificate") && reason.contains("key values mismatch")
                && reason.hasSuffix("(in \(f.directory.path)/kubeconfig)")
        }
    }

    @Test func aNameTheCertificateDoesNotCarryIsRefused() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect {
            try f.api { $0.tlsServerName = "not-the-server.example" }.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .tls(_, let reason)? = error as? KubeError else { return false }
            return reason.contains("not-the-server.example")
        }
        // The certificate carries DNS:localhost: verifying by that name works.
        #expect(try f.api { $0.tlsServerName = "localhost" }.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).metadata.name == "web-0")
    }

    @Test func insecureSkipVerifyNeedsNoCA() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api {
            $0.certificateAuthority = nil
            $0.insecureSkipTLSVerify = true
        }
        #expect(try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).metadata.name == "web-0")
    }

    @Test("retries 503, 429 and a reset connection, then succeeds", arguments: [
        (#"{"failNext":[{"pathContains":"web-0","status":503,"count":2}]}"#, [503, 503, 200]),
        (#"{"failNext":[{"pathContains":"web-0","status":429,"count":1}]}"#, [429, 200]),
        (#"{"resetNext":1}"#, [0, 200]),
    ])
    func retriesTransientFailures(faults: String, statuses: [Int]) throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.server.setFaults(try JSONValue.parse(faults))
        #expect(try f.api().pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).metadata.name == "web-0")
        #expect(try f.server.requests().map(\.status) == statuses, "the fault fired, then the retry succeeded")
    }

    @Test func aPersistentServerErrorIsReportedAfterBoundedRetries() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.server.setFaults(["failNext": [["pathContains": "web-0", "status": 500, "count": 100]]])
        #expect {
            try f.api().pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard let error = error as? KubeError, case .http(_, _, 500, _) = error else { return false }
            return error.isTransient
        }
        #expect(try f.server.requests().count == 5)
    }

    @Test func chunkedBodiesAndOneConnectionForManyCalls() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.server.setFaults(["chunked": true])
        let api = try f.api()
        for _ in 0..<3 { #expect(try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum).metadata.name == "web-0") }
        let requests = try f.server.requests()
        #expect(requests.count == 3)
        #expect(Set(requests.map(\.clientPort)).count == 1, "one kept-alive connection: \(requests.map(\.clientPort))")
        #expect(requests.first?.clientPort != 0)
    }

    @Test func aSlowServerTimesOut() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.server.setFaults(["latencyMs": 3000])
        let started = ContinuousClock.now
        #expect {
            try f.api(callTimeout: .milliseconds(300)).pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .timeout? = error as? KubeError else { return false }
            return true
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// The old reader added a chunk's size to the body's before checking it: a server (or
    /// anything between) answering `7fffffffffffffff` after one byte trapped the plugin.
    @Test func anOverflowingChunkSizeIsAMalformedResponse() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n7fffffffffffffff\r\n"
        try f.server.setFaults(["rawNext": .array(Array(repeating: .string(answer), count: 5))])
        #expect {
            try f.api().pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .malformedResponse(_, let call, let reason)? = error as? KubeError else { return false }
            return call == "GET pod default/web-0" && reason.contains("chunk size")
        }
    }

    /// Reads a pod from a server with `faults` through a client of `callTimeout`, `budget` and
    /// `attempts`: it must time out, and within `bound`.
    private func expectCutOff(faults: JSONValue, callTimeout: Duration, budget: Duration, attempts: Int = 5, within bound: Duration,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.server.setFaults(faults)
        let kubeconfig = try Kubeconfig.load(path: f.server.kubeconfig(in: f.directory.path, token: Self.token))
        let api = LiveKubeAPI(kubeconfig: kubeconfig, callTimeout: callTimeout, budget: budget, attempts: attempts)
        let started = ContinuousClock.now
        #expect(sourceLocation: sourceLocation) {
            try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .timeout? = error as? KubeError else { return false }
            return true
        }
        #expect(ContinuousClock.now - started < bound, sourceLocation: sourceLocation)
    }

    /// The API server's words are untrusted input too: a Status message is echoed bounded.
    @Test func aHugeStatusMessageIsClipped() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let status = #"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","details":{"name":"web-0","kind":"pods"},"code":404,"message":"\#(String(repeating: "m", count: 100_000))"}"#
        try f.server.setFaults(["rawNext": [.string("HTTP/1.1 404 Not Found\r\nContent-Length: \(status.utf8.count)\r\n\r\n" + status)]])
        #expect {
            try f.api().pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard case .http(_, _, 404, let message)? = error as? KubeError else { return false }
            return message.utf8.count <= LiveKubeAPI.statusMessageLimit + 3 && message.hasSuffix("…")
        }
    }

    /// A server that answers one byte every 20 ms never finishes a pod within a call's second:
    /// the call's deadline ends it, and the invocation's budget ends the retries (3 s, and at
    /// most one call in flight past it).
    @Test func aTricklingServerIsCutOffByTheDeadline() throws {
        try expectCutOff(faults: ["trickleMs": 20], callTimeout: .seconds(1), budget: .seconds(3), within: .seconds(6))
    }

    /// A body in one-byte chunks, sent as fast as TCP takes it: no read ever waits, so only a
    /// deadline checked between reads can end the call (500 ms, and the connection's set-up).
    /// The old reader also copied its buffer for every chunk, and ran 9.5 s past the deadline.
    @Test func aFastEndlessStreamOfTinyChunksIsCutOffByTheDeadline() throws {
        let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "1\r\n \r\n", count: 1 << 20)
        try expectCutOff(faults: ["rawNext": [.string(answer)]], callTimeout: .milliseconds(500), budget: .seconds(2), attempts: 1,
                         within: .seconds(3))
    }

    @Test func nobodyListeningIsATransientConnectError() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let api = try f.api { $0.server.port = 1 }
        #expect {
            try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
        } throws: { error in
            guard let error = error as? KubeError, case .connect(let server, _) = error else { return false }
            return error.isTransient && server.contains(":1")
        }
    }
}
