import Glibc
import HTTPS
import KubeClient
import Testing
import TestSupport

private func fixture(_ name: String) -> String { testdata("kubeconfigs/\(name)") }

private func pem(_ name: String) throws -> [UInt8] { try readFile(fixture("pki/\(name)")) }

/// The error `body` throws, or nil.
private func kubeError<T>(_ body: () throws(KubeError) -> T) -> KubeError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

@Suite("ServerAddress")
struct ServerAddressTests {
    static let valid: [(url: String, scheme: String, host: String, port: Int, prefix: String, description: String)] = [
        ("https://10.96.0.1", "https", "10.96.0.1", 443, "", "https://10.96.0.1:443"),
        ("https://10.96.0.1:6443", "https", "10.96.0.1", 6443, "", "https://10.96.0.1:6443"),
        ("https://[10.96.0.1]:443", "https", "10.96.0.1", 443, "", "https://10.96.0.1:443"),
        ("https://[10.96.0.1]", "https", "10.96.0.1", 443, "", "https://10.96.0.1:443"),
        ("https://[fd00::1]", "https", "fd00::1", 443, "", "https://[fd00::1]:443"),
        ("https://[fd00::1]:6443", "https", "fd00::1", 6443, "", "https://[fd00::1]:6443"),
        ("https://[::ffff:10.0.0.1]:443", "https", "::ffff:10.0.0.1", 443, "", "https://[::ffff:10.0.0.1]:443"),
        ("https://api.example.com", "https", "api.example.com", 443, "", "https://api.example.com:443"),
        ("https://kubernetes.default.svc:443/", "https", "kubernetes.default.svc", 443, "", "https://kubernetes.default.svc:443"),
        ("http://localhost", "http", "localhost", 80, "", "http://localhost:80"),
        ("http://127.0.0.1:8080", "http", "127.0.0.1", 8080, "", "http://127.0.0.1:8080"),
        ("HTTPS://Api.Example.com:65535", "https", "Api.Example.com", 65535, "", "https://Api.Example.com:65535"),
        ("https://rancher.example.com/k8s/clusters/c-abc12/", "https", "rancher.example.com", 443, "/k8s/clusters/c-abc12",
         "https://rancher.example.com:443/k8s/clusters/c-abc12"),
        ("https://[fd00::1]:6443/k8s", "https", "fd00::1", 6443, "/k8s", "https://[fd00::1]:6443/k8s"),
        ("https://host:", "https", "host", 443, "", "https://host:443"),
        ("https://[fd00::1]:", "https", "fd00::1", 443, "", "https://[fd00::1]:443"),
        ("https://my_host-1.internal", "https", "my_host-1.internal", 443, "", "https://my_host-1.internal:443"),
    ]

    @Test(arguments: valid)
    func parses(url: String, scheme: String, host: String, port: Int, prefix: String, description: String) throws {
        let address = try ServerAddress(parsing: url)
        #expect(address == ServerAddress(scheme: scheme, host: host, port: port, pathPrefix: prefix))
        #expect(address.description == description)
        #expect(try ServerAddress(parsing: address.description) == address)
    }

    @Test func authorityBracketsOnlyIPv6() throws {
        #expect(try ServerAddress(parsing: "https://[fd00::1]").authority == "[fd00::1]:443")
        #expect(try ServerAddress(parsing: "https://[10.0.0.1]:6443").authority == "10.0.0.1:6443")
        #expect(ServerAddress(scheme: "http", host: "h").port == 80)
    }

