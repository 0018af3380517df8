import CNI
import Glibc
import Synchronization

/// The seam between the meta-plugin and the API server: the three calls a CNI invocation makes.
public protocol KubeAPI: Sendable {
    func pod(namespace: String, name: String) throws(KubeError) -> Pod
    func networkAttachmentDefinition(namespace: String, name: String) throws(KubeError) -> NetworkAttachmentDefinition
    /// Sets (or, for nil values, removes) pod annotations with one merge patch of `pods/status`,
    /// the subresource a CNI plugin's RBAC grants.
    func patchPodAnnotations(namespace: String, name: String, _ annotations: [(String, String?)]) throws(KubeError)
}

extension KubeError {
    public var isNotFound: Bool { if case .http(_, _, 404, _) = self { true } else { false } }
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

    public func pod(namespace: String, name: String) throws(KubeError) -> Pod {
        let json = try call("GET", "/api/v1/namespaces/\(namespace)/pods/\(name)", label: "GET pod \(namespace)/\(name)")
        do { return try Pod(json: json) } catch { throw malformed("GET pod \(namespace)/\(name)", error) }
    }

    public func networkAttachmentDefinition(namespace: String, name: String) throws(KubeError) -> NetworkAttachmentDefinition {
        let label = "GET network-attachment-definition \(namespace)/\(name)"
        let json = try call("GET", "/apis/k8s.cni.cncf.io/v1/namespaces/\(namespace)/network-attachment-definitions/\(name)", label: label)
        do { return try NetworkAttachmentDefinition(json: json) } catch { throw malformed(label, error) }
    }

    public func patchPodAnnotations(namespace: String, name: String, _ annotations: [(String, String?)]) throws(KubeError) {
        var values = JSONObject()
        for (key, value) in annotations { values[key] = value.map { .string($0) } ?? .null }
        let body: JSONValue = ["metadata": ["annotations": .object(values)]]
        _ = try call("PATCH", "/api/v1/namespaces/\(namespace)/pods/\(name)/status", label: "PATCH pod \(namespace)/\(name) status",
                     body: body.serializedBytes(), contentType: "application/merge-patch+json")
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
                sleep(for: pause)
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
        let response = try client.withLock { (client) throws(KubeError) -> HTTPResponse in
            try client.send(request, deadline: callDeadline, call: label)
        }
        guard (200..<300).contains(response.status) else {
            let status = KubeStatus(body: response.body)
            let text = status?.message ?? String(decoding: response.body.prefix(300), as: UTF8.self)
            throw .http(server: kubeconfig.server.description, call: label, status: response.status, message: text.isEmpty ? "(no message)" : text)
        }
        do {
            return try JSONValue.parse(response.body)
        } catch {
            throw .malformedResponse(server: kubeconfig.server.description, call: label, reason: error.description)
        }
    }

    private func sleep(for duration: Duration) {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        usleep(UInt32(clamping: micros))
    }
}
