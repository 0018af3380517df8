import CNI
import KubeClient
@testable import MetaPlugin
import Synchronization
import Testing
import TestSupport

/// A KubeAPI that answers from a script and records every call, for the write paths' rules
/// (retry, give-up, event wording) and DRA's reads without a server.
final class ScriptedKubeAPI: KubeAPI, @unchecked Sendable {
    struct Script {
        /// Answers to successive status updates: nil stores the pod, a status code fails.
        var updates: [Int?] = []
        /// Answers to successive pod reads after the first: a pod, or a status code.
        var reads: [Result<Pod, KubeError>] = []
        var eventFailure: Int? = nil
        /// ResourceClaims by name (any namespace); a missing one is 404.
        var claims: [String: ResourceClaim] = [:]
        /// ResourceSlices; a list filters them by driver and node, as the field selectors do.
        var slices: [ResourceSlice] = []
        /// What every resource.k8s.io call fails with instead, if set.
        var draFailure: KubeError? = nil
        /// Answers to successive status applies: nil accepts the body, an error fails it.
        var applies: [KubeError?] = []
        /// Claims the reads after an apply's failure answer, in turn, before `claims`.
        var rereads: [ResourceClaim] = []
    }

    private let state: Mutex<(script: Script, calls: [String], events: [KubeEvent], written: [Pod], applied: [JSONValue])>

    init(_ script: Script) { state = Mutex((script, [], [], [], [])) }

    var calls: [String] { state.withLock { $0.calls } }
    var events: [KubeEvent] { state.withLock { $0.events } }
    var written: [Pod] { state.withLock { $0.written } }
    /// The bodies of the status applies that were accepted.
    var applied: [JSONValue] { state.withLock { $0.applied } }

    static func failure(_ status: Int) -> KubeError { .http(server: "https://test", call: "scripted", status: status, message: "status \(status)") }

    func pod(namespace: String, name: String) throws(KubeError) -> Pod {
        let next = state.withLock { state -> Result<Pod, KubeError> in
            state.calls.append("GET pod")
            return state.script.reads.isEmpty ? .failure(Self.failure(500)) : state.script.reads.removeFirst()
        }
        return try next.get()
    }

    func networkAttachmentDefinition(namespace: String, name: String) throws(KubeError) -> NetworkAttachmentDefinition {
        state.withLock { _ = $0.calls.append("GET nad") }
        throw Self.failure(404)
    }

    func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod {
        let answer = state.withLock { state -> Int? in
            state.calls.append("PUT status rv=\(pod.metadata.resourceVersion)")
            let answer = state.script.updates.isEmpty ? nil : state.script.updates.removeFirst()
            if answer == nil { state.written.append(pod) }
            return answer
        }
        if let answer { throw Self.failure(answer) }
        return pod
    }

    func resourceClaim(namespace: String, name: String) throws(KubeError) -> ResourceClaim {
        let answer = state.withLock { state -> Result<ResourceClaim, KubeError> in
            state.calls.append("GET resourceclaim \(namespace)/\(name)")
            if let failure = state.script.draFailure { return .failure(failure) }
            if !state.script.rereads.isEmpty { return .success(state.script.rereads.removeFirst()) }
            return state.script.claims[name].map { .success($0) } ?? .failure(Self.failure(404))
        }
        return try answer.get()
    }

    func applyResourceClaimStatus(_ body: JSONValue, namespace: String, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim {
        let answer = state.withLock { state -> Result<ResourceClaim, KubeError> in
            state.calls.append("APPLY resourceclaim \(namespace)/\(name) status as \(fieldManager) rv=\(body["metadata"]?["resourceVersion"]?.stringValue ?? "")")
            if let failure = state.script.applies.isEmpty ? nil : state.script.applies.removeFirst() { return .failure(failure) }
            state.applied.append(body)
            return state.script.claims[name].map { .success($0) } ?? .failure(Self.failure(404))
        }
        return try answer.get()
    }

    func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice] {
        let answer = state.withLock { state -> Result<[ResourceSlice], KubeError> in
            state.calls.append("LIST resourceslices \(driver) \(nodeName)")
            if let failure = state.script.draFailure { return .failure(failure) }
            return .success(state.script.slices.filter { $0.driver == driver && (nodeName.isEmpty || $0.nodeName == nodeName) })
        }
        return try answer.get()
    }

    func createEvent(_ event: KubeEvent) throws(KubeError) {
        let failure = state.withLock { state -> Int? in
            state.calls.append("POST event")
            state.events.append(event)
            return state.script.eventFailure
        }
        if let failure { throw Self.failure(failure) }
    }
}

private func pod(uid: String = "uid-1", version: String, annotations: [String: String] = ["other": "kept"]) throws -> Pod {
    var meta: JSONObject = ["name": "web-0", "namespace": "default", "uid": .string(uid), "resourceVersion": .string(version)]
    meta["annotations"] = .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
    return try Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": .object(meta), "spec": ["nodeName": "node-1"]])
}

@Suite("network-status by update, and events")
struct KubeWritesTests {
    @Test("the first write needs no read; the pod goes back whole with only our annotation set")
    func firstWrite() throws {
        let api = ScriptedKubeAPI(.init())
        let outcome = try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7"))
        #expect(outcome == .written)
        #expect(api.calls == ["PUT status rv=7"])
        let sent = try #require(api.written.first)
        #expect(sent.metadata.annotations == ["other": "kept", NetworkStatus.annotation: "[]"])
        #expect(sent.object["spec"] == ["nodeName": "node-1"])
    }

