// ADD reads the pod and its NADs from the API server's watch cache (`resourceVersion=0`), and
// from storage (a quorum read of etcd) only when the cached answer cannot be trusted. The test API
// server's cache is made to lag behind its storage (`setWatchCacheLag`), and its request log says
// where each GET was served from.
import CNI
import Testing
import TestSupport

/// One GET or PUT as the test API server logged it: what, how it ended, and where it was read from.
private struct Exchange: Equatable, CustomStringConvertible {
    var call: String
    var status: Int
    var servedFrom: ReadSource?
    var description: String { "\(call) -> \(status) \(servedFrom.map(\.rawValue) ?? "-")" }
}

private let podPath = "/api/v1/namespaces/default/pods/"
private let nadPath = "/apis/k8s.cni.cncf.io/v1/namespaces/"

extension KubeSandbox {
    /// The pod and NAD reads and the status writes since the last call, in order (events left out:
    /// they go out while delegates run). No request may be a PATCH (see `takeRequests`).
    fileprivate func exchanges() throws -> [Exchange] {
        let logged = try server.requests()
        try server.clearLog()
        #expect(!logged.contains { $0.method == "PATCH" })
        return logged.filter { !$0.path.hasSuffix("/events") }.map { request in
            let query = request.query.isEmpty ? "" : "?\(request.query)"
            let path = request.path.replacing(podPath, with: "pod ").replacing(nadPath, with: "nad ")
            return Exchange(call: "\(request.method) \(path)\(query)", status: request.status, servedFrom: request.servedFrom)
        }
    }

    /// A stored object of the fixture with a new name and UID, annotations merged in.
    fileprivate func copy(kind: String, namespace: String, name: String, as newName: String, uid: String? = nil,
                          annotations: JSONObject = [:]) throws -> JSONValue {
        var object = try #require(try server.object(kind: kind, namespace: namespace, name: name)?.objectValue)
        var meta = object["metadata"]?.objectValue ?? JSONObject()
        meta["name"] = .string(newName)
        meta["uid"] = .string(uid ?? "uid-\(newName)")
        meta["resourceVersion"] = nil
        var merged = meta["annotations"]?.objectValue ?? JSONObject()
        for (key, value) in annotations { merged[key] = value }
        meta["annotations"] = .object(merged)
        object["metadata"] = .object(meta)
        return .object(object)
    }

    /// ADD of `pod` (as the runtime passes it, with `uid`) succeeds, making exactly `expected`
    /// reads and writes, and attaches the three networks of `networks`; then DEL makes no API call
    /// (it tears down from the cache) and leaves no lease in `leases`.
    fileprivate func expectADD(_ pod: String, uid: String? = nil, exchanges expected: [Exchange], networks: [String] = commaNetworks,
                               leases: [String] = ["cluster-net", "macvlan-conf", "ptp-conf"], sourceLocation: SourceLocation = #_sourceLocation) throws {
        try server.clearLog()
        let add = multus("ADD", pod: pod, uid: uid)
        #expect(add.exitCode == 0, "\(add.stdout)", sourceLocation: sourceLocation)
        #expect(try exchanges() == expected, sourceLocation: sourceLocation)
        #expect(Set(box.podInterfaces().keys) == ["lo", "eth0", "net1", "net2"], sourceLocation: sourceLocation)
        #expect(try networkStatus(pod)?.compactMap { $0["name"]?.stringValue } == networks, sourceLocation: sourceLocation)
        let del = multus("DEL", pod: pod, uid: uid)
        #expect(del.exitCode == 0, "\(del.stdout)", sourceLocation: sourceLocation)
        #expect(try server.requests().isEmpty, "DEL tears down from the cache and makes no API call", sourceLocation: sourceLocation)
        expectClean(leases, sourceLocation: sourceLocation)
    }
}

private let cached = "resourceVersion=0"
private let clusterNet = "nad kube-system/network-attachment-definitions/cluster-net"
private let macvlan = "nad default/network-attachment-definitions/macvlan-conf"
private let ptp = "nad default/network-attachment-definitions/ptp-conf"
private let commaNetworks = ["kube-system/cluster-net", "default/macvlan-conf", "default/ptp-conf"]

