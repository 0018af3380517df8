import CNI
import KubeClient
import Testing
import TestSupport

/// Which names a server certificate is accepted for, as client-go decides (Go's crypto/x509
/// VerifyHostname): DNS SANs for a hostname, IP SANs for an address, never the subject's CN, and
/// a wildcard only as a whole leftmost label matching one label. Real certificates, made by
/// openssl for the test API server, and a real handshake each time.
@Suite("TLS hostname verification")
struct TLSVerificationTests {
    struct Certificate: Sendable, CustomTestStringConvertible {
        var subject: String
        var sans: String?
        /// Each name the client verifies against this certificate, and whether it is accepted.
        var names: [(String, Bool)]
        var testDescription: String { "\(subject) SANs \(sans ?? "none")" }
    }

    static let certificates: [Certificate] = [
        // OpenSSL falls back to the CN when there is no DNS SAN; Go does not (since 1.15).
        Certificate(subject: "/CN=kubernetes.test", sans: nil, names: [("kubernetes.test", false)]),
        Certificate(subject: "/CN=127.0.0.1", sans: nil, names: [("127.0.0.1", false)]),
        Certificate(subject: "/CN=elsewhere.test", sans: "DNS:kubernetes.test", names: [("kubernetes.test", true), ("elsewhere.test", false)]),
        // OpenSSL accepts a partial wildcard by default; Go never does.
        Certificate(subject: "/CN=w", sans: "DNS:f*.example.test", names: [("foo.example.test", false), ("f.example.test", false)]),
        Certificate(subject: "/CN=w", sans: "DNS:*.example.test",
                    names: [("a.example.test", true), ("A.Example.Test", true), ("a.b.example.test", false), ("example.test", false)]),
        // An address is checked against IP SANs only, a name against DNS SANs only.
        Certificate(subject: "/CN=ip", sans: "DNS:127.0.0.1", names: [("127.0.0.1", false)]),
        Certificate(subject: "/CN=ip", sans: "IP:127.0.0.1", names: [("127.0.0.1", true), ("localhost", false)]),
    ]

    @Test(arguments: certificates)
    func namesAreCheckedAsClientGoChecksThem(_ certificate: Certificate) throws {
        let server = try TestAPIServer(serverCertificate: (certificate.subject, certificate.sans))
        let directory = try TemporaryDirectory(prefix: "tls-names")
        defer { directory.remove() }
        try server.addToken("t", user: "tester")
        let path = try server.kubeconfig(in: directory.path, token: "t")
        for (name, accepted) in certificate.names {
            var kubeconfig = try Kubeconfig.load(path: path)
            kubeconfig.tlsServerName = name
            let api = LiveKubeAPI(kubeconfig: kubeconfig, callTimeout: .seconds(5), budget: .seconds(10), attempts: 1)
            do {
                _ = try api.pod(namespace: .make("default"), name: .make("web-0"), consistency: .quorum)
                #expect(accepted, "\(name) was accepted")
            } catch {
                guard case .tls(_, let reason) = error else {
                    Issue.record("\(name): not a TLS error: \(error)")
                    continue
                }
                #expect(!accepted, "\(name) was refused: \(reason)")
                #expect(reason.contains("refused"), "\(name): \(reason)")
            }
        }
    }
}