    @Test("409: read again and retry on what is stored, up to five tries in all, then the conflict is the error")
    func conflicts() throws {
        let retried = ScriptedKubeAPI(.init(updates: [409, 409, nil], reads: [.success(try pod(version: "8", annotations: ["new": "1"])),
                                                                             .success(try pod(version: "9", annotations: ["new": "2"]))]))
        #expect(try NetworkStatusWriter(api: retried, backoff: .zero).write("[]", to: pod(version: "7")) == .written)
        #expect(retried.calls == ["PUT status rv=7", "GET pod", "PUT status rv=8", "GET pod", "PUT status rv=9"])
        #expect(retried.written.first?.metadata.annotations == ["new": "2", NetworkStatus.annotation: "[]"], "their annotation stays, ours is set")

        let reads = try (8...11).map { Result<Pod, KubeError>.success(try pod(version: "\($0)")) }
        let hopeless = ScriptedKubeAPI(.init(updates: [409, 409, 409, 409, 409, nil], reads: reads))
        let error = #expect(throws: KubeError.self) { try NetworkStatusWriter(api: hopeless, backoff: .zero).write("[]", to: pod(version: "7")) }
        #expect(error?.isConflict == true)
        #expect(hopeless.calls.filter { $0.hasPrefix("PUT") }.count == 5)
    }

    @Test("the pod deleted (404 on write or re-read) or recreated under its name (another UID): nothing to write on",
          arguments: [
            (ScriptedKubeAPI.Script(updates: [404]), ["PUT status rv=7"]),
            (ScriptedKubeAPI.Script(updates: [409], reads: [.failure(ScriptedKubeAPI.failure(404))]), ["PUT status rv=7", "GET pod"]),
          ])
    func podGone(script: ScriptedKubeAPI.Script, calls: [String]) throws {
        let api = ScriptedKubeAPI(script)
        #expect(try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7")) == .podGone)
        #expect(api.calls == calls)
    }

    @Test func aRecreatedPodIsNotWrittenOn() throws {
        let api = ScriptedKubeAPI(.init(updates: [409], reads: [.success(try pod(uid: "uid-2", version: "30"))]))
        #expect(try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7")) == .podGone)
        #expect(api.calls == ["PUT status rv=7", "GET pod"])
        #expect(api.written.isEmpty)
    }

    @Test("any other failure is the error", arguments: [403, 422, 500])
    func otherFailures(status: Int) throws {
        let api = ScriptedKubeAPI(.init(updates: [status]))
        let error = #expect(throws: KubeError.self) { try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7")) }
        #expect(error?.httpStatus == status)
        #expect(api.calls == ["PUT status rv=7"])
    }

    @Test("AddedInterface in Multus's words; none for an empty result; distinct names; a refused event is only noted")
    func events() throws {
        let api = ScriptedKubeAPI(.init(eventFailure: 403))
        let diagnostics = Diagnostics()
        let recorder = EventRecorder(api: api, pod: try pod(version: "7").metadata, diagnostics: diagnostics)
        let network = try NetworkConfigList(json: ["cniVersion": "1.0.0", "name": "dual", "type": "bridge"])
        let attachment = Attachment(network: network, ifName: "net1", role: .secondary, capabilityArgs: JSONObject(), source: "test",
                                    statusName: "default/dual")
        let dual = try CNIResult(json: ["cniVersion": "1.0.0", "interfaces": [["name": "net1", "sandbox": "/ns"]],
                                        "ips": [["address": "10.1.1.2/24"], ["address": "fd00::2/64"]]], fallbackVersion: .latest)
        recorder.addedInterface(attachment, result: dual)
        recorder.addedInterface(attachment, result: try CNIResult(json: ["cniVersion": "1.0.0"], fallbackVersion: .latest))
        recorder.noNetworkFound(namespace: "default", name: "gone", error: .http(server: "s", call: "c", status: 404, message: #"network-attachment-definitions.k8s.cni.cncf.io "gone" not found"#))
        recorder.finish()
        #expect(api.events.map { "\($0.kind.rawValue) \($0.reason): \($0.message)" } == [
            "Normal AddedInterface: Add net1 [10.1.1.2/24 fd00::2/64] from default/dual",
            #"Warning NoNetworkFound: cannot find a network-attachment-definition (gone) in namespace (default): network-attachment-definitions.k8s.cni.cncf.io "gone" not found"#,
        ])
        #expect(Set(api.events.map(\.name)).count == 2)
        #expect(api.events.allSatisfy { $0.name.hasPrefix("web-0.") && $0.pod.uid == "uid-1" })
        #expect(diagnostics.all.count == 2)
        #expect(diagnostics.all.first?.contains("event AddedInterface for pod default/web-0 not recorded") == true)

        // A pod the API does not know has nothing an event could be about.
        let unknownPod = ScriptedKubeAPI(.init())
        let withoutPod = EventRecorder(api: unknownPod, pod: nil, diagnostics: diagnostics)
        withoutPod.addedInterface(attachment, result: dual)
        withoutPod.finish()
        #expect(unknownPod.calls == [])
    }
}
