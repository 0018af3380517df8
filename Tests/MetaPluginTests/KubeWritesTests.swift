import CNI
import KubeClient
@testable import MetaPlugin
import Testing
import TestSupport

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
        let outcome = try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7"), namespace: .make("default"), name: .make("web-0"))
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
        #expect(try NetworkStatusWriter(api: retried, backoff: .zero).write("[]", to: pod(version: "7"), namespace: .make("default"), name: .make("web-0")) == .written)
        #expect(retried.calls == ["PUT status rv=7", "GET pod default/web-0", "PUT status rv=8", "GET pod default/web-0", "PUT status rv=9"])
        #expect(retried.written.first?.metadata.annotations == ["new": "2", NetworkStatus.annotation: "[]"], "their annotation stays, ours is set")

        let reads = try (8...11).map { Result<Pod, KubeError>.success(try pod(version: "\($0)")) }
        let hopeless = ScriptedKubeAPI(.init(updates: [409, 409, 409, 409, 409, nil], reads: reads))
        let error = #expect(throws: KubeError.self) { try NetworkStatusWriter(api: hopeless, backoff: .zero).write("[]", to: pod(version: "7"), namespace: .make("default"), name: .make("web-0")) }
        #expect(error?.isConflict == true)
        #expect(hopeless.calls.filter { $0.hasPrefix("PUT") }.count == 5)
    }

    @Test("the pod deleted (404 on write or re-read) or recreated under its name (another UID): nothing to write on",
          arguments: [
            (ScriptedKubeAPI.Script(updates: [404]), ["PUT status rv=7"]),
            (ScriptedKubeAPI.Script(updates: [409], reads: [.failure(ScriptedKubeAPI.failure(404))]), ["PUT status rv=7", "GET pod default/web-0"]),
          ])
    func podGone(script: ScriptedKubeAPI.Script, calls: [String]) throws {
        let api = ScriptedKubeAPI(script)
        #expect(try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7"), namespace: .make("default"), name: .make("web-0")) == .podGone)
        #expect(api.calls == calls)
    }

    @Test func aRecreatedPodIsNotWrittenOn() throws {
        let api = ScriptedKubeAPI(.init(updates: [409], reads: [.success(try pod(uid: "uid-2", version: "30"))]))
        #expect(try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7"), namespace: .make("default"), name: .make("web-0")) == .podGone)
        #expect(api.calls == ["PUT status rv=7", "GET pod default/web-0"])
        #expect(api.written.isEmpty)
    }

    @Test("any other failure is the error", arguments: [403, 422, 500])
    func otherFailures(status: Int) throws {
        let api = ScriptedKubeAPI(.init(updates: [status]))
        let error = #expect(throws: KubeError.self) { try NetworkStatusWriter(api: api, backoff: .zero).write("[]", to: pod(version: "7"), namespace: .make("default"), name: .make("web-0")) }
        #expect(error?.httpStatus == status)
        #expect(api.calls == ["PUT status rv=7"])
    }

    @Test("AddedInterface in Multus's words; none for an empty result; distinct names; a refused event is only noted")
    func events() throws {
        let api = ScriptedKubeAPI(.init(eventFailure: 403))
        let diagnostics = Diagnostics()
        let recorder = EventRecorder(api: api, pod: try pod(version: "7").metadata, diagnostics: diagnostics)
        let network = try NetworkConfigList(json: ["cniVersion": "1.0.0", "name": "dual", "type": "bridge"])
        let attachment = Attachment(network: network, ifName: .make("net1"), role: .secondary, capabilityArgs: JSONObject(), source: "test",
                                    statusName: "default/dual")
        let dual = try CNIResult(json: ["cniVersion": "1.0.0", "interfaces": [["name": "net1", "sandbox": "/ns"]],
                                        "ips": [["address": "10.1.1.2/24"], ["address": "fd00::2/64"]]], fallbackVersion: .latest)
        recorder.addedInterface(attachment, result: dual)
        recorder.addedInterface(attachment, result: try CNIResult(json: ["cniVersion": "1.0.0"], fallbackVersion: .latest))
        recorder.noNetworkFound(namespace: .make("default"), name: .make("gone"), error: .http(server: "s", call: "c", status: 404, message: #"network-attachment-definitions.k8s.cni.cncf.io "gone" not found"#))
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
