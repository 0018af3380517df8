import CNI
import DNS
import HTTPS
import Synchronization
import System

/// The seam between the meta-plugin and the API server: the calls a CNI invocation makes, each
/// one a verb Multus v4.3.1's own ClusterRole grants (get pods, get NADs, update pods/status,
/// create events, get resourceclaims, list resourceslices), and one that only the optional
/// role of deploy/rbac.yml grants: the server-side apply of a ResourceClaim's status, made only
/// with `draDeviceStatus`. Nothing else may need `patch`: Multus's role does not grant it.
public protocol KubeAPI: Sendable {
    func pod(namespace: Namespace, name: PodName, consistency: ReadConsistency) throws(KubeError) -> Pod
    func networkAttachmentDefinition(namespace: Namespace, name: NetworkName, consistency: ReadConsistency) throws(KubeError) -> NetworkAttachmentDefinition
    /// PUTs `pod` (the whole object as read, with our changes) to its `status` subresource. The
    /// `resourceVersion` it carries makes the write conditional: someone else's write since the
    /// read gets 409, never a silent overwrite. Returns the pod as stored.
    func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod
    func createEvent(_ event: KubeEvent) throws(KubeError)
    /// GET of a `resource.k8s.io/v1` ResourceClaim. `KubeError.notServed` when the server has no
    /// `resource.k8s.io/v1` (before Kubernetes 1.34).
    func resourceClaim(namespace: Namespace, name: String) throws(KubeError) -> ResourceClaim
    /// LIST of the `resource.k8s.io/v1` ResourceSlices of `driver` on node `nodeName` (server-side
    /// field selectors `spec.nodeName` and `spec.driver`; without a node name, the driver's on
    /// every node).
    func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice]
    /// Server-side apply of `body` (see `ResourceClaim.statusApply`) to the claim's `status`
    /// subresource as `fieldManager`: `PATCH` with `application/apply-patch+yaml` (the body is
    /// JSON, which is YAML). Never forced: a field another manager owns with another value is a
    /// conflict (`KubeError.fieldConflict`), not taken over. Returns the claim as stored.
    func applyResourceClaimStatus(_ body: JSONValue, namespace: Namespace, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim
}

/// Where a GET of one object may be answered from (kube-apiserver chooses by the request's
/// `resourceVersion`; see Kubernetes' "Resource versions" API concept).
public enum ReadConsistency: Sendable, Hashable {
    /// `resourceVersion=0`: the API server's watch cache, with no etcd read. The answer may be
    /// behind by whatever the cache has not seen yet (an object created since is a 404, one
    /// changed since has its old content and resourceVersion): the caller checks what it got.
    case cached
    /// No `resourceVersion`: a quorum read of etcd, the object as it is now.
    case quorum

    /// The query that asks for it, with its `?`; empty for a quorum read.
    var query: String { self == .cached ? "?resourceVersion=0" : "" }
    /// How a call's label says where it was read from.
    var labelSuffix: String { self == .cached ? " (watch cache)" : "" }
}

extension KubeError {
    /// The HTTP status the API server answered, if it answered with an error.
    public var httpStatus: Int? {
        switch self {
        case .http(_, _, let status, _): status
        case .notServed: 404
        case .fieldConflict: 409
        default: nil
        }
    }
    /// A 404 of either kind, as client-go's IsNotFound: the object, or the whole path.
    public var isNotFound: Bool { httpStatus == 404 }
    /// The server does not serve the API at all (not merely the object).
    public var isNotServed: Bool { if case .notServed = self { true } else { false } }
    public var isForbidden: Bool { httpStatus == 403 }
    /// The object changed since it was read (a stale `resourceVersion`); not a server-side apply
    /// field conflict, which another try does not resolve.
    public var isConflict: Bool { if case .http(_, _, 409, _) = self { true } else { false } }
    /// A server-side apply set a field another field manager owns with another value.
    public var isFieldConflict: Bool { if case .fieldConflict = self { true } else { false } }
}

