// How the test API server reads (Tests/apiserver, README "Watch cache"): from storage (an etcd
// quorum read) or from a watch cache that can lag, chosen by resourceVersion as kube-apiserver's
// cacher chooses; lists across namespaces; and delays that let a client's deadline fire. Over real
// HTTPS with python3's http.client (`send` in TestAPIServerTests.swift). No root needed.
import CNI
import Testing
import TestSupport

@Suite("Test API server: reads")
struct TestAPIServerReadsTests {
    static let pod = "/api/v1/namespaces/default/pods/web-0"
    static let fresh = "/api/v1/namespaces/default/pods/fresh-0"
    static let pods = "/api/v1/namespaces/default/pods"

    static func names(_ list: JSONValue) -> [String] {
        list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
    }

    /// The watch cache two writes behind: one through the control channel (a new pod), one
    /// through the API (an annotation on web-0). `resourceVersion=0` sees neither; a read without
    /// one sees both; a write conditional on the cached version is refused.
    @Test("resourceVersion=0 reads a watch cache that can lag; no resourceVersion reads storage; the log says which")
    func watchCacheLag() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.addToken("admin", user: "admin", role: .clusterAdmin)
        let before = try #require(try server.object(kind: "Pod", namespace: "default", name: "web-0"))
        try server.setWatchCacheLag(writes: 2)
        try server.put(["kind": "Pod", "metadata": ["name": "fresh-0", "namespace": "default"], "spec": [:]])
        let patch: JSONValue = ["method": "PATCH", "path": .string("\(Self.pod)/status"), "token": "admin",
                                "contentType": "application/merge-patch+json", "body": ["metadata": ["annotations": ["seen": "yes"]]]]
        try #require(try send(server, [patch]).map(\.status) == [200])
        let cached = try server.setWatchCacheLag(writes: 2)  // the same lag; says where the cache is now
        try server.clearLog()

        let answers = try send(server, [
            ["path": .string("\(Self.pod)?resourceVersion=0"), "token": "abc"],
            ["path": .string(Self.pod), "token": "abc"],
            ["path": .string("\(Self.fresh)?resourceVersion=0"), "token": "abc"],
            ["path": .string(Self.fresh), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersion=0&resourceVersionMatch=NotOlderThan"), "token": "abc"],
            ["path": .string(Self.pods), "token": "abc"],
        ])
        #expect(answers.map(\.status) == [200, 200, 404, 200, 200, 200])
        #expect(answers[0].body == before, "the cache still has web-0 as it was")
        #expect(answers[1].body["metadata"]?["annotations"]?["seen"] == "yes")
        #expect(answers[2].body["message"] == #"pods "fresh-0" not found"#)
        #expect(Self.names(answers[4].body) == ["web-0"] && answers[4].body["metadata"]?["resourceVersion"]?.stringValue == cached)
        #expect(Self.names(answers[5].body) == ["fresh-0", "web-0"])

        let write = try send(server, [["method": "PUT", "path": .string("\(Self.pod)/status"), "token": "abc", "body": answers[0].body]])
        #expect(write.map(\.status) == [409], "a write conditional on the cached resourceVersion meets the newer one")
        #expect(try server.requests().map(\.servedFrom) == [.cache, .storage, .cache, .storage, .cache, .storage, nil])

        try server.setWatchCacheLag(writes: 0)
        #expect(try send(server, [["path": .string("\(Self.fresh)?resourceVersion=0"), "token": "abc"]]).map(\.status) == [200])
    }

    /// A resourceVersion the cache has not reached waits for it, then gets kube-apiserver's 504;
    /// one it has reached is read from the cache. List options are validated as ListOptions.
    @Test("a resourceVersion newer than the cache: 504 Too large resource version; Exact lists; ListOptions validation")
    func tooLargeResourceVersion() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.setWatchCacheLag(writes: 1, wait: .milliseconds(200))
        let stored = try server.put(["kind": "Pod", "metadata": ["name": "fresh-0", "namespace": "default"], "spec": [:]])
        let cached = try server.setWatchCacheLag(writes: 1, wait: .milliseconds(200))
        let newest = try #require(stored["metadata"]?["resourceVersion"]?.stringValue)
        try server.clearLog()

        let answers = try send(server, [
            ["path": .string("\(Self.fresh)?resourceVersion=\(newest)"), "token": "abc"],
            ["path": .string("\(Self.pod)?resourceVersion=\(cached)"), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersion=\(newest)&resourceVersionMatch=NotOlderThan"), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersion=\(newest)&resourceVersionMatch=Exact"), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersion=\(cached)&resourceVersionMatch=Exact"), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersionMatch=NotOlderThan"), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersion=0&resourceVersionMatch=Exact"), "token": "abc"],
            ["path": .string("\(Self.pods)?resourceVersion=5&resourceVersionMatch=Newest"), "token": "abc"],
        ])
        #expect(answers.map(\.status) == [504, 200, 504, 200, 200, 422, 422, 422])
        #expect(answers[0].body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": .string("Timeout: Too large resource version: \(newest), current: \(cached)"), "reason": "Timeout",
                                    "details": ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]],
                                                "retryAfterSeconds": 1],
                                    "code": 504])
        #expect(answers[0].headers["retry-after"] == "1")
        #expect(Self.names(answers[3].body) == ["fresh-0", "web-0"] && Self.names(answers[4].body) == ["web-0"])
        #expect(answers[5].body["message"] == #"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"#)
        #expect(answers[6].body["message"] == #"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0""#)
        #expect(answers[7].body["message"] == #"ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", """#)
        #expect(try server.requests().map(\.servedFrom) == [nil, .cache, nil, .storage, .storage, nil, nil, nil])
    }

    @Test("lists across namespaces: Multus's ClusterRoleBinding may, a RoleBinding may not")
    func clusterWideLists() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.addToken("namespaced", namespaces: ["default"])
        let path = "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions"
        let answers = try send(server, [["path": .string(path), "token": "abc"], ["path": .string(path), "token": "namespaced"],
                                        ["path": "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1", "token": "abc"]])
        #expect(answers.map(\.status) == [200, 403, 200])
        #expect(Self.names(answers[0].body) == ["blue-net", "from-confdir", "macvlan-conf", "ptp-conf", "static-conf", "cluster-net"])
        #expect(answers[0].body["kind"] == "NetworkAttachmentDefinitionList")
        #expect(answers[1].body["message"] == #"network-attachment-definitions.k8s.cni.cncf.io is forbidden: User "system:serviceaccount:kube-system:multus" cannot list resource "network-attachment-definitions" in API group "k8s.cni.cncf.io" at the cluster scope"#)
        #expect(answers[2].body["kind"] == "PodList")
    }

    /// A client's deadline against a server that answers late: the delayed path misses a short
    /// deadline and meets a long one; other paths are not delayed.
    @Test("delays: a matching method and path is answered late, so a client's deadline fires")
    func delays() throws {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.setFaults(["delays": [["pathContains": "/version", "method": "GET", "ms": 1500]]])
        let answers = try send(server, [["path": "/version", "token": "abc", "timeout": .number("0.3")], ["path": "/healthz", "token": "abc", "timeout": .number("0.3")],
                                        ["path": "/version", "token": "abc", "timeout": 10]])
        #expect(answers[0].error?.contains("timed out") == true, "got \(answers[0].status.map(String.init) ?? answers[0].error ?? "")")
        #expect(answers.dropFirst().map(\.status) == [200, 200])
    }
}