    static let invalid: [(url: String, words: String)] = [
        ("10.96.0.1:443", "no scheme"),
        ("//10.96.0.1", "no scheme"),
        ("://10.96.0.1", "no scheme"),
        ("", "no scheme"),
        ("ftp://10.96.0.1", "unsupported scheme \"ftp\""),
        ("unix:///run/k8s.sock", "unsupported scheme \"unix\""),
        ("https://", "no host"),
        ("https:///api", "no host"),
        ("https://:443", "no host"),
        ("https://[]:443", "no host"),
        ("https://10.96.0.1:abc", "bad port \"abc\""),
        ("https://10.96.0.1:0", "bad port \"0\""),
        ("https://10.96.0.1:65536", "bad port \"65536\""),
        ("https://10.96.0.1:+443", "bad port \"+443\""),
        ("https://10.96.0.1:0000443", "bad port"),
        ("https://[fd00::1", "unterminated \"[\""),
        ("https://[fd00::1]x", "unexpected \"x\" after \"]\""),
        ("https://fd00::1", "must be written in brackets"),
        ("https://fd00::1]:443", "must be written in brackets"),
        ("https://[api.example.com]", "is not an IP address"),
        ("https://[fe80::1%eth0]", "is not an IP address"),
        ("https://999.1.1.1", "not a valid IPv4 address"),
        ("https://10.96.0", "not a valid IPv4 address"),
        ("https://user:pass@10.96.0.1", "user information"),
        ("https://10.96.0.1/?watch=1", "query or fragment"),
        ("https://10.96.0.1#frag", "query or fragment"),
        ("https://10.96.0.1 ", "spaces"),
        ("https://bad host", "spaces"),
        ("https://bäd.example.com", "non-ASCII"),
        ("https://bad!host", "not a host name or IP address"),
    ]

    @Test(arguments: invalid)
    func rejects(url: String, words: String) {
        let error = kubeError { () throws(KubeError) in try ServerAddress(parsing: url) }
        guard case .kubeconfig(let path, let key, let reason)? = error else {
            Issue.record("\(url) was accepted")
            return
        }
        #expect(path == "")
        #expect(key == "server")
        #expect(reason.hasPrefix("\"\(url)\": "), "\(reason)")
        #expect(reason.contains(words), "\(reason)")
    }
}

