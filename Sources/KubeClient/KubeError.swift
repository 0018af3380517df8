import DNS
import HTTPS

/// Everything that can go wrong talking to Kubernetes, each case naming what an operator needs:
/// the file and key, the server and call, the status and the API server's own message.
public enum KubeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A kubeconfig (or a file it names) is missing a key or has a bad value.
    case kubeconfig(path: String, key: String, reason: String)
    /// A file could not be read (kubeconfig, CA bundle, client certificate, token file).
    case file(path: String, reason: String)
    /// The bearer token (its file, or the kubeconfig's inline token) is missing, unreadable,
    /// empty, or a JWT past its `exp`: every call would be refused until it is replaced.
    case token(path: String, reason: String)
    /// A server name did not resolve.
    case resolve(host: String, reason: String)
    /// No connection: refused, reset, unreachable, or timed out while connecting.
    case connect(server: String, reason: String)
    /// The TLS handshake failed (certificate not trusted, name mismatch, protocol).
    case tls(server: String, reason: String)
    /// The API server answered with an error status; `message` is its `Status.message`.
    case http(server: String, call: String, status: Int, message: String)
    /// A 404 that names no object: the server does not serve the path at all, as for an API
    /// group or version it does not have (`resource.k8s.io/v1` before Kubernetes 1.34).
    case notServed(server: String, call: String, message: String)
    /// 409 to a server-side apply: a field it sets is owned by another field manager with another
    /// value (`FieldManagerConflict`). Another try changes nothing; only forcing would, and that
    /// takes the field from its owner.
    case fieldConflict(server: String, call: String, message: String)
    /// The answer was not HTTP or not the JSON we expected.
    case malformedResponse(server: String, call: String, reason: String)
    /// The call (or the whole invocation's budget) ran out of time.
    case timeout(server: String, call: String, after: Duration)

    public var description: String {
        switch self {
        case .kubeconfig(let path, let key, let reason): "kubeconfig \(path): \(key): \(reason)"
        case .file(let path, let reason): "cannot read \(path): \(reason)"
        case .token(let path, let reason): "token file \(path) is not usable: \(reason)"
        case .resolve(let host, let reason): "cannot resolve \(host): \(reason)"
        case .connect(let server, let reason): "cannot connect to \(server): \(reason)"
        case .tls(let server, let reason): "TLS with \(server) failed: \(reason)"
        case .http(let server, let call, let status, let message): "\(call) on \(server): HTTP \(status): \(message)"
        case .notServed(let server, let call, let message): "\(call) on \(server): HTTP 404: \(message) (the server does not serve this API)"
        case .fieldConflict(let server, let call, let message): "\(call) on \(server): HTTP 409: \(message)"
        case .malformedResponse(let server, let call, let reason): "\(call) on \(server): bad response: \(reason)"
        case .timeout(let server, let call, let after): "\(call) on \(server): no answer within \(after)"
        }
    }

    /// Worth another try: the server may be back in a moment (libcni's "try again later").
    public var isTransient: Bool {
        switch self {
        case .connect, .timeout: true
        case .http(_, _, let status, _): status == 429 || status >= 500
        default: false
        }
    }
}

extension KubeError {
    /// An HTTPS failure as the plugin reports it: the same case and words as when KubeClient
    /// held the HTTPS client itself.
    init(_ error: HTTPSError) {
        switch error {
        case .resolve(let failure): self = .resolve(host: failure.host, reason: failure.reason)
        case .connect(let server, let reason): self = .connect(server: server, reason: reason)
        case .closedBeforeAnswer(let server): self = .connect(server: server, reason: HTTPSError.closedBeforeAnswerReason)
        case .lostWhileSending(let server, let reason): self = .connect(server: server, reason: HTTPSError.lostWhileSendingReason + reason)
        case .tls(let server, let reason): self = .tls(server: server, reason: reason)
        case .malformedResponse(let server, let call, let reason): self = .malformedResponse(server: server, call: call, reason: reason)
        case .timeout(let server, let call, let after): self = .timeout(server: server, call: call, after: after)
        }
    }
}