private func fromCache(_ object: String, status: Int = 200) -> Exchange { Exchange(call: "GET \(object)?\(cached)", status: status, servedFrom: .cache) }
private func fromStorage(_ object: String) -> Exchange { Exchange(call: "GET \(object)", status: 200, servedFrom: .storage) }
private func statusWrite(_ pod: String, status: Int = 200) -> Exchange { Exchange(call: "PUT pod \(pod)/status", status: status, servedFrom: nil) }
/// web-comma's three NADs, each read from the cache.
private let commaNADs = [clusterNet, macvlan, ptp].map { fromCache($0) }

@Suite("Kubernetes: reads from the watch cache, and the fallbacks to storage", .tags(.privileged), .enabled(if: isRoot, "needs root for network namespaces"))
struct WatchCacheTests {
    @Test("the happy path: the pod and its 3 NADs from the watch cache, no storage read; the status write conditional on the cached version")
    func happyPath() throws {
        let k = try KubeSandbox()
        try k.expectADD("web-comma", exchanges: [fromCache("pod web-comma")] + commaNADs + [statusWrite("web-comma")])
    }

    @Test("a pod created after the cache's state: 404 from the cache, then storage")
    func podNotYetInCache() throws {
        let k = try KubeSandbox()
        let late = try k.copy(kind: "Pod", namespace: "default", name: "web-comma", as: "web-late")
        try k.server.setWatchCacheLag(writes: 1)
        try k.server.put(late)
        try k.expectADD("web-late", exchanges: [fromCache("pod web-late", status: 404), fromStorage("pod web-late")] + commaNADs + [statusWrite("web-late")])
    }

    @Test("a pod deleted and recreated under its name, the cache still holding the old one: storage has the runtime's UID")
    func recreatedPod() throws {
        let k = try KubeSandbox()
        let recreated = try k.copy(kind: "Pod", namespace: "default", name: "web-comma", as: "web-comma", uid: "uid-web-comma-2")
        try k.server.setWatchCacheLag(writes: 2)
        #expect(try k.server.delete(kind: "Pod", namespace: "default", name: "web-comma"))
        try k.server.put(recreated)
        try k.expectADD("web-comma", uid: "uid-web-comma-2",
                        exchanges: [fromCache("pod web-comma"), fromStorage("pod web-comma")] + commaNADs + [statusWrite("web-comma")])
        #expect(try k.server.object(kind: "Pod", namespace: "default", name: "web-comma")?["metadata"]?["uid"] == "uid-web-comma-2")
    }

    @Test("a NAD created after the cache's state: 404 from the cache, then storage")
    func nadNotYetInCache() throws {
        let k = try KubeSandbox()
        let pod = try k.copy(kind: "Pod", namespace: "default", name: "web-comma", as: "web-late",
                             annotations: ["k8s.v1.cni.cncf.io/networks": "macvlan-conf, late-net"])
        let nad = try k.copy(kind: "NetworkAttachmentDefinition", namespace: "default", name: "ptp-conf", as: "late-net")
        try k.server.setWatchCacheLag(writes: 1)
        try k.server.put(pod)
        try k.server.put(nad)
        let late = "nad default/network-attachment-definitions/late-net"
        try k.expectADD("web-late", exchanges: [fromCache("pod web-late"), fromCache(clusterNet), fromCache(macvlan), fromCache(late, status: 404),
                                                fromStorage(late), statusWrite("web-late")],
                        networks: ["kube-system/cluster-net", "default/macvlan-conf", "default/late-net"], leases: ["cluster-net", "macvlan-conf", "late-net"])
    }

    @Test("the pod changed after the cache's state: the status write meets 409, the retry re-reads from storage, both writes stand")
    func conflictOnStatusWrite() throws {
        let k = try KubeSandbox()
        let changed = try k.copy(kind: "Pod", namespace: "default", name: "web-comma", as: "web-comma", uid: "uid-web-comma",
                                 annotations: ["example.com/written-meanwhile": "yes"])
        try k.server.setWatchCacheLag(writes: 1)
        try k.server.put(changed)
        try k.expectADD("web-comma", exchanges: [fromCache("pod web-comma")] + commaNADs
                            + [statusWrite("web-comma", status: 409), fromStorage("pod web-comma"), statusWrite("web-comma")])
        let annotations = try k.server.object(kind: "Pod", namespace: "default", name: "web-comma")?["metadata"]?["annotations"]
        #expect(annotations?["example.com/written-meanwhile"] == "yes", "the other writer's annotation stays")
    }
}