@Suite("Kubeconfig")
struct KubeconfigTests {
    @Test func multusGenerated() throws {
        let path = fixture("multus-generated.kubeconfig")
        let config = try Kubeconfig.load(path: path)
        #expect(config == Kubeconfig(
            source: path,
            server: ServerAddress(scheme: "https", host: "10.96.0.1", port: 443),
            certificateAuthority: try pem("ca.crt"),
            credentials: Credentials(token: "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06bXVsdHVzIn0.c2lnbmF0dXJl")))
        #expect(config.server.description == "https://10.96.0.1:443")
        #expect(try config.credentials.bearerToken() == config.credentials.token)
        #expect(try Kubeconfig.load(path: path, context: "multus-context") == config)
    }

    @Test func filesResolveAgainstTheKubeconfigFolder() throws {
        let path = fixture("with-files/kubeconfig")
        let config = try Kubeconfig.load(path: path)
        #expect(config == Kubeconfig(
            source: path,
            server: ServerAddress(scheme: "https", host: "api.cluster.local", port: 6443),
            certificateAuthority: try pem("ca.crt"),
            credentials: Credentials(
                tokenFile: fixture("with-files/token"), clientCertificate: try pem("client.crt"), clientKey: try pem("client.key")),
            namespace: "kube-system"))
        #expect(try config.credentials.bearerToken() == "token-from-file")
    }

    @Test func namedContexts() throws {
        let path = fixture("named-contexts.kubeconfig")
        let staging = Kubeconfig(
            source: path,
            server: ServerAddress(scheme: "https", host: "api.staging.example.com", port: 443, pathPrefix: "/k8s"),
            insecureSkipTLSVerify: true,
            tlsServerName: "kubernetes.default.svc",
            credentials: Credentials(username: "admin", password: "s3cr3t: with colon"))
        #expect(try Kubeconfig.load(path: path) == staging)
        #expect(try Kubeconfig.load(path: path, context: "staging") == staging)
        #expect(try Kubeconfig.load(path: path, context: "staging").server.description == "https://api.staging.example.com:443/k8s")

        // certificate-authority-data wins; the certificate-authority file beside it is never read.
        #expect(try Kubeconfig.load(path: path, context: "prod") == Kubeconfig(
            source: path,
            server: ServerAddress(scheme: "https", host: "fd00::1", port: 6443),
            certificateAuthority: try pem("ca.crt"),
            credentials: Credentials(clientCertificate: try pem("client.crt"), clientKey: try pem("client.key")),
            namespace: "default"))

        // A context without a user is anonymous, as in client-go.
        let dev = try Kubeconfig.load(path: path, context: "dev")
        #expect(dev == Kubeconfig(source: path, server: ServerAddress(scheme: "http", host: "127.0.0.1", port: 8080)))
        #expect(try dev.credentials.bearerToken() == nil)

        let error = kubeError { () throws(KubeError) in try Kubeconfig.load(path: path, context: "qa") }
        #expect(error == .kubeconfig(path: path, key: "contexts", reason: "line 44: no context named \"qa\" (contexts has \"prod\", \"staging\", \"dev\")"))
    }

    @Test func jsonKubeconfig() throws {
        let path = fixture("json.kubeconfig")
        #expect(try Kubeconfig.load(path: path) == Kubeconfig(
            source: path,
            server: ServerAddress(scheme: "https", host: "10.0.0.1", port: 443),
            insecureSkipTLSVerify: true,
            credentials: Credentials(token: "json-token"),
            namespace: "multus"))
    }

    @Test func tokenFileIsReadOnEveryCall() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.directory("secrets")
        let path = try directory.file("kubeconfig", contents: Array("""
            current-context: c
            contexts: [{name: c, context: {cluster: k, user: u}}]
            clusters: [{name: k, cluster: {server: "https://[fd00::10]:6443"}}]
            users: [{name: u, user: {tokenFile: secrets/token}}]
            """.utf8))
        try directory.file("secrets/token", contents: Array("first-token\n".utf8))
        let credentials = try Kubeconfig.load(path: path).credentials
        #expect(credentials.tokenFile == directory.pathOf("secrets/token"))
        #expect(try credentials.bearerToken() == "first-token")
        try directory.file("secrets/token", contents: Array("  rotated-token \r\n".utf8))
        #expect(try credentials.bearerToken() == "rotated-token")
        try directory.file("secrets/token", contents: Array(" \n".utf8))
        #expect(kubeError { () throws(KubeError) in try credentials.bearerToken() }
            == .token(path: directory.pathOf("secrets/token"), reason: "the token file is empty"))
        removeTree(directory.pathOf("secrets/token"))
        #expect(kubeError { () throws(KubeError) in try credentials.bearerToken() }
            == .token(path: directory.pathOf("secrets/token"), reason: "No such file or directory"))
        // A token in the kubeconfig wins over the file, as in client-go.
        #expect(try Credentials(token: "inline", tokenFile: "/nonexistent").bearerToken() == "inline")
    }

    @Test func unreadableTokenFileFailsAtLoad() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("config", contents: Array("""
            current-context: c
            contexts: [{name: c, context: {cluster: k, user: u}}]
            clusters: [{name: k, cluster: {server: "https://10.0.0.1"}}]
            users: [{name: u, user: {tokenFile: /nonexistent/token}}]
            """.utf8))
        #expect(kubeError { () throws(KubeError) in try Kubeconfig.load(path: path) }
            == .token(path: "/nonexistent/token", reason: "No such file or directory (users[u].user.tokenFile in \(path))"))
    }

    @Test func missingKubeconfig() {
        let path = fixture("does-not-exist.kubeconfig")
        #expect(kubeError { () throws(KubeError) in try Kubeconfig.load(path: path) } == .file(path: path, reason: "No such file or directory"))
        #expect(kubeError { () throws(KubeError) in try Kubeconfig.load(path: fixture("pki")) } == .file(path: fixture("pki"), reason: "Is a directory"))
    }

    static let malformed: [(file: String, key: String, reason: String)] = [
        ("no-current-context", "current-context", "line 1: not set, and no context was asked for"),
        ("missing-context", "current-context", "line 16: no context named \"other-context\" (contexts has \"multus-context\")"),
        ("missing-cluster", "contexts[multus-context].context.cluster", "line 14: no cluster named \"remote\" (clusters has \"local\")"),
        ("missing-user", "contexts[multus-context].context.user", "line 15: no user named \"nobody\" (users has \"multus\")"),
        ("no-server", "clusters[local].cluster.server", "line 6: missing; the API server's URL, as https://10.96.0.1:443"),
        ("bad-url", "clusters[local].cluster.server", "line 6: \"https://[10.96.0.1:443\": unterminated \"[\" in the host"),
        ("bad-base64", "clusters[local].cluster.certificate-authority-data", "line 7: not valid base64"),
        ("pem-in-data", "clusters[local].cluster.certificate-authority-data", "line 7: holds PEM text; -data fields take it base64-encoded"),
        ("bad-bool", "clusters[local].cluster.insecure-skip-tls-verify", "line 7: expected true or false, found \"maybe\""),
        ("ca-and-insecure", "clusters[local].cluster.insecure-skip-tls-verify",
         "line 8: cannot be true together with certificate-authority or certificate-authority-data"),
        ("duplicate-cluster", "clusters[1].name", "line 7: duplicate name \"local\""),
        ("exec-user", "users[multus].user.exec",
         "line 11: exec credential plugins are not supported by a CNI plugin; use token, tokenFile or a client certificate"),
        ("auth-provider-user", "users[multus].user.auth-provider",
         "line 11: auth-provider credential plugins are not supported by a CNI plugin; use token, tokenFile or a client certificate"),
        ("cert-without-key", "users[multus].user.client-key", "line 10: missing: client-certificate needs client-key or client-key-data"),
        ("token-and-basic", "users[multus].user", "line 10: both token and username/password are set; only one authentication method is allowed"),
        ("syntax-error", "(document)", "line 8, column 1: found unexpected end of stream (while scanning a quoted scalar at line 6)"),
        ("tabs", "(document)", "line 5, column 1: found character that cannot start any token (while scanning for the next token at line 5)"),
        ("empty", "(document)", "line 1: the file is empty"),
        ("not-a-mapping", "(document)", "line 1: expected a mapping of kubeconfig keys, found a list"),
    ]

    @Test(arguments: malformed)
    func malformedNamesFileKeyAndLine(file: String, key: String, reason: String) {
        let path = fixture("malformed/\(file).kubeconfig")
        #expect(kubeError { () throws(KubeError) in try Kubeconfig.load(path: path) } == .kubeconfig(path: path, key: key, reason: reason))
    }

    @Test func everyMalformedFixtureIsCovered() throws {
        let covered = Set(Self.malformed.map { "\($0.file).kubeconfig" } + ["missing-ca-file.kubeconfig"])
        let directory = fixture("malformed")
        let names = directoryEntries(directory)
        #expect(names.count == Self.malformed.count + 1)
        for name in names {
            #expect(covered.contains(name), "\(name) has no expectation")
        }
    }

    /// One-off variations on a minimal kubeconfig: the user's and the cluster's extra lines.
    static let variations: [(user: String, cluster: String, key: String, reason: String)] = [
        ("as: admin", "", "users[u].user.as", "line 11: impersonation is not supported"),
        ("as-groups: [system:masters]", "", "users[u].user.as-groups", "line 11: impersonation is not supported"),
        ("", "proxy-url: http://proxy:3128", "clusters[k].cluster.proxy-url",
         "line 8: proxies are not supported; the API server must be reachable directly"),
        ("client-key-data: aGVsbG8=", "", "users[u].user.client-certificate",
         "line 11: missing: client-key needs client-certificate or client-certificate-data"),
        ("token: [a, b]", "", "users[u].user.token", "line 11: expected a string, found a list"),
        ("", "server: {url: x}", "clusters[k].cluster.server", "line 7: expected a string, found a mapping"),
        ("", "tls-server-name: [x]", "clusters[k].cluster.tls-server-name", "line 8: expected a string, found a list"),
    ]

    @Test(arguments: variations)
    func refusesWhatItCannotHonour(user: String, cluster: String, key: String, reason: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("config", contents: Array("""
            current-context: c
            contexts:
            - {name: c, context: {cluster: k, user: u}}
            clusters:
            - name: k
              cluster:
                \(cluster.hasPrefix("server") ? cluster : "server: https://10.0.0.1\n    " + cluster)
            users:
            - name: u
              user: {\(user)}
            """.utf8))
        #expect(kubeError { () throws(KubeError) in try Kubeconfig.load(path: path) } == .kubeconfig(path: path, key: key, reason: reason))
    }

    @Test func emptyValuesCountAsUnset() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.file("config", contents: Array("""
            current-context: c
            contexts: [{name: c, context: {cluster: k, user: u, namespace: ""}}]
            clusters: [{name: k, cluster: {server: "http://h", certificate-authority-data: "", tls-server-name: ~, insecure-skip-tls-verify: null}}]
            users: [{name: u, user: {token: "", tokenFile: null, exec: null, as-groups: [], username: "", client-certificate: ""}}]
            """.utf8))
        #expect(try Kubeconfig.load(path: path) == Kubeconfig(source: path, server: ServerAddress(scheme: "http", host: "h")))
    }

    @Test func missingReferencedFileNamesItAndTheKey() {
        let path = fixture("malformed/missing-ca-file.kubeconfig")
        #expect(kubeError { () throws(KubeError) in try Kubeconfig.load(path: path) } == .file(
            path: fixture("malformed/missing-ca.crt"),
            reason: "No such file or directory (clusters[local].cluster.certificate-authority in \(path))"))
    }

    @Test func credentialsDescriptionHidesSecrets() throws {
        let credentials = Credentials(token: "secret-token", clientCertificate: [1], clientKey: [2], username: "u", password: "secret-password")
        #expect(credentials.description == "token, client certificate, username/password")
        let config = try Kubeconfig.load(path: fixture("multus-generated.kubeconfig"))
        #expect(!String(describing: config).contains("eyJ"))
        #expect(Credentials().description == "anonymous")
    }
}