/// The real API server, through a kubeconfig: one kept-alive HTTPS connection for all calls of
/// an invocation, a deadline per call and one for the whole invocation, and bounded retries with
/// backoff when the server is briefly away (connection refused or reset, 429, 5xx).
public final class LiveKubeAPI: KubeAPI, Sendable {
    public let kubeconfig: Kubeconfig
    private let client: Mutex<HTTPSClient>
    private let callTimeout: Duration
    private let deadline: ContinuousClock.Instant
    private let attempts: Int
    private let observer = Mutex<(@Sendable (KubeCallReport) -> Void)?>(nil)

    /// - Parameter sessionCache: where TLS sessions wait for the next invocation (see
    ///   `TLSSessionCache`); nil makes every invocation's handshake a full one.
    /// How much of an API server's Status message an error keeps. Longer than other echoes: the
    /// message is what tells an operator which permission is missing (an RBAC or admission
    /// refusal names the user, verb, resource and reason), and the kubelet's event keeps 1 KiB.
    public static let statusMessageLimit = 1024

    public init(kubeconfig: Kubeconfig, resolver: HostResolver = HostResolver(), callTimeout: Duration = .seconds(10),
                budget: Duration = .seconds(45), attempts: Int = 5, sessionCache: TLSSessionCache? = nil) {
        self.kubeconfig = kubeconfig
        let settings = TLSSettings(
            certificateAuthority: kubeconfig.certificateAuthority, insecureSkipVerify: kubeconfig.insecureSkipTLSVerify,
            serverName: kubeconfig.tlsServerName ?? kubeconfig.server.host,
            clientCertificate: kubeconfig.credentials.clientCertificate, clientKey: kubeconfig.credentials.clientKey,
            origin: kubeconfig.source)
        client = Mutex(HTTPSClient(server: kubeconfig.server, settings: settings, resolver: resolver, sessions: sessionCache))
        self.callTimeout = callTimeout
        deadline = ContinuousClock.now + budget
        self.attempts = max(1, attempts)
    }

    /// Hands every HTTP exchange (retries included) to `observer` once it is over: the log
    /// shows which calls a CNI call made and what the server answered.
    public func observeCalls(_ observer: @escaping @Sendable (KubeCallReport) -> Void) {
        self.observer.withLock { $0 = observer }
    }

    public func pod(namespace: Namespace, name: PodName, consistency: ReadConsistency) throws(KubeError) -> Pod {
        let label = "GET pod \(namespace)/\(name)\(consistency.labelSuffix)"
        let json = try call("GET", "/api/v1/namespaces/\(namespace)/pods/\(name)\(consistency.query)", label: label)
        do { return try Pod(json: json) } catch { throw malformed(label, error) }
    }

    public func networkAttachmentDefinition(namespace: Namespace, name: NetworkName, consistency: ReadConsistency) throws(KubeError) -> NetworkAttachmentDefinition {
        let label = "GET network-attachment-definition \(namespace)/\(name)\(consistency.labelSuffix)"
        let json = try call("GET", "/apis/k8s.cni.cncf.io/v1/namespaces/\(namespace)/network-attachment-definitions/\(name)\(consistency.query)",
                            label: label)
        do { return try NetworkAttachmentDefinition(json: json) } catch { throw malformed(label, error) }
    }

    public func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod {
        let (namespace, name) = (pod.metadata.namespace, pod.metadata.name)
        let label = "PUT pod \(namespace)/\(name) status"
        let json = try call("PUT", "/api/v1/namespaces/\(namespace)/pods/\(name)/status", label: label,
                            body: pod.object.serializedBytes(), contentType: "application/json")
        do { return try Pod(json: json) } catch { throw malformed(label, error) }
    }

    public func createEvent(_ event: KubeEvent) throws(KubeError) {
        _ = try call("POST", "/api/v1/namespaces/\(event.namespace)/events", label: "POST event \(event.reason) for pod \(event.namespace)/\(event.pod.name)",
                     body: event.json.serializedBytes(), contentType: "application/json")
    }

    public func resourceClaim(namespace: Namespace, name: String) throws(KubeError) -> ResourceClaim {
        let label = "GET resourceclaim \(namespace)/\(name)"
        let json = try call("GET", "/apis/resource.k8s.io/v1/namespaces/\(namespace)/resourceclaims/\(name)", label: label)
        do { return try ResourceClaim(json: json) } catch { throw malformed(label, error) }
    }

