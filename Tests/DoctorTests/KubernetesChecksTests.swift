import CNI
import Doctor
import Glibc
import KubeClient
import Testing
import TestSupport

/// The Kubernetes group against the test API server: its RBAC answers SelfSubjectAccessReview
/// as it authorizes requests, so a role's missing verb shows as kube-apiserver would show it.
@Suite("doctor: Kubernetes, against the test API server", .serialized)
struct KubernetesChecksTests {
    /// A node whose config names a kubeconfig with a token file holding `token`.
    func node(_ server: TestAPIServer, token: String, _ extra: [(String, JSONValue)] = []) throws -> DoctorNode {
        let node = try DoctorNode()
        let tokenFile = try writeFile(node.root + "/token", Array(token.utf8), mode: 0o600)
        let kubeconfig = try server.kubeconfig(in: node.root, tokenFile: tokenFile)
        try node.writeConfig(delegates: [DoctorNode.bridge()], [("kubeconfig", .string(kubeconfig))] + extra)
        return node
    }

    @Test(arguments: [TestRole.multus, .swiftMultus])
    func theRolesWeShipGrantEveryVerb(_ role: TestRole) throws {
        let server = try TestAPIServer()
        let node = try node(server, token: try server.addJWT(role: role))
        defer { node.remove() }
        let checks = node.run()
        #expect(checks.filter { $0.verdict == .error }.isEmpty, "\(checks)")
        let rbac = try #require(checks[named: "kubernetes.rbac"])
        #expect(rbac.verdict == .ok)
        #expect(rbac.detail == "system:serviceaccount:kube-system:multus may make all 6 calls the plugin makes (SelfSubjectAccessReview)")
        #expect(checks[named: "kubernetes.server"]?.detail.contains("v1.37.0 in ") == true)
        #expect(checks[named: "kubernetes.nad-crd"]?.verdict == .ok)
        #expect(checks[named: "kubernetes.token"]?.detail.contains("expires at") == true)
        // Read-only: the reviews are the only non-GET, and they store nothing.
        let writes = try server.requests().filter { $0.method != "GET" }
        #expect(!writes.isEmpty && writes.allSatisfy { $0.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" })
    }