@Suite("In-cluster config")
struct InClusterTests {
    static let notInCluster: [[String: String]] = [
        [:],
        ["KUBERNETES_SERVICE_HOST": "10.96.0.1"],
        ["KUBERNETES_SERVICE_PORT": "443"],
        ["KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "443"],
    ]

    @Test(arguments: notInCluster)
    func nilOutsideACluster(environment: [String: String]) throws {
        #expect(try Kubeconfig.inCluster(environment: environment, serviceAccountDirectory: "/nonexistent") == nil)
    }

    /// A service-account directory with a CA, a token and (optionally) a namespace.
    private func serviceAccount(namespace: String? = "kube-system") throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.file("ca.crt", contents: try readFile(testdata("kubeconfigs/pki/ca.crt")))
        try directory.file("token", contents: Array("sa-token".utf8))
        if let namespace { try directory.file("namespace", contents: Array(namespace.utf8)) }
        return directory
    }

    @Test func readsTheServiceAccount() throws {
        let directory = try serviceAccount()
        defer { directory.remove() }
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let config = try #require(try Kubeconfig.inCluster(environment: environment, serviceAccountDirectory: directory.path))
        #expect(config == Kubeconfig(
            source: "in-cluster service account",
            server: ServerAddress(scheme: "https", host: "10.96.0.1", port: 443),
            certificateAuthority: try readFile(testdata("kubeconfigs/pki/ca.crt")),
            credentials: Credentials(tokenFile: directory.pathOf("token")),
            namespace: "kube-system"))
        #expect(try config.credentials.bearerToken() == "sa-token")
        try directory.file("token", contents: Array("rotated\n".utf8))
        #expect(try config.credentials.bearerToken() == "rotated")
    }

    @Test func bracketsAnIPv6HostAndToleratesNoNamespace() throws {
        let directory = try serviceAccount(namespace: nil)
        defer { directory.remove() }
        let environment = ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"]
        let config = try #require(try Kubeconfig.inCluster(environment: environment, serviceAccountDirectory: directory.path + "/"))
        #expect(config.server.description == "https://[fd00:10:96::1]:6443")
        #expect(config.namespace == nil)
        #expect(config.credentials.tokenFile == directory.pathOf("token"))
    }

    @Test func failures() throws {
        let directory = try serviceAccount()
        defer { directory.remove() }
        func load(_ host: String, _ port: String) -> KubeError? {
            kubeError { () throws(KubeError) in
                try Kubeconfig.inCluster(
                    environment: ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port], serviceAccountDirectory: directory.path)
            }
        }
        #expect(load("10.96.0.1", "https") == .kubeconfig(path: "in-cluster service account", key: "KUBERNETES_SERVICE_PORT", reason: "\"https\" is not a port number"))
        #expect(load("10.96.0.1", "70000") == .kubeconfig(path: "in-cluster service account", key: "KUBERNETES_SERVICE_PORT", reason: "\"70000\" is not a port number"))
        #expect(load("bad/host", "443") == .kubeconfig(path: "in-cluster service account", key: "KUBERNETES_SERVICE_HOST", reason: "\"bad/host\" is not a host name or IP address"))
        removeTree(directory.pathOf("token"))
        #expect(load("10.96.0.1", "443") == .token(path: directory.pathOf("token"), reason: "No such file or directory"))
        removeTree(directory.pathOf("ca.crt"))
        #expect(load("10.96.0.1", "443") == .file(path: directory.pathOf("ca.crt"), reason: "No such file or directory"))
    }
}
