import CNI
import System

/// The claims of a JWT bearer token that say when it works and for whom: a service account
/// token from the TokenRequest API (what kubelet projects into a pod, and what `multus install`
/// keeps fresh). The signature is not checked: the API server does that; these are read only to
/// tell an operator (and STATUS) that a token has expired before every call is refused.
public struct TokenClaims: Sendable, Hashable {
    /// `exp`, Unix seconds.
    public var expires: Int64?
    /// `nbf`, Unix seconds.
    public var notBefore: Int64?
    /// `iat`, Unix seconds.
    public var issuedAt: Int64?
    /// `sub`: `system:serviceaccount:<namespace>:<name>` for a service account.
    public var subject: String?
    /// `kubernetes.io.node.name`: the node a token bound to a pod names. kube-apiserver turns it
    /// into the user's `authentication.kubernetes.io/node-name` extra, which the `associated-node:`
    /// verbs of DRA's per-driver status authorization need.
    public var nodeName: String?

    /// The leeway kube-apiserver's service account validator allows past `exp` (go-jose's 60 s).
    public static let leeway: Int64 = 60

    /// The claims of `token`, or nil when it is not a JWT: three dot-separated base64url parts
    /// whose middle one is a JSON object. A claim of the wrong type is read as absent.
    public init?(jwt token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }), parts[1].utf8.count <= 64 << 10,
              let payload = Self.base64URLDecoded(parts[1]),
              let claims = (try? JSONValue.parse(payload))?.objectValue else { return nil }
        expires = Self.seconds(claims["exp"])
        notBefore = Self.seconds(claims["nbf"])
        issuedAt = Self.seconds(claims["iat"])
        subject = claims["sub"]?.stringValue
        nodeName = claims["kubernetes.io"]?.objectValue?["node"]?.objectValue?["name"]?.stringValue
    }

    /// Whether the API server refuses the token at `now` (Unix seconds) for its `exp`.
    public func isExpired(at now: Int64) -> Bool {
        guard let expires else { return false }
        return now > expires + Self.leeway
    }

    /// JSON numbers as Go's jwt libraries read NumericDate: whole seconds (a fraction is dropped).
    private static func seconds(_ value: JSONValue?) -> Int64? {
        guard case .number(let text)? = value else { return nil }
        if let whole = Int64(text) { return whole }
        guard let double = Double(text), double.isFinite, abs(double) < 1e15 else { return nil }
        return Int64(double)
    }

    /// RFC 4648 section 5 (URL-safe alphabet, no padding), through the standard decoder.
    private static func base64URLDecoded(_ text: Substring) -> [UInt8]? {
        guard !text.contains("+"), !text.contains("/"), !text.contains("=") else { return nil }
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Base64.decode(standard)
    }
}

extension Credentials {
    /// The bearer token, checked the way STATUS and `multus doctor` need it: readable, and, where
    /// it is a JWT, not past its `exp` at `now` (Unix seconds). Returns nil when the credentials
    /// hold no token (a client certificate); otherwise the token and its claims (nil if not a JWT).
    ///
    /// - Throws: `KubeError.token` naming the token file (or "the kubeconfig's token") and why.
    public func currentToken(now: Int64) throws(KubeError) -> (token: String, claims: TokenClaims?)? {
        guard let token = try bearerToken() else { return nil }
        let claims = TokenClaims(jwt: token)
        if let claims, claims.isExpired(at: now), let expires = claims.expires {
            throw .token(path: tokenFile ?? "the kubeconfig's token", reason: "the token expired at \(WallClockTime(seconds: expires).rfc3339)")
        }
        return (token, claims)
    }
}
