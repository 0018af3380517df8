// What `multus doctor` asks the test API server (Tests/apiserver): SelfSubjectAccessReviews
// answered by the RBAC code that authorizes requests, service account tokens as JWTs that
// expire, /version and discovery. Over real HTTPS with python3's http.client (`send` in
// TestAPIServerTests.swift). No root needed.
import CNI
import Testing
import TestSupport

@Suite("Test API server: access reviews, tokens, version and discovery")
struct TestAPIServerReviewTests {
    static let reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    /// One access review and the request it stands for: the review must answer what the
    /// request's authorization answers.
    struct Case: CustomTestStringConvertible {
        var token: String
        var attributes: JSONValue
        var request: JSONValue
        var allowed: Bool
        var reason: String?
        var testDescription: String { "\(token): \(attributes.serialized())" }
    }

    static let cases: [Case] = [
        Case(token: "abc", attributes: ["namespace": "default", "verb": "patch", "resource": "pods", "subresource": "status"],
             request: ["method": "PATCH", "path": "/api/v1/namespaces/default/pods/web-0/status", "contentType": "application/merge-patch+json", "body": [:]],
             allowed: false),
        Case(token: "abc", attributes: ["namespace": "default", "verb": "get", "resource": "pods", "name": "web-0"],
             request: ["path": "/api/v1/namespaces/default/pods/web-0"], allowed: true,
             reason: #"RBAC: allowed by ClusterRoleBinding "multus" of ClusterRole "multus" to ServiceAccount "multus/kube-system""#),
        Case(token: "abc", attributes: ["verb": "list", "group": "k8s.cni.cncf.io", "resource": "network-attachment-definitions"],
             request: ["path": "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions"], allowed: true,
             reason: #"RBAC: allowed by ClusterRoleBinding "multus" of ClusterRole "multus" to ServiceAccount "multus/kube-system""#),
        Case(token: "namespaced", attributes: ["verb": "list", "group": "k8s.cni.cncf.io", "resource": "network-attachment-definitions"],
             request: ["path": "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions"], allowed: false),
        Case(token: "namespaced", attributes: ["namespace": "default", "verb": "list", "group": "k8s.cni.cncf.io", "resource": "network-attachment-definitions"],
             request: ["path": "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"], allowed: true,
             reason: #"RBAC: allowed by RoleBinding "multus/default" of ClusterRole "multus" to ServiceAccount "multus/kube-system""#),
        Case(token: "nobody", attributes: ["verb": "create", "group": "authorization.k8s.io", "resource": "selfsubjectaccessreviews"],
             request: ["method": "POST", "path": .string(reviews), "body": ["spec": ["nonResourceAttributes": ["path": "/", "verb": "get"]]]], allowed: true,
             reason: #"RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated""#),
        Case(token: "driver", attributes: ["namespace": "default", "verb": "associated-node:patch", "group": "resource.k8s.io",
                                           "resource": "resourceclaims", "subresource": "driver", "name": "sriovnetwork.k8snetworkplumbingwg.io"],
             request: nil, allowed: true,
             reason: #"RBAC: allowed by ClusterRoleBinding "test-rules" of ClusterRole "test-rules" to User "driver""#),
        Case(token: "driver", attributes: ["namespace": "default", "verb": "associated-node:patch", "group": "resource.k8s.io",
                                           "resource": "resourceclaims", "subresource": "driver", "name": "gpu.nvidia.com"],
             request: nil, allowed: false),
    ]

    func server() throws -> TestAPIServer {
        let server = try TestAPIServer()
        try server.addToken("abc")
        try server.addToken("namespaced", namespaces: ["default"])
        try server.addToken("nobody", user: "nobody", role: .none)
        try server.addToken("driver", user: "driver", role: .rules([["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"],
                                                                    "verbs": ["associated-node:patch"], "resourceNames": ["sriovnetwork.k8snetworkplumbingwg.io"]]]))
        return server
    }

    @Test("SelfSubjectAccessReview answers as the request's own authorization does, naming the binding", arguments: cases)
    func accessReview(_ check: Case) throws {
        let server = try server()
        let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": ["resourceAttributes": check.attributes]]
        var requests: [JSONValue] = [["method": "POST", "path": .string(Self.reviews), "token": .string(check.token), "body": review]]
        if var request = check.request.objectValue {
            request["token"] = .string(check.token)
            requests.append(.object(request))
        }
        let answers = try send(server, requests)
        #expect(answers[0].status == 201)
        var status: JSONObject = ["allowed": .bool(check.allowed)]
        if let reason = check.reason { status["reason"] = .string(reason) }
        #expect(answers[0].body == ["kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": ["creationTimestamp": nil],
                                    "spec": ["resourceAttributes": check.attributes], "status": .object(status)])
        if answers.count == 2 {
            #expect((answers[1].status != 403) == check.allowed, "the request itself got \(answers[1].status ?? 0)")
        }
    }

    @Test("SelfSubjectAccessReview: non-resource paths; a spec with neither or both attributes is 422, a body that is no JSON 400, other verbs 403 or 405")
    func accessReviewRequests() throws {
        let server = try server()
        try server.addToken("admin", user: "admin", role: .clusterAdmin)
        let path: JSONValue = ["path": "/version", "verb": "get"]
        let answers = try send(server, [
            ["method": "POST", "path": .string(Self.reviews), "token": "nobody", "body": ["spec": ["nonResourceAttributes": path]]],
            ["method": "POST", "path": .string(Self.reviews), "token": "nobody", "body": ["spec": ["nonResourceAttributes": ["path": "/metrics", "verb": "get"]]]],
            ["method": "POST", "path": .string(Self.reviews), "token": "abc", "body": ["spec": [:]]],
            ["method": "POST", "path": .string(Self.reviews), "token": "abc", "body": ["spec": ["nonResourceAttributes": path, "resourceAttributes": ["verb": "get"]]]],
            ["method": "POST", "path": .string(Self.reviews), "token": "abc", "body": "{not json"],
            ["path": .string(Self.reviews), "token": "abc"],
            ["path": .string(Self.reviews), "token": "admin"],
            ["method": "POST", "path": .string(Self.reviews), "body": ["spec": ["nonResourceAttributes": path]]],
        ])
        #expect(answers.map(\.status) == [201, 201, 422, 422, 400, 403, 405, 401])
        #expect(answers[0].body["status"] == ["allowed": true, "reason": #"RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated""#])
        #expect(answers[1].body["status"] == ["allowed": false])
        #expect(answers[2].body["message"] == #"SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified"#)
        #expect(answers[3].body["details"]?["causes"]?.arrayValue?.first?["field"] == "spec.nonResourceAttributes")
        #expect(answers[5].body["message"] == #"selfsubjectaccessreviews.authorization.k8s.io is forbidden: User "system:serviceaccount:kube-system:multus" cannot list resource "selfsubjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope"#)
    }

    /// A projected service account token: valid, expired past kube-apiserver's 60 s leeway,
    /// expired within it, not valid yet.
    @Test("JWT tokens: claims laid out as a projected token's; refused with 401 once expired (past 60 s) or before nbf")
    func jwtTokens() throws {
        let server = try TestAPIServer()
        let valid = try server.addJWT(nodeName: "node-1")
        let expired = try server.addJWT(expiresIn: .seconds(-120))
        let justExpired = try server.addJWT(expiresIn: .seconds(-20))
        let early = try server.addJWT(notBeforeIn: .seconds(300))
        let pod: JSONValue = "/api/v1/namespaces/default/pods/web-0"
        let answers = try send(server, [["path": pod, "token": .string(valid)], ["path": pod, "token": .string(expired)],
                                        ["path": pod, "token": .string(justExpired)], ["path": pod, "token": .string(early)],
                                        ["path": "/version", "token": .string(expired)]])
        #expect(answers.map(\.status) == [200, 401, 200, 401, 401])
        #expect(answers[1].body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401])
        #expect(try server.requests().map(\.user) == [TestAPIServer.multusServiceAccount, nil, TestAPIServer.multusServiceAccount, nil, nil])

        let parts = valid.split(separator: ".")
        try #require(parts.count == 3)
        let payload = String(parts[1]).replacing("-", with: "+").replacing("_", with: "/")
        let decoded = try #require(Base64.decode(payload))
        let claims = try JSONValue.parse(decoded)
        #expect(claims.objectValue?.keys == ["aud", "exp", "iat", "iss", "jti", "kubernetes.io", "nbf", "sub"])
        #expect(claims["sub"] == .string(TestAPIServer.multusServiceAccount))
        #expect(claims["kubernetes.io"]?["namespace"] == "kube-system" && claims["kubernetes.io"]?["serviceaccount"]?["name"] == "multus")
        #expect(claims["kubernetes.io"]?["node"]?["name"] == "node-1")
        let lifetime = (claims["exp"]?.intValue ?? 0) - (claims["iat"]?.intValue ?? 0)
        #expect(lifetime == 3607, "a kubelet-requested token lives 3607 s")
    }

    @Test("/version and health answer anyone; discovery answers authenticated users and drops group versions not served")
    func versionAndDiscovery() throws {
        let server = try TestAPIServer()
        try server.addToken("nobody", user: "nobody", role: .none)
        try server.unserve(["resource.k8s.io/v1"])
        let answers = try send(server, [
            ["path": "/version"], ["path": "/livez"], ["path": "/apis"],
            ["path": "/apis", "token": "nobody"], ["path": "/apis/k8s.cni.cncf.io/v1", "token": "nobody"],
            ["path": "/apis/resource.k8s.io/v1", "token": "nobody"], ["path": "/apis/k8s.cni.cncf.io", "token": "nobody"],
            ["method": "POST", "path": "/version", "token": "nobody", "body": [:]],
        ])
        #expect(answers.map(\.status) == [200, 200, 401, 200, 200, 404, 200, 403])
        #expect(answers[0].body["gitVersion"] == "v1.37.0" && answers[0].body["major"] == "1" && answers[0].body["minor"] == "37")
        #expect(answers[1].body == "ok")
        #expect(answers[3].body["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["authorization.k8s.io", "k8s.cni.cncf.io"])
        #expect(answers[4].body["resources"]?.arrayValue?.first?["name"] == "network-attachment-definitions")
        #expect(answers[4].body["resources"]?.arrayValue?.first?["shortNames"] == ["net-attach-def"])
        #expect(answers[6].body["preferredVersion"] == ["groupVersion": "k8s.cni.cncf.io/v1", "version": "v1"])
        #expect(answers[7].body["message"] == #"forbidden: User "nobody" cannot post path "/version""#)

        try server.unserve([])
        let served = try send(server, [["path": "/apis/resource.k8s.io/v1", "token": "nobody"]])
        #expect(served[0].body["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["resourceclaims", "resourceclaims/status", "resourceslices"])
    }
}