    public func resourceSlices(driver: String, nodeName: String) throws(KubeError) -> [ResourceSlice] {
        var selector = "spec.driver=\(driver)"
        if !nodeName.isEmpty { selector = "spec.nodeName=\(nodeName),\(selector)" }
        let label = "LIST resourceslices \(selector)"
        let json = try call("GET", "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=\(Self.queryEncoded(selector))", label: label)
        do { return try ResourceSlice.list(json: json) } catch { throw malformed(label, error) }
    }

    public func applyResourceClaimStatus(_ body: JSONValue, namespace: Namespace, name: String, fieldManager: String) throws(KubeError) -> ResourceClaim {
        let label = "APPLY resourceclaim \(namespace)/\(name) status"
        let json = try call("PATCH", "/apis/resource.k8s.io/v1/namespaces/\(namespace)/resourceclaims/\(name)/status?fieldManager=\(Self.queryEncoded(fieldManager))",
                            label: label, body: body.serializedBytes(), contentType: "application/apply-patch+yaml")
        do { return try ResourceClaim(json: json) } catch { throw malformed(label, error) }
    }

    /// A query value as Go's url.QueryEscape writes it: unreserved characters as they are,
    /// everything else percent-encoded (space too, though none is valid here).
    static func queryEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]], as: UTF8.self)
            }
        }
        return out
    }

    private func malformed(_ label: String, _ error: SpecError) -> KubeError {
        .malformedResponse(server: kubeconfig.server.description, call: label, reason: error.description)
    }

    /// One API call with retries; returns the decoded JSON body of a 2xx answer.
    private func call(_ method: String, _ path: String, label: String, body: [UInt8] = [], contentType: String? = nil) throws(KubeError) -> JSONValue {
        var backoff = Duration.milliseconds(100)
        var attempt = 1
        while true {
            do {
                return try callOnce(method, path, label: label, body: body, contentType: contentType)
            } catch let error where error.isTransient && attempt < attempts {
                var pause = backoff
                if case .http(_, _, 429, _) = error { pause = max(pause, .milliseconds(200)) }
                guard ContinuousClock.now + pause < deadline else { throw error }
                Clock.sleep(for: pause)
                backoff = min(backoff * 2, .seconds(2))
                attempt += 1
            }
        }
    }

    private func callOnce(_ method: String, _ path: String, label: String, body: [UInt8], contentType: String?) throws(KubeError) -> JSONValue {
        var headers: [(String, String)] = [("Accept", "application/json"), ("User-Agent", "swift-multus/0.1")]
        if let contentType { headers.append(("Content-Type", contentType)) }
        if let token = try kubeconfig.credentials.bearerToken() {
            headers.append(("Authorization", "Bearer \(token)"))
        } else if let user = kubeconfig.credentials.username, let password = kubeconfig.credentials.password {
            headers.append(("Authorization", "Basic \(Base64.encode(Array("\(user):\(password)".utf8)))"))
        }
        let callDeadline = min(deadline, ContinuousClock.now + callTimeout)
        guard ContinuousClock.now < callDeadline else {
            throw .timeout(server: kubeconfig.server.description, call: label, after: .zero)
        }
        let request = HTTPRequest(method: method, path: path, headers: headers, body: body)
        let started = ContinuousClock.now
        let response: HTTPResponse
        do {
            response = try client.withLock { (client) throws(HTTPSError) -> HTTPResponse in
                try client.send(request, deadline: callDeadline, call: label)
            }
        } catch {
            let failure = KubeError(error)
            report(KubeCallReport(call: label, status: nil, failure: failure.description, duration: .now - started))
            throw failure
        }
        report(KubeCallReport(call: label, status: response.status, failure: nil, duration: .now - started))
        guard (200..<300).contains(response.status) else {
            // The server's words, bounded as every echoed input is: a Status message may be megabytes.
            let status = KubeStatus(body: response.body)
            var text = Echo.clipped(status?.message ?? String(decoding: response.body.prefix(Self.statusMessageLimit), as: UTF8.self),
                                    limit: Self.statusMessageLimit)
            if text.isEmpty { text = "(no message)" }
            if response.status == 404, status?.objectName == nil {
                throw .notServed(server: kubeconfig.server.description, call: label, message: text)
            }
            if response.status == 409, status?.causeReasons.contains(KubeStatus.fieldManagerConflict) == true {
                throw .fieldConflict(server: kubeconfig.server.description, call: label, message: text)
            }
            throw .http(server: kubeconfig.server.description, call: label, status: response.status, message: text)
        }
        do {
            return try JSONValue.parse(response.body)
        } catch {
            throw .malformedResponse(server: kubeconfig.server.description, call: label, reason: error.description)
        }
    }
}

