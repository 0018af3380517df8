import System

/// The server a client talks to: `https://10.96.0.1:443`, with a path prefix when the API is
/// served under one. (A kubeconfig's `server` is parsed into one in KubeClient.)
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// "https" or "http".
    public var scheme: String
    /// Without brackets: "10.96.0.1", "fd00::1", "api.example.com".
    public var host: String
    /// 443 for https and 80 for http unless the URL names one.
    public var port: Int
    /// "" or a path the API is served under, without a trailing slash ("/k8s").
    public var pathPrefix: String

    public init(scheme: String, host: String, port: Int? = nil, pathPrefix: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port ?? (scheme == "http" ? 80 : 443)
        self.pathPrefix = pathPrefix
    }

    /// `host:port`, with an IPv6 host in brackets: what goes in a Host header.
    public var authority: String {
        SocketAddress.parse(host)?.family == .v6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// "https://10.96.0.1:443", "https://[fd00::1]:6443", plus the path prefix if any.
    public var description: String { "\(scheme)://\(authority)\(pathPrefix)" }
}
