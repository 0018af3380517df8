// PodResourcesClient against a real gRPC server (grpcio, Tests/podresources/server.py).
import CNI
import Glibc
import PodResources
import Testing
import TestSupport

/// Two pods in the proto's JSON mapping, as the test server takes them.
let serverPods: JSONValue = [
    ["name": "web", "namespace": "default", "containers": [
        ["name": "app", "devices": [["resourceName": "intel.com/sriov", "deviceIds": ["0000:05:00.1", "0000:05:00.2"]]],
         "dynamicResources": [["claimName": "rdma", "claimNamespace": "default",
                               "claimResources": [["cdiDevices": [["name": "nvidia.com/net=0000:08:00.1"]], "driverName": "net.nvidia.com"]]]]],
    ]],
    ["name": "db", "namespace": "prod", "containers": [["name": "c"]]],
]

let webPod = PodResources(name: "web", namespace: "default", containers: [
    ContainerResources(name: "app", devices: [ContainerDevices(resourceName: "intel.com/sriov", deviceIDs: ["0000:05:00.1", "0000:05:00.2"])],
                       dynamicResources: [DynamicResource(claimName: "rdma", claimNamespace: "default", claimResources: [
                           ClaimResource(cdiDevices: ["nvidia.com/net=0000:08:00.1"], driverName: "net.nvidia.com"),
                       ])]),
])

@Suite(.serialized) struct PodResourcesClientTests {
    @Test func getAsksForThePod() throws {
        let server = try PodResourcesServer(pods: serverPods)
        let client = PodResourcesClient(socket: server.socket)
        #expect(try client.podResources(pod: .make("web"), namespace: .make("default")) == webPod)
        #expect(try server.calls() == ["Get"])
    }

    @Test(arguments: [PodResourcesServer.GetMode.unimplemented, .disabled])
    func listServesWhenGetIsNotServed(mode: PodResourcesServer.GetMode) throws {
        let server = try PodResourcesServer(pods: serverPods, get: mode)
        let client = PodResourcesClient(socket: server.socket)
        #expect(try client.podResources(pod: .make("web"), namespace: .make("default")) == webPod)
        #expect(try client.podResources(pod: .make("nobody"), namespace: .make("default")) == nil)
        // grpcio answers an unknown method itself, so the server sees only List then.
        #expect(try server.calls() == (mode == .disabled ? ["Get", "List", "Get", "List"] : ["List", "List"]))
    }

    @Test func listReturnsEveryPod() throws {
        let server = try PodResourcesServer(pods: serverPods)
        let pods = try PodResourcesClient(socket: server.socket).list()
        #expect(pods.map(\.name) == ["web", "db"])
        #expect(pods.first == webPod)
    }

