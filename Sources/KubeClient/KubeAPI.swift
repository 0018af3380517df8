import CNI
import Glibc
import Synchronization

/// The seam between the meta-plugin and the API server: the four calls a CNI invocation makes,
/// each one a verb Multus's own ClusterRole grants (get pods, get NADs, update pods/status,
/// create events). Nothing here may need `patch`: that role does not grant it.
public protocol KubeAPI: Sendable {
    func pod(namespace: String, name: String) throws(KubeError) -> Pod
    func networkAttachmentDefinition(namespace: String, name: String) throws(KubeError) -> NetworkAttachmentDefinition
    /// PUTs `pod` (the whole object as read, with our changes) to its `status` subresource. The
    /// `resourceVersion` it carries makes the write conditional: someone else's write since the
    /// read gets 409, never a silent overwrite. Returns the pod as stored.
    func updatePodStatus(_ pod: Pod) throws(KubeError) -> Pod
    func createEvent(_ event: KubeEvent) throws(KubeError)
}

extension KubeError {
    /// The HTTP status the API server answered, if it answered with an error.
    public var httpStatus: Int? { if case .http(_, _, let status, _) = self { status } else { nil } }
    public var isNotFound: Bool { httpStatus == 404 }
    /// The object changed since it was read (a stale `resourceVersion`).
    public var isConflict: Bool { httpStatus == 409 }
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

    public func pod(namespace: String, name: String) throws(KubeError) -> Pod {
        let json = try call("GET", "/api/v1/namespaces/\(namespace)/pods/\(name)", label: "GET pod \(namespace)/\(name)")
        do { return try Pod(json: json) } catch { throw malformed("GET pod \(namespace)/\(name)", error) }
    }

    public func networkAttachmentDefinition(namespace: String, name: String) throws(KubeError) -> NetworkAttachmentDefinition {
        let label = "GET network-attachment-definition \(namespace)/\(name)"
        let json = try call("GET", "/apis/k8s.cni.cncf.io/v1/namespaces/\(namespace)/network-attachment-definitions/\(name)", label: label)
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
                Platform.sleep(for: pause)
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
            response = try client.withLock { (client) throws(KubeError) -> HTTPResponse in
                try client.send(request, deadline: callDeadline, call: label)
            }
        } catch {
            report(KubeCallReport(call: label, status: nil, failure: error.description, duration: .now - started))
            throw error
        }
        report(KubeCallReport(call: label, status: response.status, failure: nil, duration: .now - started))
        guard (200..<300).contains(response.status) else {
            // The server's words, bounded as every echoed input is: a Status message may be megabytes.
            let status = KubeStatus(body: response.body)
            let text = Echo.clipped(status?.message ?? String(decoding: response.body.prefix(Echo.limit), as: UTF8.self))
            throw .http(server: kubeconfig.server.description, call: label, status: response.status, message: text.isEmpty ? "(no message)" : text)
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