    @Test func aRoleMissingUpdateOnPodsStatusNamesTheRuleToAdd() throws {
        let server = try TestAPIServer()
        let rules: JSONValue = [
            ["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]],
            ["apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]],
            ["apiGroups": [""], "resources": ["events"], "verbs": ["create"]],
            ["apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims", "resourceslices"], "verbs": ["get", "list"]],
        ]
        let node = try node(server, token: try server.addJWT(role: .rules(rules)))
        defer { node.remove() }
        let check = try #require(node.run()[named: "kubernetes.rbac"])
        #expect(check.verdict == .error)
        #expect(check.detail == "system:serviceaccount:kube-system:multus may not: update pods/status (write network-status)")
        #expect(check.fix == #"add to the ClusterRole bound to system:serviceaccount:kube-system:multus: {apiGroups: [""], resources: ["pods/status"], verbs: ["update"]}"#)
    }

    @Test func draDeviceStatusNeedsTheOptionalRole() throws {
        let server = try TestAPIServer()
        let node = try node(server, token: try server.addJWT(role: .multus), [("draDeviceStatus", true)])
        defer { node.remove() }
        let checks = node.run()
        let rbac = try #require(checks[named: "kubernetes.rbac"])
        #expect(rbac.verdict == .error)
        #expect(rbac.detail.hasSuffix("may not: patch resourceclaims/status (resource.k8s.io) (write our entries of a claim's status.devices)"))
        #expect(rbac.fix.hasSuffix("(deploy/rbac.yml's optional ClusterRole)"))
        #expect(checks[named: "kubernetes.dra-api"]?.verdict == .ok)
        #expect(checks[named: "kubernetes.node-claim"]?.verdict == .warning)
    }

    @Test func anExpiredTokenSaysWhen() throws {
        let server = try TestAPIServer()
        let node = try node(server, token: try server.addJWT(expiresIn: .seconds(-7200)))
        defer { node.remove() }
        let checks = node.run()
        let check = try #require(checks[named: "kubernetes.token"])
        #expect(check.verdict == .error)
        #expect(check.detail.hasPrefix("token file \(node.root)/token is not usable: the token expired at 20"))
        #expect(Report.json(checks).contains("the token expired at 20"), "redaction keeps what the operator needs")
        #expect(check.detail.hasSuffix("; STATUS reports the plugin not available (code 50)"))
        #expect(checks[named: "kubernetes.server"] == nil, "no call is made with a token the server refuses")
    }

    @Test func aServerSlowerThanTheDeadlineFailsWithinIt() throws {
        let server = try TestAPIServer()
        let node = try node(server, token: try server.addJWT())
        defer { node.remove() }
        try server.setFaults(["delays": [["pathContains": "/version", "ms": 5000]]])
        let started = ContinuousClock.now
        let checks = node.run()
        let took = ContinuousClock.now - started
        let check = try #require(checks[named: "kubernetes.server"])
        #expect(check.verdict == .error)
        #expect(check.detail.hasPrefix("GET /version: "), "\(check.detail)")
        #expect(check.detail.contains("\(server.server): no answer within"), "\(check.detail)")
        #expect(check.detail.contains("deadline 1 s"))
        #expect(took < .milliseconds(1800), "took \(took)")
    }

    @Test func anUnservedNADCRDIsAnError() throws {
        let server = try TestAPIServer()
        let node = try node(server, token: try server.addJWT())
        defer { node.remove() }
        try server.unserve(["k8s.cni.cncf.io/v1"])
        let check = try #require(node.run()[named: "kubernetes.nad-crd"])
        #expect(check.verdict == .error)
        #expect(check.detail == "the server does not serve k8s.cni.cncf.io/v1")
    }

    /// NADs' plugins are checked too, in all namespaces the role may list.
    @Test func nadsPluginsAreChecked() throws {
        let server = try TestAPIServer()
        let node = try node(server, token: try server.addJWT())
        defer { node.remove() }
        try server.put(["apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                        "metadata": ["name": "vlan", "namespace": "blue"],
                        "spec": ["config": #"{"cniVersion":"1.1.0","name":"vlan","type":"ipvlan"}"#]])
        let check = try #require(node.run(executor: DoctorNode.executor(missing: ["ipvlan"]))[named: "plugins.ipvlan"])
        #expect(check.verdict == .error)
        #expect(check.detail.hasSuffix("named by NAD blue/vlan"))
    }
}

/// draDeviceStatus: the per-driver grant for each driver with devices on the token's node, and
/// the DeviceStatusNotWritten events of that node's pods.
@Suite("doctor: DRA device status, against the test API server", .serialized)
struct DeviceStatusChecksTests {
    static let sriov = "sriovnetwork.k8snetworkplumbingwg.io"

    func slice(_ driver: String, node: String) -> JSONValue {
        ["apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": .object(["name": .string("\(node)-\(driver)")]),
         "spec": ["driver": .string(driver), "nodeName": .string(node), "pool": ["name": .string(node), "generation": 1, "resourceSliceCount": 1],
                  "devices": []]]
    }

    @Test func aDriverOutsideTheOptionalRolesResourceNamesIsNamed() throws {
        let server = try TestAPIServer()
        let role = try TestRole.deployed("multus", "multus-dra-device-status")
        let node = try KubernetesChecksTests().node(server, token: try server.addJWT(role: role, nodeName: "node-1"), [("draDeviceStatus", true)])
        defer { node.remove() }
        for (driver, host) in [(Self.sriov, "node-1"), ("gpu.example.com", "node-1"), ("other.example.com", "node-2")] {
            try server.put(slice(driver, node: host))
        }
        let checks = node.run()
        #expect(checks[named: "kubernetes.rbac"]?.verdict == .ok)
        #expect(checks[named: "kubernetes.node-claim"]?.detail.contains("node-1") == true)
        let drivers = try #require(checks[named: "kubernetes.dra-drivers"])
        #expect(drivers.verdict == .error)
        #expect(drivers.detail.hasPrefix("system:serviceaccount:kube-system:multus may not associated-node:patch resourceclaims/driver for gpu.example.com:"))
        #expect(drivers.fix.hasPrefix(#"add "gpu.example.com" to resourceNames"#))
        let events = try #require(checks[named: "kubernetes.dra-events"])
        #expect(events.verdict == .warning)
        #expect(events.detail.contains("may not list events"))
    }

    @Test func refusalEventsOfThisNodesPodsAreListed() throws {
        let server = try TestAPIServer()
        let node = try KubernetesChecksTests().node(server, token: try server.addJWT(role: .clusterAdmin, nodeName: "node-1"), [("draDeviceStatus", true)])
        defer { node.remove() }
        try server.put(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web-1", "namespace": "blue"], "spec": ["nodeName": "node-1"]])
        for (name, pod, reason) in [("e1", "web-1", "DeviceStatusNotWritten"), ("e2", "web-1", "Scheduled"), ("e3", "elsewhere", "DeviceStatusNotWritten")] {
            try server.put(["apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name), "namespace": "blue"],
                            "involvedObject": ["kind": "Pod", "namespace": "blue", "name": .string(pod)],
                            "reason": .string(reason), "message": "refused: resourceclaims/status patch", "type": "Warning"])
        }
        let check = try #require(node.run()[named: "kubernetes.dra-events"])
        #expect(check.verdict == .warning)
        #expect(check.detail == "1 DeviceStatusNotWritten event on node node-1: blue/web-1: refused: resourceclaims/status patch")
    }
}
