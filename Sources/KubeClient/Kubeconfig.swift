import CNI
import HTTPS
import System
import YAML

extension ServerAddress {
    /// Parses `scheme://host[:port][/path]`. The host is an IPv4 address, a name, or an IP address in
    /// brackets: `[fd00::1]`, and also `[10.96.0.1]`, which Multus writes into the kubeconfig it
    /// generates (Go's URL parser accepts it too).
    ///
    /// Unlike client-go, a URL without a scheme is refused rather than guessed at, and so are user
    /// information, queries and fragments, which have no meaning for an API server address.
    ///
    /// - Throws: `KubeError.kubeconfig(path: "", key: "server", reason:)`; `Kubeconfig` fills in
    ///   the file and the key's full name.
    public init(parsing url: String) throws(KubeError) {
        func invalid(_ reason: String) -> KubeError { .kubeconfig(path: "", key: "server", reason: "\"\(url)\": \(reason)") }

        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://"), colon > url.startIndex else {
            throw invalid("no scheme; expected https://HOST[:PORT]")
        }
        let scheme = url[..<colon].lowercased()
        guard scheme == "https" || scheme == "http" else { throw invalid("unsupported scheme \"\(url[..<colon])\"; expected https or http") }
        let rest = url[url.index(colon, offsetBy: 3)...]
        guard rest.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { throw invalid("spaces, control and non-ASCII characters are not allowed") }
        guard !rest.contains("?"), !rest.contains("#") else { throw invalid("a query or fragment is not supported") }

        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        var path = rest[slash...]
        while path.hasSuffix("/") { path = path.dropLast() }
        guard !authority.contains("@") else { throw invalid("user information in the URL is not supported") }

        let host: Substring
        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated \"[\" in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw invalid("unexpected \"\(after)\" after \"]\"") }
            portText = after.isEmpty ? nil : after.dropFirst()
            guard !host.isEmpty else { throw invalid("no host") }
            guard IPAddress(String(host)) != nil else { throw invalid("\"[\(host)]\" is not an IP address") }
        } else {
            guard authority.count(where: { $0 == ":" }) <= 1 else {
                throw invalid("an IPv6 address must be written in brackets, as https://[fd00::1]:6443")
            }
            if let portColon = authority.firstIndex(of: ":") {
                host = authority[..<portColon]
                portText = authority[authority.index(after: portColon)...]
            } else {
                host = Substring(authority)
                portText = nil
            }
            guard !host.isEmpty else { throw invalid("no host") }
            if let reason = Self.hostNameProblem(host) { throw invalid(reason) }
        }

        var port: Int? = nil
        if let portText, !portText.isEmpty {  // "host:" means the default port, as in Go
            guard portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText), (1...65535).contains(number) else {
                throw invalid("bad port \"\(portText)\"; expected 1-65535")
            }
            port = number
        }
        self.init(scheme: scheme, host: String(host), port: port, pathPrefix: String(path))
    }

    /// Why `host` cannot be a DNS name or an IPv4 address; nil when it can.
    private static func hostNameProblem(_ host: Substring) -> String? {
        let allowed = host.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_": true
            default: false
            }
        }
        guard allowed else { return "\"\(host)\" is not a host name or IP address" }
        if host.allSatisfy({ $0 == "." || $0.isNumber }), IPAddress(String(host))?.family != .v4 {
            return "\"\(host)\" is not a valid IPv4 address"
        }
        return nil
    }
}

/// Who we are to the API server: a kubeconfig `users[].user` or the pod's service account.
public struct Credentials: Sendable, Hashable, CustomStringConvertible {
    public var token: String?
    /// Absolute path of a file holding the token.
    public var tokenFile: String?
    /// PEM bytes.
    public var clientCertificate: [UInt8]?
    /// PEM bytes.
    public var clientKey: [UInt8]?
    public var username: String?
    public var password: String?

    public init(
        token: String? = nil, tokenFile: String? = nil, clientCertificate: [UInt8]? = nil, clientKey: [UInt8]? = nil,
        username: String? = nil, password: String? = nil
    ) {
        self.token = token
        self.tokenFile = tokenFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.username = username
        self.password = password
    }

