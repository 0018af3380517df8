// The local test API server (Tests/apiserver) speaks Kubernetes as a real API server does:
// checked here over real HTTPS with python3's http.client (Tests/apiserver/request.py), so the
// kube client's own tests can trust what it answers. No root needed.
import CNI
import Glibc
import Testing
import TestSupport

@Suite("Test API server")
struct TestAPIServerTests {
    static let pod = "/api/v1/namespaces/default/pods/web-0"
    static let nads = "/apis/k8s.cni.cncf.io/v1/namespaces"
    static let claim = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/web-dra-net-x7k2p"

    @Test("tokens and client certificates: 200, 401, 403 and 404 answered as Status objects, and logged")
    func authentication() throws {
        let server = try TestAPIServer()
        try server.addToken("abc", user: "multus", namespaces: ["default", "kube-system"])
        try server.addCertUser(cn: "system:multus-client", namespaces: ["kube-system"])

        let answers = try send(server, [
            ["path": .string(Self.pod), "token": "abc"],
            ["path": .string(Self.pod)],
            ["path": .string(Self.pod), "token": "wrong"],
            ["path": "/api/v1/namespaces/blue/pods/web-0", "token": "abc"],
            ["path": "/api/v1/namespaces/default/pods/web-9", "token": "abc"],
            ["path": .string("\(Self.nads)/default/network-attachment-definitions/macvlan-conf"), "token": "abc"],
            ["path": .string("\(Self.nads)/blue/network-attachment-definitions/blue-net"), "token": "abc"],
        ])
        #expect(answers.map(\.status) == [200, 401, 401, 403, 404, 200, 403])
        #expect(answers[0].body["metadata"]?["uid"] == "5f0c1a9e-3d4b-4c8e-9a61-2b7d0e4f8a10")
        #expect(answers[1].body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401])
        #expect(answers[3].body["reason"] == "Forbidden")
        #expect(answers[3].body["message"] == #"pods "web-0" is forbidden: User "multus" cannot get resource "pods" in API group "" in the namespace "blue""#)
        #expect(answers[4].body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": #"pods "web-9" not found"#, "reason": "NotFound",
                                    "details": ["name": "web-9", "kind": "pods"], "code": 404])
        #expect(answers[5].body["spec"]?["config"]?.stringValue?.contains(#""type":"macvlan""#) == true)
        #expect(answers[6].body["details"] == ["name": "blue-net", "group": "k8s.cni.cncf.io", "kind": "network-attachment-definitions"])

        let certified = try send(server, [["path": "/api/v1/namespaces/kube-system/pods/coredns-0"], ["path": .string(Self.pod)]], clientCert: true)
        #expect(certified.map(\.status) == [200, 403])
        #expect(certified[1].body["message"]?.stringValue?.contains(#"User "system:multus-client" cannot get"#) == true)

        let log = try server.requests()
        #expect(log.count == 9)
        #expect(log.map(\.status) == [200, 401, 401, 403, 404, 200, 403, 200, 403])
        #expect([log[0].method, log[0].path, log[0].user] == ["GET", Self.pod, "multus"])
        #expect(log[1].user == nil)
        #expect(log[7].user == "system:multus-client")
        try server.clearLog()
        #expect(try server.requests().isEmpty)
    }

    @Test("status writes merge, bump resourceVersion, and a stale resourceVersion gets 409")
    func writes() throws {
        let server = try TestAPIServer()
        try server.addToken("abc", user: "multus", role: .clusterAdmin)
        let before = try #require(try server.object(kind: "Pod", namespace: "default", name: "web-0"))
        let version = try #require(before["metadata"]?["resourceVersion"]?.stringValue.flatMap { Int($0) })
        let status = "\(Self.pod)/status"

        let answers = try send(server, [
            ["method": "PATCH", "path": .string(status), "token": "abc", "contentType": "application/merge-patch+json",
             "body": ["metadata": ["annotations": ["k8s.v1.cni.cncf.io/network-status": "[]", "k8s.v1.cni.cncf.io/networks": nil]]]],
            ["method": "PATCH", "path": .string(status), "token": "abc", "contentType": "application/merge-patch+json",
             "body": ["metadata": ["resourceVersion": .string(String(version)), "annotations": ["x": "y"]]]],
            ["method": "PATCH", "path": .string(status), "token": "abc", "contentType": "application/json-patch+json",
             "body": [["op": "test", "path": "/metadata/annotations/k8s.v1.cni.cncf.io~1network-status", "value": "[]"],
                      ["op": "add", "path": "/metadata/annotations/a", "value": "b"]]],
            ["method": "PATCH", "path": .string(status), "token": "abc", "contentType": "application/strategic-merge-patch+json",
             "body": ["metadata": ["annotations": ["a": nil, "c": "d"]]]],
        ])
        #expect(answers.map(\.status) == [200, 409, 200, 200])
        let patched = answers[0].body
        #expect(patched["metadata"]?["annotations"] == ["k8s.v1.cni.cncf.io/network-status": "[]"])
        let versions = answers.map { $0.body["metadata"]?["resourceVersion"]?.stringValue.flatMap { Int($0) } ?? 0 }
        #expect(versions[0] > version && versions[2] > versions[0] && versions[3] > versions[2])
        #expect(patched["spec"] == before["spec"])
        #expect(answers[1].body["reason"] == "Conflict")
        #expect(answers[1].body["message"] == #"Operation cannot be fulfilled on pods "web-0": the object has been modified; please apply your changes to the latest version and try again"#)
        #expect(answers[3].body["metadata"]?["annotations"] == ["k8s.v1.cni.cncf.io/network-status": "[]", "c": "d"])
        let stored = try server.object(kind: "Pod", namespace: "default", name: "web-0")
        #expect(stored == answers[3].body)
    }

    /// Multus v4.3.1's ClusterRole, verb by verb: what a cluster installed from Multus's
    /// manifests lets the plugin do. A merge patch of pods/status is what it refuses.
    @Test("RBAC: Multus's ClusterRole allows get/list/update of pods and pods/status, any NAD verb, event creation, get/list of DRA claims and slices; no patch")
    func multusRole() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.put(file: testdata("dra/claim-vf-and-gpu.json"))
        try server.put(file: testdata("dra/slices.json"))
        let pod = try #require(try server.object(kind: "Pod", namespace: "default", name: "web-0"))
        let event: JSONValue = ["metadata": ["name": "web-0.1"], "involvedObject": ["kind": "Pod", "namespace": "default", "name": "web-0"],
                                "reason": "AddedInterface", "message": "Add net1 []", "type": "Normal"]
        let answers = try send(server, [
            ["path": .string(Self.pod), "token": "abc"],
            ["path": "/api/v1/namespaces/default/pods", "token": "abc"],
            ["path": .string("\(Self.pod)/status"), "token": "abc"],
            ["method": "PUT", "path": .string("\(Self.pod)/status"), "token": "abc", "body": pod],
            ["method": "PATCH", "path": .string("\(Self.pod)/status"), "token": "abc", "contentType": "application/merge-patch+json",
             "body": ["metadata": ["annotations": ["a": "b"]]]],
            ["method": "POST", "path": "/api/v1/namespaces/default/events", "token": "abc", "body": event],
            ["path": "/api/v1/namespaces/default/events", "token": "abc"],
            ["path": .string("\(Self.nads)/default/network-attachment-definitions/macvlan-conf"), "token": "abc"],
            ["path": .string("\(Self.nads)/default/network-attachment-definitions"), "token": "abc"],
            ["path": .string(Self.claim), "token": "abc"],
            ["path": .string("\(Self.claim)/status"), "token": "abc"],
            ["path": "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", "token": "abc"],
            ["path": "/apis/resource.k8s.io/v1/resourceslices", "token": "abc"],
            ["path": "/apis/resource.k8s.io/v1/resourceslices/node-1-gpu.nvidia.com-4kz9d", "token": "abc"],
            ["method": "PATCH", "path": .string("\(Self.claim)/status"), "token": "abc", "contentType": "application/merge-patch+json", "body": ["status": [:]]],
        ])
        #expect(answers.map(\.status) == [200, 200, 200, 200, 403, 201, 403, 200, 200, 200, 200, 200, 200, 200, 403])
        #expect(answers[4].body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": #"pods "web-0" is forbidden: User "system:serviceaccount:kube-system:multus" cannot patch resource "pods/status" in API group "" in the namespace "default""#,
                                    "reason": "Forbidden", "details": ["name": "web-0", "kind": "pods"], "code": 403])
        #expect(answers[6].body["message"] == #"events is forbidden: User "system:serviceaccount:kube-system:multus" cannot list resource "events" in API group "" in the namespace "default""#)
        #expect(answers[6].body["details"] == ["kind": "events"], "a collection names no object")
        #expect(answers[1].body["kind"] == "PodList")
        #expect(answers[8].body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["from-confdir", "macvlan-conf", "ptp-conf", "static-conf"])
        #expect(try server.object(kind: "Pod", namespace: "default", name: "web-0")?["metadata"]?["annotations"]?["a"] == nil, "the refused patch changed nothing")
        #expect(answers[11].body["kind"] == "ResourceClaimList" && answers[12].body["items"]?.arrayValue?.count == 4)
        #expect(answers[14].body["message"] == #"resourceclaims.resource.k8s.io "web-dra-net-x7k2p" is forbidden: User "system:serviceaccount:kube-system:multus" cannot patch resource "resourceclaims/status" in API group "resource.k8s.io" in the namespace "default""#)
    }

    @Test("RBAC: Multus v4.3.0's ClusterRole has no resource.k8s.io")
    func multus430Role() throws {
        let server = try TestAPIServer()
        try server.addToken("abc", role: .multus430)
        let answers = try send(server, [["path": .string(Self.pod), "token": "abc"], ["path": .string(Self.claim), "token": "abc"],
                                        ["path": "/apis/resource.k8s.io/v1/resourceslices", "token": "abc"]])
        #expect(answers.map(\.status) == [200, 403, 403])
        #expect(answers[2].body["message"] == #"resourceslices.resource.k8s.io is forbidden: User "system:serviceaccount:kube-system:multus" cannot list resource "resourceslices" in API group "resource.k8s.io" at the cluster scope"#)
    }

    /// ResourceSlices are cluster-scoped, as kube-apiserver serves them: a RoleBinding in a
    /// namespace never reaches them; their list takes the field selectors Multus v4.3.1 sends.
    @Test("resourceslices: cluster-scoped, listed with field selectors spec.nodeName and spec.driver; an unknown field label is 400")
    func resourceSlices() throws {
        let server = try TestAPIServer()
        try server.addToken("abc", role: .clusterAdmin)
        try server.addToken("namespaced", user: "ns-admin", role: .clusterAdmin, namespaces: ["default"])
        try server.put(file: testdata("dra/slices.json"))
        let path = "/apis/resource.k8s.io/v1/resourceslices"
        let answers = try send(server, [
            ["path": .string("\(path)?fieldSelector=spec.nodeName%3Dnode-1%2Cspec.driver%3Dsriovnetwork.k8snetworkplumbingwg.io"), "token": "abc"],
            ["path": .string("\(path)?fieldSelector=spec.driver%3D%3Dgpu.nvidia.com"), "token": "abc"],
            ["path": .string("\(path)?fieldSelector=spec.nodeName!%3Dnode-1"), "token": "abc"],
            ["path": .string("\(path)?fieldSelector=spec.pool%3Dnode-1"), "token": "abc"],
            ["path": .string("\(path)/node-1-gpu.nvidia.com-4kz9d"), "token": "abc"],
            ["path": .string(path), "token": "namespaced"],
        ])
        #expect(answers.map(\.status) == [200, 200, 200, 400, 200, 403])
        let names = answers.prefix(3).map { $0.body["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? [] }
        #expect(names == [["node-1-sriovnetwork.k8snetworkplumbingwg.io-7xk2p", "node-1-sriovnetwork.k8snetworkplumbingwg.io-old9z"],
                          ["node-1-gpu.nvidia.com-4kz9d"], ["node-2-sriovnetwork.k8snetworkplumbingwg.io-m3q8r"]])
        #expect(answers[0].body["kind"] == "ResourceSliceList" && answers[0].body["apiVersion"] == "resource.k8s.io/v1")
        #expect(answers[3].body["message"] == "field label not supported: spec.pool")
        #expect(answers[4].body["metadata"]?["namespace"] == nil)
        #expect(answers[5].body["message"]?.stringValue?.hasSuffix("at the cluster scope") == true)
    }

    @Test("unserve: a group version the server does not have answers 404 about no object, after authorization")
    func unservedGroupVersion() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.addToken("old", role: .multus430)
        try server.put(file: testdata("dra/claim-vf-and-gpu.json"))
        try server.unserve(["resource.k8s.io/v1"])
        let answers = try send(server, [["path": .string(Self.claim), "token": "abc"], ["path": .string(Self.pod), "token": "abc"],
                                        ["path": .string(Self.claim), "token": "old"]])
        #expect(answers.map(\.status) == [404, 200, 403])
        #expect(answers[0].body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": "the server could not find the requested resource", "reason": "NotFound", "details": [:], "code": 404])
    }

    @Test("RBAC: swift-multus's own ClusterRole grants get pods, update pods/status, get NADs, create events, get resourceclaims, list resourceslices, and nothing else")
    func swiftMultusRole() throws {
        let server = try TestAPIServer()
        try server.addToken("abc", role: .swiftMultus)
        try server.put(file: testdata("dra/claim-vf-and-gpu.json"))
        try server.addToken("nobody", user: "nobody", role: .none)
        let pod = try #require(try server.object(kind: "Pod", namespace: "default", name: "web-0"))
        let event: JSONValue = ["metadata": ["name": "web-0.2"], "involvedObject": ["kind": "Pod", "namespace": "default", "name": "web-0"]]
        let answers = try send(server, [
            ["path": .string(Self.pod), "token": "abc"],
            ["path": "/api/v1/namespaces/default/pods", "token": "abc"],
            ["path": .string("\(Self.pod)/status"), "token": "abc"],
            ["method": "PUT", "path": .string("\(Self.pod)/status"), "token": "abc", "body": pod],
            ["method": "POST", "path": "/api/v1/namespaces/default/events", "token": "abc", "body": event],
            ["path": .string("\(Self.nads)/default/network-attachment-definitions/macvlan-conf"), "token": "abc"],
            ["path": .string("\(Self.nads)/default/network-attachment-definitions"), "token": "abc"],
            ["path": .string(Self.pod), "token": "nobody"],
            ["path": .string(Self.claim), "token": "abc"],
            ["path": .string("\(Self.claim)/status"), "token": "abc"],
            ["path": "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", "token": "abc"],
            ["path": "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.driver%3Dx", "token": "abc"],
            ["path": "/apis/resource.k8s.io/v1/resourceslices/any", "token": "abc"],
        ])
        #expect(answers.map(\.status) == [200, 403, 403, 200, 201, 200, 403, 403, 200, 403, 403, 200, 403])
        #expect(answers[2].body["message"] == #"pods "web-0" is forbidden: User "system:serviceaccount:kube-system:multus" cannot get resource "pods/status" in API group "" in the namespace "default""#)
        #expect(answers[6].body["message"] == #"network-attachment-definitions.k8s.cni.cncf.io is forbidden: User "system:serviceaccount:kube-system:multus" cannot list resource "network-attachment-definitions" in API group "k8s.cni.cncf.io" in the namespace "default""#)
    }

    @Test("PUT of pods/status: whole object, conditional on resourceVersion, name and namespace checked, spec kept")
    func statusUpdates() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        let pod = try #require(try server.object(kind: "Pod", namespace: "default", name: "web-0")?.objectValue)
        func edited(_ edit: (inout JSONObject, inout JSONObject) -> Void) -> JSONValue {
            var copy = pod
            var meta = pod["metadata"]?.objectValue ?? JSONObject()
            edit(&copy, &meta)
            copy["metadata"] = .object(meta)
            return .object(copy)
        }
        let updated = edited { object, meta in
            meta["annotations"] = ["k8s.v1.cni.cncf.io/network-status": "[]"]
            object["spec"] = ["nodeName": "elsewhere"]
        }
        let stale = edited { _, meta in meta["annotations"] = ["x": "y"] }
        let renamed = edited { _, meta in meta["name"] = "web-1"; meta["resourceVersion"] = nil }
        let moved = edited { _, meta in meta["namespace"] = "blue"; meta["resourceVersion"] = nil }
        let path = JSONValue.string("\(Self.pod)/status")
        let answers = try send(server, [updated, stale, renamed, moved].map { ["method": "PUT", "path": path, "token": "abc", "body": $0] })
        #expect(answers.map(\.status) == [200, 409, 400, 400])
        #expect(answers[0].body["metadata"]?["annotations"] == ["k8s.v1.cni.cncf.io/network-status": "[]"])
        #expect(answers[0].body["spec"] == pod["spec"], "the status subresource never changes spec")
        #expect(answers[0].body["metadata"]?["resourceVersion"] != pod["metadata"]?["resourceVersion"])
        #expect(answers[1].body["reason"] == "Conflict")
        #expect(answers[2].body["message"] == "the name of the object (web-1) does not match the name on the URL (web-0)")
        #expect(answers[3].body["message"] == "the namespace of the provided object does not match the namespace sent on the request")
        #expect(try server.object(kind: "Pod", namespace: "default", name: "web-0") == answers[0].body)
    }

    @Test("events: created with 201, validated as core/v1 events are, a second create of one name is AlreadyExists")
    func events() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        let good: JSONValue = ["metadata": ["name": "web-0.a"], "involvedObject": ["kind": "Pod", "namespace": "default", "name": "web-0"],
                               "reason": "AddedInterface", "type": "Normal", "count": 1]
        let nameless: JSONValue = ["involvedObject": ["kind": "Pod", "namespace": "default", "name": "web-0"]]
        let elsewhere: JSONValue = ["metadata": ["name": "web-0.b"], "involvedObject": ["kind": "Pod", "namespace": "blue", "name": "web-0"]]
        let path: JSONValue = "/api/v1/namespaces/default/events"
        let answers = try send(server, [good, good, nameless, elsewhere].map { ["method": "POST", "path": path, "token": "abc", "body": $0] })
        #expect(answers.map(\.status) == [201, 409, 422, 422])
        #expect(answers[0].body["metadata"]?["uid"] != nil && answers[0].body["apiVersion"] == "v1")
        #expect(answers[1].body["reason"] == "AlreadyExists")
        #expect(answers[1].body["message"] == #"events "web-0.a" already exists"#)
        #expect(answers[2].body["message"] == #"Event "" is invalid: metadata.name: Required value: name or generateName is required"#)
        #expect(answers[3].body["message"] == #"Event "web-0.b" is invalid: involvedObject.namespace: Invalid value: "blue": does not match event.namespace"#)
        #expect(try server.list(kind: "Event").compactMap { $0["metadata"]?["name"]?.stringValue } == ["web-0.a"])
    }

    /// An injected fault stands for a failure of a request the server let through: a request
    /// without credentials or without the right still gets 401 or 403 first.
    @Test("failNext fires after authentication and authorization; concurrentWrite makes a real conflict")
    func faultOrder() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.setFaults(["failNext": [["pathContains": "/pods/web-0", "status": 503, "count": 1]]])
        let request: JSONValue = ["path": .string(Self.pod), "token": "abc"]
        let patch: JSONValue = ["method": "PATCH", "path": .string("\(Self.pod)/status"), "token": "abc", "contentType": "application/merge-patch+json",
                                "body": ["metadata": ["annotations": ["a": "b"]]]]
        let answers = try send(server, [["path": .string(Self.pod)], patch, request, request])
        #expect(answers.map(\.status) == [401, 403, 503, 200])

        let pod = try #require(try server.object(kind: "Pod", namespace: "default", name: "web-0"))
        try server.setFaults(["concurrentWrite": [["pathContains": "/status", "method": "PUT", "annotations": ["kubelet/wrote": "1"]]]])
        let put: JSONValue = ["method": "PUT", "path": .string("\(Self.pod)/status"), "token": "abc", "body": pod]
        let writes = try send(server, [put, put])
        #expect(writes.map(\.status) == [409, 409], "the other writer's change made the read stale")
        #expect(try server.object(kind: "Pod", namespace: "default", name: "web-0")?["metadata"]?["annotations"]?["kubelet/wrote"] == "1")
    }

    @Test("injected faults: failNext answers its status, then the request succeeds; resets and chunked bodies")
    func faults() throws {
        let server = try TestAPIServer()
        try server.addToken("abc", user: "multus")
        try server.setFaults(["failNext": [["pathContains": "/pods/web-0", "status": 503, "count": 1],
                                           ["pathContains": "/pods/web-0", "status": 429, "count": 1]],
                              "resetNext": 1, "chunked": true])
        let request: JSONValue = ["path": .string(Self.pod), "token": "abc"]
        let answers = try send(server, [request, request, request, request])
        #expect(answers[0].error != nil)
        #expect(answers.dropFirst().map(\.status) == [503, 429, 200])
        #expect(answers[1].body["reason"] == "ServiceUnavailable")
        #expect(answers[2].headers["retry-after"] == "0")
        #expect(answers[3].headers["transfer-encoding"] == "chunked")
        #expect(answers[3].body["metadata"]?["name"] == "web-0")
        #expect(try server.requests().map(\.status) == [0, 503, 429, 200])
    }

    @Test("kubeconfig: CA by path or inline, token, token file and client certificate")
    func kubeconfig() throws {
        let server = try TestAPIServer(objects: nil)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let inline = try server.kubeconfig(in: directory.path, token: "abc", caInline: true, fileName: "inline")
        let text = String(decoding: try readFile(inline), as: UTF8.self)
        let encodedCA = sh("base64 -w0 < '\(server.caPath)'").output
        #expect(!encodedCA.isEmpty && text.contains("    certificate-authority-data: \(encodedCA)\n"))
        #expect(text.contains("    server: \"\(server.server)\"\n"))
        #expect(text.contains("    token: \"abc\"\n"))
        #expect(text.contains("current-context: test\n"))

        let byPath = String(decoding: try readFile(server.kubeconfig(in: directory.path, tokenFile: "/run/token", clientCert: true)), as: UTF8.self)
        #expect(byPath.contains("    certificate-authority: \"\(server.caPath)\"\n"))
        #expect(byPath.contains("    tokenFile: \"/run/token\"\n"))
        #expect(byPath.contains("    client-certificate: \"\(server.clientCertPath)\"\n    client-key: \"\(server.clientKeyPath)\"\n"))
        #expect(!byPath.contains("token: "))
    }

    @Test("stop ends the process; a server that cannot start reports its stderr")
    func lifecycle() throws {
        let server = try TestAPIServer(objects: nil)
        let pid = server.processID
        #expect(kill(pid, 0) == 0)
        server.stop()
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
        #expect(!fileExists(server.directory))
        #expect(throws: TestAPIServerError.self) { try server.requests() }

        let error = #expect(throws: TestAPIServerError.self) { try TestAPIServer(objects: "/nonexistent-fixtures") }
        #expect(error?.message.contains("/nonexistent-fixtures") == true)
    }
}