    @Test func getOfAnUnknownPodIsTheKubeletsError() throws {
        let server = try PodResourcesServer(pods: serverPods)
        let client = PodResourcesClient(socket: server.socket)
        #expect(throws: PodResourcesError(socket: server.socket, problem: .status(GRPCStatus(code: .unknown, message: "pod nobody in namespace default not found")))) {
            try client.podResources(pod: .make("nobody"), namespace: .make("default"))
        }
        #expect(try server.calls() == ["Get"])
    }

    @Test func noSocketIsAbsent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let client = PodResourcesClient(socket: directory.pathOf("kubelet.sock"))
        #expect(!client.socketExists)
        #expect(throws: PodResourcesError(socket: client.socket, problem: .absent)) { try client.list() }
    }

    /// A kubelet restarting: its socket file is there, nothing listens.
    @Test func socketWithoutListenerIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("kubelet.sock")
        try bindWithoutListening(path)
        let client = PodResourcesClient(socket: path)
        #expect(client.socketExists)
        let error = #expect(throws: PodResourcesError.self) { try client.get(pod: .make("web"), namespace: .make("default")) }
        #expect(error?.description == "kubelet pod-resources socket \(path): Get: connect: Connection refused")
    }

    @Test func kubeletHangingUpMidCallFails() throws {
        let server = try PodResourcesServer(fault: .hangUp)
        let client = PodResourcesClient(socket: server.socket, deadline: .seconds(5))
        let started = ContinuousClock.now
        let error = #expect(throws: PodResourcesError.self) { try client.get(pod: .make("web"), namespace: .make("default")) }
        #expect(error?.description == "kubelet pod-resources socket \(server.socket): Get: the kubelet closed the connection before the call completed")
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func aPeerThatIsNotGRPCBreaksTheProtocol() throws {
        let server = try PodResourcesServer(fault: .http1)
        let client = PodResourcesClient(socket: server.socket, deadline: .seconds(5))
        let error = #expect(throws: PodResourcesError.self) { try client.get(pod: .make("web"), namespace: .make("default")) }
        #expect(error?.description == "kubelet pod-resources socket \(server.socket): Get: the kubelet broke the HTTP/2 protocol: its first frame is not SETTINGS (is it an HTTP/2 server?)")
    }

    @Test func aSilentKubeletCostsTheDeadline() throws {
        let server = try PodResourcesServer(pods: serverPods, delay: .seconds(3))
        let client = PodResourcesClient(socket: server.socket, deadline: .milliseconds(300))
        let started = ContinuousClock.now
        #expect(throws: PodResourcesError(socket: server.socket, problem: .timedOut(.milliseconds(300)))) {
            try client.get(pod: .make("web"), namespace: .make("default"))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(2), "\(elapsed)")
    }

    /// The kubelet's rate limiter (100 calls a second, bursts of 10) refuses with
    /// RESOURCE_EXHAUSTED; the call is made again after a pause, within the deadline.
    @Test(arguments: [PodResourcesServer.GetMode.serve, .unimplemented])
    func rateLimitedCallsAreRetried(mode: PodResourcesServer.GetMode) throws {
        let server = try PodResourcesServer(pods: serverPods, get: mode, exhausted: 3)
        let client = PodResourcesClient(socket: server.socket)
        #expect(try client.podResources(pod: .make("web"), namespace: .make("default")) == webPod)
        #expect(try server.calls() == (mode == .serve ? ["Get", "Get", "Get", "Get"] : ["List", "List", "List", "List"]))
    }

    /// A kubelet that keeps refusing costs the deadline, no more; the error says how many calls
    /// were made, and is one to try again later.
    @Test func aLimitThatNeverLiftsFailsWithinTheDeadline() throws {
        let server = try PodResourcesServer(pods: serverPods, exhausted: 1000)
        let client = PodResourcesClient(socket: server.socket, deadline: .milliseconds(400))
        let started = ContinuousClock.now
        let error = #expect(throws: PodResourcesError.self) { try client.get(pod: .make("web"), namespace: .make("default")) }
        let elapsed = ContinuousClock.now - started
        let calls = try server.calls().count
        #expect(error?.problem == .status(GRPCStatus(code: .resourceExhausted, message: "rejected by rate limit")))
        #expect(error?.attempts == calls && calls >= 4, "pauses of 5-10, 10-20, 20-40, 40-80 ms fit in 400 ms: \(calls) calls")
        #expect(error?.description == "kubelet pod-resources socket \(server.socket): the kubelet answered RESOURCE_EXHAUSTED: rejected by rate limit (\(calls) calls)")
        #expect(error?.isTransient == true)
        #expect(elapsed < .milliseconds(400) + .milliseconds(300), "\(elapsed)")
    }

    @Test func anAnswerOverTheLimitFails() throws {
        let server = try PodResourcesServer(pods: serverPods)
        let client = PodResourcesClient(socket: server.socket, messageLimit: 16)
        let error = #expect(throws: PodResourcesError.self) { try client.list() }
        #expect(error?.description == "kubelet pod-resources socket \(server.socket): List: the response exceeds the limit of 21 bytes")
    }

    @Test func theDefaultsAreTheKubeletsAndMultuss() {
        let client = PodResourcesClient()
        #expect(client.socket == "/var/lib/kubelet/pod-resources/kubelet.sock")
        #expect(client.messageLimit == 16 * 1024 * 1024)
        #expect(client.deadline == .seconds(2))
    }
}