    /// The bearer token to send: `token`, else `tokenFile` re-read on every call (projected
    /// service-account tokens rotate), trimmed of whitespace; nil if neither.
    ///
    /// Mirrors client-go's file token source, which also refuses an empty file.
    ///
    /// - Throws: `KubeError.token` when the token file cannot be read or is empty.
    public func bearerToken() throws(KubeError) -> String? {
        if let token, !token.isEmpty { return token }
        guard let tokenFile else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(tokenFile, limit: 1 << 20) } catch {
            guard case .file(let path, let reason) = error else { throw error }
            throw .token(path: path, reason: reason)
        }
        let trimmed = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        guard !trimmed.isEmpty else { throw .token(path: tokenFile, reason: "the token file is empty") }
        return trimmed
    }

    /// Which kinds of credentials are set, never their values.
    public var description: String {
        var kinds: [String] = []
        if token != nil { kinds.append("token") }
        if let tokenFile { kinds.append("tokenFile \(tokenFile)") }
        if clientCertificate != nil { kinds.append("client certificate") }
        if username != nil || password != nil { kinds.append("username/password") }
        return kinds.isEmpty ? "anonymous" : kinds.joined(separator: ", ")
    }
}

/// What we need from a kubeconfig to talk to the API server: the current (or a named) context's
/// cluster and user, with every file it names already read.
public struct Kubeconfig: Sendable, Hashable, CustomStringConvertible {
    /// The file path, or "in-cluster service account".
    public var source: String
    public var server: ServerAddress
    /// PEM bytes from `certificate-authority` (a file) or `certificate-authority-data`.
    public var certificateAuthority: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var tlsServerName: String?
    public var credentials: Credentials
    /// The context's namespace; informational (never sent), so kept as the file has it.
    public var namespace: String?

    public static let inClusterSource = "in-cluster service account"

    public init(
        source: String, server: ServerAddress, certificateAuthority: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil, credentials: Credentials = Credentials(), namespace: String? = nil
    ) {
        self.source = source
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.credentials = credentials
        self.namespace = namespace
    }

    public var description: String { "\(source) (server \(server), credentials: \(credentials))" }

    /// Reads the kubeconfig at `path` as client-go does, for `context` or else `current-context`.
    ///
    /// Relative file paths in it resolve against its folder (client-go's ResolveLocalPaths), and
    /// every file it names is read now; the token file is re-read by `Credentials.bearerToken()`.
    /// `-data` fields win over their file counterparts. `exec`, `auth-provider`, impersonation and
    /// `proxy-url` are refused rather than ignored: a static plugin cannot honour them.
    ///
    /// - Throws: `KubeError.file` when the kubeconfig or a file it names cannot be read;
    ///   `KubeError.kubeconfig(path:key:reason:)` naming the offending key (as
    ///   `clusters[name].cluster.server`), its line, and for a missing name the names there are.
    public static func load(path: String, context: String? = nil) throws(KubeError) -> Kubeconfig {
        let bytes = try FileBytes.read(path, limit: YAMLNode.Limits.default.maxBytes)
        let root: YAMLNode
        do { root = try YAMLNode.parse(bytes) } catch { throw .kubeconfig(path: path, key: "(document)", reason: error.reason) }
        return try KubeconfigReader(path: path, root: root).read(context: context)
    }

    /// The pod's own service account, as client-go's `rest.InClusterConfig`: nil unless both
    /// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set.
    ///
    /// The server is `https://HOST:PORT`, the CA `<dir>/ca.crt` (required), the token
    /// `<dir>/token` (read now to check it, and again on every `bearerToken()`), and the
    /// namespace `<dir>/namespace` when present.
    ///
    /// - Throws: `KubeError.kubeconfig(path: "in-cluster service account", key: <variable>, ...)`
    ///   for a bad host or port; `KubeError.file` for a missing CA or token.
    public static func inCluster(
        environment: [String: String], serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeError) -> Kubeconfig? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else { return nil }
        let source = inClusterSource
        guard port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), (1...65535).contains(number) else {
            throw .kubeconfig(path: source, key: "KUBERNETES_SERVICE_PORT", reason: "\"\(port)\" is not a port number")
        }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let server = try? ServerAddress(parsing: "https://\(bracketed):\(number)"), server.host == host, server.pathPrefix.isEmpty else {
            throw .kubeconfig(path: source, key: "KUBERNETES_SERVICE_HOST", reason: "\"\(host)\" is not a host name or IP address")
        }
        let directory = serviceAccountDirectory.hasSuffix("/") ? String(serviceAccountDirectory.dropLast()) : serviceAccountDirectory
        let certificateAuthority = try FileBytes.read(directory + "/ca.crt", limit: FileBytes.referencedLimit)
        let credentials = Credentials(tokenFile: directory + "/token")
        _ = try credentials.bearerToken()
        var namespace: String? = nil
        if Files.exists(directory + "/namespace") {
            let text = String(decoding: try FileBytes.read(directory + "/namespace", limit: 4096), as: UTF8.self).trimmingWhitespace
            namespace = text.isEmpty ? nil : text
        }
        return Kubeconfig(
            source: source, server: server, certificateAuthority: certificateAuthority, credentials: credentials, namespace: namespace)
    }
}