extension LiveKubeAPI {
    private func report(_ call: KubeCallReport) {
        observer.withLock { $0 }?(call)
    }
}

/// One HTTP exchange with the API server, as `LiveKubeAPI.observeCalls` reports it.
public struct KubeCallReport: Sendable, Hashable {
    /// What the call was for: `GET pod default/web-0`.
    public var call: String
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// Why there was no answer (connection, TLS, timeout).
    public var failure: String?
    public var duration: Duration
}

// MARK: - multus doctor's questions (ClusterDiagnostics)

extension LiveKubeAPI: ClusterDiagnostics {
    public func serverVersion() throws(KubeError) -> ServerVersion {
        let json = try call("GET", "/version", label: "GET /version")
        do { return try ServerVersion(json: json) } catch { throw malformed("GET /version", error) }
    }

    public func review(_ question: AccessQuestion) throws(KubeError) -> AccessAnswer {
        let label = "CREATE selfsubjectaccessreview \(question)"
        let json = try call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", label: label,
                            body: question.reviewBody.serializedBytes(), contentType: "application/json")
        do { return try AccessAnswer(review: json) } catch { throw malformed(label, error) }
    }

    public func servedResources(groupVersion: String) throws(KubeError) -> [String] {
        let path = groupVersion == "v1" ? "/api/v1" : "/apis/\(groupVersion)"
        let label = "GET \(path) (discovery)"
        let json = try call("GET", path, label: label)
        do { return try DiscoveryList.resourceNames(json: json) } catch { throw malformed(label, error) }
    }

    public func networkAttachmentDefinitions(namespace: Namespace?) throws(KubeError) -> [NetworkAttachmentDefinition] {
        let path = namespace.map { "/apis/k8s.cni.cncf.io/v1/namespaces/\($0)/network-attachment-definitions" }
            ?? "/apis/k8s.cni.cncf.io/v1/network-attachment-definitions"
        let label = "LIST network-attachment-definitions in \(namespace?.text ?? "all namespaces")"
        let json = try call("GET", path, label: label)
        do { return try NetworkAttachmentDefinition.list(json: json) } catch { throw malformed(label, error) }
    }
}

extension LiveKubeAPI: DRADiagnostics {
    public func resourceSlices(nodeName: String) throws(KubeError) -> [ResourceSlice] {
        let selector = "spec.nodeName=\(nodeName)"
        let label = "LIST resourceslices \(selector)"
        let json = try call("GET", "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=\(Self.queryEncoded(selector))", label: label)
        do { return try ResourceSlice.list(json: json) } catch { throw malformed(label, error) }
    }

    public func pods(nodeName: String) throws(KubeError) -> [ObjectMeta] {
        let selector = "spec.nodeName=\(nodeName)"
        let label = "LIST pods \(selector)"
        let json = try call("GET", "/api/v1/pods?fieldSelector=\(Self.queryEncoded(selector))", label: label)
        do { return try ObjectMeta.list(json: json) } catch { throw malformed(label, error) }
    }

    public func events(namespace: Namespace, reason: String) throws(KubeError) -> [EventSummary] {
        // Filtered here rather than by a `reason` field selector, which not every server (nor
        // the test API server) takes.
        let label = "LIST events in \(namespace)"
        let json = try call("GET", "/api/v1/namespaces/\(namespace)/events", label: label)
        do { return try EventSummary.list(json: json).filter { $0.reason == reason } } catch { throw malformed(label, error) }
    }
}
