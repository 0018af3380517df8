import CNI
import KubeClient
import Synchronization

/// The one fake of the KubeAPI seam: it answers from a script and records every call, for the
/// write paths' rules (retry, give-up, event wording), DRA's reads and which names reach the API,
/// without a server. Integration tests use the test API server instead; the fuzz target keeps
/// its own canned answers.
public final class ScriptedKubeAPI: KubeAPI, Sendable {
    public struct Script: Sendable {
        /// Answers to successive status updates: nil stores the pod, a status code fails.
        public var updates: [Int?] = []
        /// Answers to successive pod reads: a pod, or a failure.
        public var reads: [Result<Pod, KubeError>] = []
        /// The HTTP status of every pod read once `reads` are used up.
        public var laterReads = 500
        public var eventFailure: Int? = nil
        /// ResourceClaims by name (any namespace); a missing one is 404.
        public var claims: [String: ResourceClaim] = [:]
        /// ResourceSlices; a list filters them by driver and node, as the field selectors do.
        public var slices: [ResourceSlice] = []
        /// What every resource.k8s.io call fails with instead, if set.
        public var draFailure: KubeError? = nil
        /// Answers to successive status applies: nil accepts the body, an error fails it.
        public var applies: [KubeError?] = []
        /// Claims the reads after an apply's failure answer, in turn, before `claims`.
        public var rereads: [ResourceClaim] = []

        public init(updates: [Int?] = [], reads: [Result<Pod, KubeError>] = [], laterReads: Int = 500, eventFailure: Int? = nil,
                    claims: [String: ResourceClaim] = [:], slices: [ResourceSlice] = [], draFailure: KubeError? = nil,
                    applies: [KubeError?] = [], rereads: [ResourceClaim] = []) {
            self.updates = updates
            self.reads = reads
            self.laterReads = laterReads
            self.eventFailure = eventFailure
            self.claims = claims
            self.slices = slices
            self.draFailure = draFailure
            self.applies = applies
            self.rereads = rereads
        }
    }

    private let state: Mutex<(script: Script, calls: [String], events: [KubeEvent], written: [Pod], applied: [JSONValue])>

    public init(_ script: Script) { state = Mutex((script, [], [], [], [])) }

    public var calls: [String] { state.withLock { $0.calls } }
    public var events: [KubeEvent] { state.withLock { $0.events } }
    public var written: [Pod] { state.withLock { $0.written } }
    /// The bodies of the status applies that were accepted.
    public var applied: [JSONValue] { state.withLock { $0.applied } }

    public static func failure(_ status: Int) -> KubeError { .http(server: "https://test", call: "scripted", status: status, message: "status \(status)") }

    /// How a call's record says where a read may come from: nothing for a quorum read.
    static func marker(_ consistency: ReadConsistency) -> String { consistency == .cached ? " (cache)" : "" }

    /// Cached and quorum reads take their answers from the one `reads` script, in call order.
    public func pod(namespace: Namespace, name: PodName, consistency: ReadConsistency) throws(KubeError) -> Pod {
        let next = state.withLock { state -> Result<Pod, KubeError> in
            state.calls.append("GET pod \(namespace)/\(name)\(Self.marker(consistency))")
            return state.script.reads.isEmpty ? .failure(Self.failure(state.script.laterReads)) : state.script.reads.removeFirst()
        }
        return try next.get()
    }

    public func networkAttachmentDefinition(namespace: Namespace, name: NetworkName, consistency: ReadConsistency) throws(KubeError) -> NetworkAttachmentDefinition {
        state.withLock { _ = $0.calls.append("GET nad \(namespace)/\(name)\(Self.marker(consistency))") }
        throw Self.failure(404)
    }

    public func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod {
        let answer = state.withLock { state -> Int? in
            state.calls.append("PUT status rv=\(pod.metadata.resourceVersion)")
            let answer = state.script.updates.isEmpty ? nil : state.script.updates.removeFirst()
            if answer == nil { state.written.append(pod) }
            return answer
        }
        if let answer { throw Self.failure(answer) }
        return pod
    }

    public func resourceClaim(namespace: Namespace, name: String) throws(KubeError) -> ResourceClaim {
        let answer = state.withLock { state -> Result<ResourceClaim, KubeError> in
            state.calls.append("GET resourceclaim \(namespace)/\(name)")
            if let failure = state.script.draFailure { return .failure(failure) }
            if !state.script.rereads.isEmpty { return .success(state.script.rereads.removeFirst()) }
            return state.script.claims[name].map { .success($0) } ?? .failure(Self.failure(404))
        }
        return try answer.get()
    }

    public func applyResourceClaimStatus(_ body: JSONValue, namespace: Namespace, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim {
        let answer = state.withLock { state -> Result<ResourceClaim, KubeError> in
            state.calls.append("APPLY resourceclaim \(namespace)/\(name) status as \(fieldManager) rv=\(body["metadata"]?["resourceVersion"]?.stringValue ?? "")")
            if let failure = state.script.applies.isEmpty ? nil : state.script.applies.removeFirst() { return .failure(failure) }
            state.applied.append(body)
            return state.script.claims[name].map { .success($0) } ?? .failure(Self.failure(404))
        }
        return try answer.get()
    }

    public func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice] {
        let answer = state.withLock { state -> Result<[ResourceSlice], KubeError> in
            state.calls.append("LIST resourceslices \(driver) \(nodeName)")
            if let failure = state.script.draFailure { return .failure(failure) }
            return .success(state.script.slices.filter { $0.driver == driver && (nodeName.isEmpty || $0.nodeName == nodeName) })
        }
        return try answer.get()
    }

    public func createEvent(_ event: KubeEvent) throws(KubeError) {
        let failure = state.withLock { state -> Int? in
            state.calls.append("POST event")
            state.events.append(event)
            return state.script.eventFailure
        }
        if let failure { throw Self.failure(failure) }
    }
}
