import CNI
import KubeClient
@testable import MetaPlugin
import Testing
import TestSupport

private func pod(uid: String = "uid-1", version: String = "7", annotations: [String: String] = [:], bound: Bool = true) throws -> Pod {
    var meta: JSONObject = ["name": "web-0", "namespace": "default", "uid": .string(uid), "resourceVersion": .string(version)]
    meta["annotations"] = .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
    return try Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": .object(meta), "spec": bound ? ["nodeName": "node-1"] : [:]])
}

private func reference(uid: String? = "uid-1") throws -> PodReference {
    let args = "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0" + (uid.map { ";K8S_POD_UID=\($0)" } ?? "")
    return try #require(try PodReference(args: CNIArgs(parsing: args)))
}

/// One case of `PodRead`: what the cache and then storage answer, what the runtime knows, and
/// the reads made and the version used.
struct PodReadCase: Sendable, CustomTestStringConvertible {
    var name: String
    var answers: [Result<Pod, KubeError>]
    var uid: String? = "uid-1"
    var runtimeAnnotations: [String: String]? = nil
    var reads: [String]
    var used: String
    var fallback: StaleRead?
    var testDescription: String { name }
}

private let cacheRead = "GET pod default/web-0 (cache)"
private let storageRead = "GET pod default/web-0"
private let networks = [NetworkSelection.annotation: "macvlan-conf"]
private let mirror = [Pod.configSourceAnnotation: "file", Pod.configMirrorAnnotation: "abc"]

private func cases() throws -> [PodReadCase] {
    [
        PodReadCase(name: "the cached pod with the runtime's UID: no storage read", answers: [.success(try pod())], reads: [cacheRead], used: "7"),
        PodReadCase(name: "no UID from the runtime: the cached pod", answers: [.success(try pod(uid: "uid-9"))], uid: nil, reads: [cacheRead], used: "7"),
        PodReadCase(name: "404 from the cache: storage", answers: [.failure(ScriptedKubeAPI.failure(404)), .success(try pod(version: "8"))],
                    reads: [cacheRead, storageRead], used: "8", fallback: .notInCache),
        PodReadCase(name: "another UID in the cache (the pod recreated under its name): storage",
                    answers: [.success(try pod(uid: "uid-0")), .success(try pod(version: "9"))], reads: [cacheRead, storageRead], used: "9",
                    fallback: .otherUID("uid-0")),
        PodReadCase(name: "the cached pod before it was bound (no spec.nodeName): storage",
                    answers: [.success(try pod(bound: false)), .success(try pod(version: "8"))], reads: [cacheRead, storageRead], used: "8",
                    fallback: .notBound),
        PodReadCase(name: "a static pod's mirror has its own UID: the cached one", answers: [.success(try pod(uid: "mirror-uid", annotations: mirror))],
                    reads: [cacheRead], used: "7"),
        PodReadCase(name: "the runtime's annotations name networks the cached pod lacks: storage",
                    answers: [.success(try pod()), .success(try pod(version: "8", annotations: networks))], runtimeAnnotations: networks,
                    reads: [cacheRead, storageRead], used: "8", fallback: .annotationBehind(NetworkSelection.annotation)),
        PodReadCase(name: "the runtime's default-network differs from the cached pod's: storage",
                    answers: [.success(try pod(annotations: [NetworkResolver.defaultNetworkAnnotation: "a"])), .success(try pod(version: "8"))],
                    runtimeAnnotations: [NetworkResolver.defaultNetworkAnnotation: "b"], reads: [cacheRead, storageRead], used: "8",
                    fallback: .annotationBehind(NetworkResolver.defaultNetworkAnnotation)),
        PodReadCase(name: "the runtime's annotations agree with the cached pod's: no storage read",
                    answers: [.success(try pod(annotations: networks.merging(["other": "x"]) { $1 }))], runtimeAnnotations: networks,
                    reads: [cacheRead], used: "7"),
        PodReadCase(name: "nothing from the runtime implies an annotation: a cached pod without one is used", answers: [.success(try pod())],
                    reads: [cacheRead], used: "7"),
    ]
}

@Suite("reads from the watch cache, and when storage is read instead")
struct WatchCacheReadsTests {
    @Test(arguments: try cases())
    func podRead(_ c: PodReadCase) throws {
        let api = ScriptedKubeAPI(.init(reads: c.answers))
        var told: [StaleRead] = []
        var read = PodRead(api: api, reference: try reference(uid: c.uid), runtimeAnnotations: c.runtimeAnnotations)
        read.onFallback = { told.append($0) }
        #expect(try read.read().metadata.resourceVersion == c.used)
        #expect(api.calls == c.reads)
        #expect(told == (c.fallback.map { [$0] } ?? []))
    }

    @Test("storage's answer stands, 404 included (a static pod with no mirror yet); other failures from the cache are not retried")
    func failures() throws {
        let gone = ScriptedKubeAPI(.init(reads: [.failure(ScriptedKubeAPI.failure(404)), .failure(ScriptedKubeAPI.failure(404))]))
        let notFound = #expect(throws: KubeError.self) { try PodRead(api: gone, reference: try reference(), runtimeAnnotations: nil).read() }
        #expect(notFound?.isNotFound == true)
        #expect(gone.calls == [cacheRead, storageRead])

        let failing = ScriptedKubeAPI(.init(reads: [.failure(ScriptedKubeAPI.failure(500))]))
        let failure = #expect(throws: KubeError.self) { try PodRead(api: failing, reference: try reference(), runtimeAnnotations: nil).read() }
        #expect(failure?.httpStatus == 500)
        #expect(failing.calls == [cacheRead])
    }

    @Test("a NAD the cache does not have is read from storage before it is called missing")
    func nadNotInCache() throws {
        let api = ScriptedKubeAPI(.init())
        let error = #expect(throws: KubeError.self) { try api.networkAttachmentDefinitionFromCache(namespace: .make("default"), name: .make("net-a")) }
        #expect(error?.isNotFound == true)
        #expect(api.calls == ["GET nad default/net-a (cache)", "GET nad default/net-a"])
    }

    @Test("the runtime's pod annotations: the capability's object, string values only; none without it")
    func runtimeAnnotations() {
        #expect(PodRead.runtimeAnnotations(["portMappings": []]) == nil)
        let passed: JSONObject = [PodRead.podAnnotationsCapability: [NetworkSelection.annotation: "a,b", "count": 3]]
        #expect(PodRead.runtimeAnnotations(passed) == [NetworkSelection.annotation: "a,b"])
        #expect(PodRead.runtimeAnnotations([PodRead.podAnnotationsCapability: "not an object"]) == nil)
    }
}