// MARK: - Reading the document

/// Walks a parsed kubeconfig, turning each problem into an error that names the file, the key
/// (`contexts[name].context.cluster`) and the line.
private struct KubeconfigReader {
    let path: String
    let root: YAMLNode
    /// The kubeconfig's folder, absolute: where relative paths in it point.
    let folder: String

    init(path: String, root: YAMLNode) {
        self.path = path
        self.root = root
        let absolute = path.hasPrefix("/") ? path : FilePaths.currentDirectory() + "/" + path
        folder = FilePaths.clean(FilePaths.parent(of: absolute))
    }

    func read(context requested: String?) throws(KubeError) -> Kubeconfig {
        guard root.entries != nil else {
            throw fail("(document)", root, root.isNull ? "the file is empty" : "expected a mapping of kubeconfig keys, found \(root.kind)")
        }
        let contextName: String
        let contextReference: (key: String, node: YAMLNode?)
        if let requested {
            contextName = requested
            contextReference = ("contexts", root["contexts"] ?? root)
        } else {
            guard let current = try string(root, "current-context", key: "current-context") else {
                throw fail("current-context", root, "not set, and no context was asked for")
            }
            contextName = current
            contextReference = ("current-context", root["current-context"])
        }
        let (context, contextKey) = try entry(list: "contexts", body: "context", name: contextName, reference: contextReference)

        guard let clusterName = try string(context, "cluster", key: "\(contextKey).cluster") else {
            throw fail("\(contextKey).cluster", context, "missing; the context must name a cluster")
        }
        let (cluster, clusterKey) = try entry(
            list: "clusters", body: "cluster", name: clusterName, reference: ("\(contextKey).cluster", context["cluster"]))

        // A context without a user is anonymous, as in client-go; a user that is named must exist.
        var credentials = Credentials()
        if let userName = try string(context, "user", key: "\(contextKey).user") {
            let (user, userKey) = try entry(list: "users", body: "user", name: userName, reference: ("\(contextKey).user", context["user"]))
            credentials = try readCredentials(user, key: userKey)
        }

        return try readCluster(cluster, key: clusterKey, credentials: credentials,
                               namespace: try string(context, "namespace", key: "\(contextKey).namespace"))
    }

    func readCluster(_ cluster: YAMLNode, key: String, credentials: Credentials, namespace: String?) throws(KubeError) -> Kubeconfig {
        guard let serverText = try string(cluster, "server", key: "\(key).server") else {
            throw fail("\(key).server", cluster, "missing; the API server's URL, as https://10.96.0.1:443")
        }
        let server: ServerAddress
        do {
            server = try ServerAddress(parsing: serverText)
        } catch {
            guard case .kubeconfig(_, _, let reason) = error else { throw error }
            throw fail("\(key).server", cluster["server"], reason)
        }
        if try string(cluster, "proxy-url", key: "\(key).proxy-url") != nil {
            throw fail("\(key).proxy-url", cluster["proxy-url"], "proxies are not supported; the API server must be reachable directly")
        }

        // certificate-authority-data wins over certificate-authority, as in client-go's transport.
        var certificateAuthority = try data(cluster, "certificate-authority-data", key: "\(key).certificate-authority-data")
        if certificateAuthority == nil, let file = try string(cluster, "certificate-authority", key: "\(key).certificate-authority") {
            certificateAuthority = try referencedFile(file, key: "\(key).certificate-authority")
        }
        let insecure = try bool(cluster, "insecure-skip-tls-verify", key: "\(key).insecure-skip-tls-verify") ?? false
        if insecure && certificateAuthority != nil {
            // client-go's transport refuses this pair ("specifying a root certificates file with the insecure flag").
            throw fail("\(key).insecure-skip-tls-verify", cluster["insecure-skip-tls-verify"],
                       "cannot be true together with certificate-authority or certificate-authority-data")
        }
        return Kubeconfig(
            source: path, server: server, certificateAuthority: certificateAuthority, insecureSkipTLSVerify: insecure,
            tlsServerName: try string(cluster, "tls-server-name", key: "\(key).tls-server-name"),
            credentials: credentials, namespace: namespace)
    }