/// One answer of Tests/apiserver/request.py.
struct Answer {
    var status: Int?
    var headers: JSONObject
    var body: JSONValue
    var error: String?
}

/// Sends `requests` in order over one keep-alive HTTPS connection with python3's http.client,
/// verifying the server against the test CA; with `clientCert`, presenting the client certificate.
func send(_ server: TestAPIServer, _ requests: [JSONValue], clientCert: Bool = false) throws -> [Answer] {
    let python = try #require(TestAPIServer.python)
    var command = "'\(python)' '\(TestAPIServer.scriptDirectory)/request.py' --port \(server.port) --ca '\(server.caPath)'"
    if clientCert { command += " --cert '\(server.clientCertPath)' --key '\(server.clientKeyPath)'" }
    let run = sh("\(command) <<'REQUESTS'\n\(JSONValue.array(requests).serialized())\nREQUESTS")
    try #require(run.status == 0, "request.py failed: \(run.output)")
    let answers = try #require(try JSONValue.parse(run.output).arrayValue)
    try #require(answers.count == requests.count)
    return answers.map { answer in
        Answer(status: answer["status"]?.intValue, headers: answer["headers"]?.objectValue ?? JSONObject(),
               body: answer["body"] ?? .null, error: answer["error"]?.stringValue)
    }
}
