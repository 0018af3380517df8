import CNI
import HTTPS
import KubeClient
import System
import YAML

/// What the pod's service account gives the plugin on the host: the API server, its CA and the
/// projected token (which the kubelet rotates).
public struct ServiceAccount: Sendable, Hashable {
    public var server: ServerAddress
    public var certificateAuthority: [UInt8]
    public var token: [UInt8]
    /// As the mounted files have it: it only goes, YAML-quoted, into the generated kubeconfig, which sends it nowhere.
    public var namespace: String?

    /// Reads `<directory>/token`, `ca.crt` and `namespace`, and the server from
    /// KUBERNETES_SERVICE_HOST/_PORT (an IPv6 host bracketed), as client-go's in-cluster config.
    ///
    /// KUBERNETES_SERVICE_PROTOCOL may be unset or `https`. Multus's entrypoint also takes
    /// `http`, but the plugin talks to the API server over verified TLS only: it sends a bearer
    /// token, which plain HTTP would hand to anyone on the path. A kubeconfig saying http is one
    /// every CNI call would refuse, so install refuses it first, and says why.
    /// - Throws: `InstallError.serviceAccount` naming the variable or file.
    public static func read(directory: String, environment: [String: String]) throws(InstallError) -> ServiceAccount {
        let kubeconfig: Kubeconfig?
        do { kubeconfig = try Kubeconfig.inCluster(environment: environment, serviceAccountDirectory: directory) } catch {
            throw .serviceAccount("\(error) (--service-account-dir=\(directory))")
        }
        guard let kubeconfig, let certificateAuthority = kubeconfig.certificateAuthority else {
            throw .serviceAccount("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; install runs in a pod with a service account")
        }
        let server = kubeconfig.server
        switch environment["KUBERNETES_SERVICE_PROTOCOL"] ?? "" {
        case "", "https": break
        case "http":
            throw .serviceAccount("KUBERNETES_SERVICE_PROTOCOL=http: the plugin talks to the API server over HTTPS only (it sends the "
                                  + "service account's token); unset it or set it to https")
        case let other: throw .serviceAccount("KUBERNETES_SERVICE_PROTOCOL=\(Echo.quoted(other)): expected https")
        }
        let tokenPath = directory.hasSuffix("/") ? directory + "token" : directory + "/token"
        let token: [UInt8]
        do { token = try Files.read(tokenPath, limit: 1 << 20) } catch {
            throw .serviceAccount("\(InstallError.file(error, path: tokenPath))")
        }
        return ServiceAccount(server: server, certificateAuthority: certificateAuthority, token: token, namespace: kubeconfig.namespace)
    }

    /// The kubeconfig the plugin reads on the host. The token is not in it: `tokenFile` names
    /// the host-side copy install keeps current, which the plugin re-reads on every call, so a
    /// rotated token never leaves a stale one behind (Multus issue #852).
    public func kubeconfig(tokenFile: String, skipTLSVerify: Bool) -> String {
        let trust = skipTLSVerify ? "insecure-skip-tls-verify: true"
            : "certificate-authority-data: \(Base64.encode(certificateAuthority))"
        let context = namespace.map { "\n    namespace: \(YAMLNode.doubleQuoted($0))" } ?? ""
        return """
            # Kubeconfig of the multus CNI plugin, written by `multus install` from its service account.
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster:
                server: \(YAMLNode.doubleQuoted(server.description))
                \(trust)
            users:
            - name: multus
              user:
                tokenFile: \(YAMLNode.doubleQuoted(tokenFile))
            contexts:
            - name: multus-context
              context:
                cluster: local
                user: multus\(context)
            current-context: multus-context

            """
    }
}