    func readCredentials(_ user: YAMLNode, key: String) throws(KubeError) -> Credentials {
        for plugin in ["exec", "auth-provider"] where isSet(user[plugin]) {
            throw fail("\(key).\(plugin)", user[plugin],
                       "\(plugin) credential plugins are not supported by a CNI plugin; use token, tokenFile or a client certificate")
        }
        for impersonation in ["as", "as-uid", "as-groups", "as-user-extra"] where isSet(user[impersonation]) {
            throw fail("\(key).\(impersonation)", user[impersonation], "impersonation is not supported")
        }
        var credentials = Credentials()
        credentials.token = try string(user, "token", key: "\(key).token")
        credentials.tokenFile = try string(user, "tokenFile", key: "\(key).tokenFile").map(resolve)
        credentials.clientCertificate = try data(user, "client-certificate-data", key: "\(key).client-certificate-data")
        if credentials.clientCertificate == nil, let file = try string(user, "client-certificate", key: "\(key).client-certificate") {
            credentials.clientCertificate = try referencedFile(file, key: "\(key).client-certificate")
        }
        credentials.clientKey = try data(user, "client-key-data", key: "\(key).client-key-data")
        if credentials.clientKey == nil, let file = try string(user, "client-key", key: "\(key).client-key") {
            credentials.clientKey = try referencedFile(file, key: "\(key).client-key")
        }
        credentials.username = try string(user, "username", key: "\(key).username")
        credentials.password = try string(user, "password", key: "\(key).password")

        switch (credentials.clientCertificate != nil, credentials.clientKey != nil) {
        case (true, false): throw fail("\(key).client-key", user, "missing: client-certificate needs client-key or client-key-data")
        case (false, true): throw fail("\(key).client-certificate", user, "missing: client-key needs client-certificate or client-certificate-data")
        default: break
        }
        if credentials.token != nil && (credentials.username != nil || credentials.password != nil) {
            // client-go's validateAuthInfo: "more than one authentication method found".
            throw fail(key, user, "both token and username/password are set; only one authentication method is allowed")
        }
        if credentials.token == nil, credentials.tokenFile != nil {
            // client-go reads the token file when it loads the kubeconfig; so do we, to fail early.
            do {
                _ = try credentials.bearerToken()
            } catch {
                guard case .token(let file, let reason) = error else { throw error }
                throw .token(path: file, reason: "\(reason) (\(key).tokenFile in \(path))")
            }
        }
        return credentials
    }

    // MARK: Named lists

    /// The body (`context`, `cluster`, `user`) of the entry called `name` in the list `list`,
    /// and its key for messages. A name that is not there is reported at `reference`.
    func entry(list: String, body: String, name: String, reference: (key: String, node: YAMLNode?)) throws(KubeError) -> (YAMLNode, String) {
        let items: [YAMLNode]
        switch root[list] {
        case nil, .null: items = []
        case .sequence(let elements, _): items = elements
        case let other?: throw fail(list, other, "expected a list, found \(other.kind)")
        }
        var names: [String] = []
        var match: YAMLNode? = nil
        for (index, item) in items.enumerated() {
            guard item.entries != nil else { throw fail("\(list)[\(index)]", item, "expected a mapping with name and \(body), found \(item.kind)") }
            let itemName = try string(item, "name", key: "\(list)[\(index)].name") ?? ""
            // client-go refuses the whole file when a name repeats.
            guard !names.contains(itemName) else { throw fail("\(list)[\(index)].name", item["name"] ?? item, "duplicate name \"\(itemName)\"") }
            names.append(itemName)
            if itemName == name { match = item }
        }
        guard let match else {
            let known = names.isEmpty ? "\(list) is empty" : "\(list) has " + names.map { "\"\($0)\"" }.joined(separator: ", ")
            throw fail(reference.key, reference.node, "no \(body) named \"\(name)\" (\(known))")
        }
        let key = "\(list)[\(name)].\(body)"
        guard let content = match[body], content.entries != nil else {
            let found = match[body]
            throw fail(key, found ?? match, found.map { $0.isNull ? "missing" : "expected a mapping, found \($0.kind)" } ?? "missing")
        }
        return (content, key)
    }

    // MARK: Fields

    /// The text at `field`: nil when absent, null or empty (client-go treats "" as unset).
    func string(_ node: YAMLNode, _ field: String, key: String) throws(KubeError) -> String? {
        guard let value = node[field], !value.isNull else { return nil }
        guard let text = value.scalar else { throw fail(key, value, "expected a string, found \(value.kind)") }
        return text.isEmpty ? nil : text
    }

    func bool(_ node: YAMLNode, _ field: String, key: String) throws(KubeError) -> Bool? {
        guard let value = node[field], !value.isNull else { return nil }
        guard let result = value.bool else {
            throw fail(key, value, "expected true or false, found \(value.scalar.map { "\"\($0)\"" } ?? value.kind)")
        }
        return result
    }

    /// The bytes a base64 `-data` field holds; nil when unset.
    func data(_ node: YAMLNode, _ field: String, key: String) throws(KubeError) -> [UInt8]? {
        guard let text = try string(node, field, key: key) else { return nil }
        guard let bytes = Base64.decode(text) else {
            let hint = text.contains("-----BEGIN") ? "holds PEM text; -data fields take it base64-encoded" : "not valid base64"
            throw fail(key, node[field], hint)
        }
        return bytes.isEmpty ? nil : bytes
    }

    /// A non-empty value: anything but absent, null, "", [] and {}.
    func isSet(_ node: YAMLNode?) -> Bool {
        switch node {
        case nil, .null?: false
        case .scalar(let text, _)?: !text.isEmpty
        case .sequence(let items, _)?: !items.isEmpty
        case .mapping(let entries, _)?: !entries.isEmpty
        }
    }

    // MARK: Files

    func resolve(_ file: String) -> String {
        file.hasPrefix("/") ? file : FilePaths.clean(folder + "/" + file)
    }

    /// The content of a file the kubeconfig names, relative paths resolved against its folder.
    func referencedFile(_ file: String, key: String) throws(KubeError) -> [UInt8] {
        let resolved = resolve(file)
        do {
            return try FileBytes.read(resolved, limit: FileBytes.referencedLimit)
        } catch {
            guard case .file(let failed, let reason) = error else { throw error }
            throw .file(path: failed, reason: "\(reason) (\(key) in \(path))")
        }
    }

    func fail(_ key: String, _ node: YAMLNode?, _ reason: String) -> KubeError {
        .kubeconfig(path: path, key: key, reason: node.map { "\($0.mark): \(reason)" } ?? reason)
    }
}

// MARK: - Files and paths

/// Reading whole small files, each failure a `KubeError.file`.
private enum FileBytes {
    /// CA bundles, certificates and keys; a system CA bundle is a few hundred KiB.
    static let referencedLimit = 4 << 20

    static func read(_ path: String, limit: Int) throws(KubeError) -> [UInt8] {
        do { return try Files.read(path, limit: limit) } catch {
            throw .file(path: path, reason: error.errno == .fileTooLarge ? "larger than \(limit) bytes" : error.errno.description)
        }
    }
}

/// Path arithmetic client-go does with `filepath`.
private enum FilePaths {
    static func currentDirectory() -> String { Files.workingDirectory ?? "." }

    /// Everything before the last "/"; "/" for a file in the root; "." for a bare name.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `filepath.Clean` for what we build: no "." or empty components, ".." folded.
    static func clean(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(part) }
            default: parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

