// A local Kubernetes API server for integration tests: Tests/apiserver/apiserver.py run as a child
// process, driven over its stdin/stdout control channel. It serves the real REST protocol over
// HTTPS with its own CA, so the plugin's kube client is tested end to end without a cluster.
import CNI
import CNIExec
import CShims
import Glibc
import KubeClient
import Synchronization
import System
import YAML

/// One REST request as the test API server's log records it.
public struct LoggedRequest: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    /// The path without the query string.
    public var path: String
    /// The query string, as sent (percent-encoded); empty when there was none.
    public var query: String = ""
    /// The status answered; 0 when the connection was reset without an answer (`resetNext`).
    public var status: Int
    /// The authenticated user; nil when the request carried no valid credentials.
    public var user: String?
    /// The request's Content-Type header, if any.
    public var contentType: String?
    /// Whether the request came over a TLS session the client resumed (no certificate sent).
    public var tlsResumed: Bool
    /// The client's TCP port: requests with the same port came over one connection.
    public var clientPort: Int
    /// What a successful POST, PUT or PATCH stored (nil otherwise).
    public var body: JSONValue?
    /// Where a GET of a resource was read from (nil for anything else): an etcd quorum read or
    /// the watch cache.
    public var servedFrom: ReadSource?

    public init(method: String, path: String, status: Int, user: String? = nil, contentType: String? = nil, tlsResumed: Bool = false,
                clientPort: Int = 0, body: JSONValue? = nil) {
        self.method = method
        self.path = path
        self.status = status
        self.user = user
        self.contentType = contentType
        self.tlsResumed = tlsResumed
        self.clientPort = clientPort
        self.body = body
    }

    public var description: String { "\(method) \(path) -> \(status) (\(user ?? "anonymous"))" }
}

/// Where the test API server read an answer from, as kube-apiserver chooses by the request's
/// `resourceVersion`: `storage` is a quorum read of etcd, `cache` the watch cache.
public enum ReadSource: String, Sendable, Hashable {
    case cache
    case storage
}

/// What RBAC grants a test user (Tests/apiserver/apiserver.py's ROLES).
public enum TestRole: Sendable, Hashable {
    /// Multus v4.3.1's own ClusterRole (deployments/multus-daemonset.yml): get/list/update/watch
    /// on pods and pods/status, `*` on k8s.cni.cncf.io, get/list on resource.k8s.io's
    /// resourceclaims, resourceclaims/status and resourceslices, create/patch/update on events.
    /// No `patch` of pods. What every integration test runs under unless it tests something else.
    case multus
    /// Multus v4.3.0's ClusterRole and before: the same without resource.k8s.io.
    case multus430
    /// deploy/clusterrole.yaml: exactly what swift-multus needs.
    case swiftMultus
    case clusterAdmin
    case none
    /// RBAC rules given inline: `[{"apiGroups": [...], "resources": [...], "verbs": [...]}]`.
    case rules(JSONValue)

    var json: JSONValue {
        switch self {
        case .multus: "multus"
        case .multus430: "multus-4.3.0"
        case .swiftMultus: "swift-multus"
        case .clusterAdmin: "cluster-admin"
        case .none: "none"
        case .rules(let rules): rules
        }
    }
}

extension TestRole {
    /// The rules given inline; empty for a named role.
    public var inlineRules: [JSONValue] { if case .rules(let rules) = self { rules.arrayValue ?? [] } else { [] } }

    /// The rules of the ClusterRoles `names` of deploy/rbac.yml, together: what a cluster
    /// installed from our manifests grants, read from the file itself.
    public static func deployed(_ names: String...) throws -> TestRole {
        let path = packageRoot() + "/deploy/rbac.yml"
        guard let bytes = readWholeFile(path) else { throw TestAPIServerError("cannot read \(path)") }
        var rules: [JSONValue] = []
        for name in names {
            let documents = try String(decoding: bytes, as: UTF8.self).split(separator: "\n---\n").map { try YAMLNode.parse(String($0)) }
            guard let role = documents.first(where: { $0.string("kind") == "ClusterRole" && $0["metadata"]?.string("name") == name }) else {
                throw TestAPIServerError("deploy/rbac.yml has no ClusterRole \(name)")
            }
            for rule in role["rules"]?.elements ?? [] {
                var json = JSONObject()
                for key in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    if let values = rule[key]?.elements { json[key] = .array(values.compactMap(\.scalar).map(JSONValue.string)) }
                }
                rules.append(.object(json))
            }
        }
        return .rules(.array(rules))
    }
}

/// The test API server could not be started or did not answer a control command.
public struct TestAPIServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "test API server: \(message)" }
}

/// A running `Tests/apiserver/apiserver.py`: an HTTPS Kubernetes API server on 127.0.0.1 with
/// pods and network-attachment-definitions, bearer-token and client-certificate users, a request
/// log, and injectable faults (latency, failing statuses, resets, chunked bodies).
///
/// The server exits as soon as its stdin closes, so it never outlives this object or a crashed
/// test process. Control commands are serialized; REST clients may run concurrently.
public final class TestAPIServer: @unchecked Sendable {
    /// The HTTPS port on 127.0.0.1.
    public let port: Int
    /// The CA that signed the server and client certificates (PEM).
    public let caPath: String
    /// A client certificate for CN=system:multus-client, O=swift-multus (PEM), and its key.
    public let clientCertPath: String
    public let clientKeyPath: String
    /// The server's private directory (certificates, `apiserver.log`); removed by `stop()`.
    public let directory: String
    /// The server process.
    public let processID: pid_t

    /// `https://127.0.0.1:<port>`.
    public var server: String { "https://127.0.0.1:\(port)" }

    private let channel: Mutex<ControlChannel>

    /// Where `apiserver.py` and its helper `request.py` live.
    public static let scriptDirectory = packageRoot() + "/Tests/apiserver"

    /// The python3 interpreter the server runs with (nil if there is none).
    public static let python: String? = findPython()

    /// Starts a server holding the objects of `objects` (every `*.json` file there, each one
    /// object or a `List`), with each key of `substitutions` replaced by its value in those files
    /// first (for instance `["@PARENT@": "eth1"]`, see testdata/k8s/README.md).
    ///
    /// `rsaKeys` makes the CA, server and client certificates RSA 2048 instead of EC P-256;
    /// `tls12Only` makes the server refuse TLS 1.3. `serverCertificate` replaces the server
    /// certificate's subject and subjectAltName (nil: none), as openssl writes them.
    ///
    /// Throws `TestAPIServerError` if python3 is missing, or the server does not report its port
    /// within 20 seconds (the message then includes the server's stderr).
    public init(objects: String? = testdata("k8s"), substitutions: [String: String] = [:], rsaKeys: Bool = false,
                tls12Only: Bool = false, serverCertificate: (subject: String, subjectAltName: String?)? = nil) throws(TestAPIServerError) {
        signal(SIGPIPE, SIG_IGN)  // a dead server must fail a write, not kill the test process
        guard let python = Self.python else { throw TestAPIServerError("python3 not found") }
        let directory: String
        do { directory = try TemporaryDirectory(prefix: "swift-multus-apiserver").path } catch {
            throw TestAPIServerError("\(error)")
        }
        let logPath = directory + "/apiserver.log"
        var arguments = [python, Self.scriptDirectory + "/apiserver.py", "--dir", directory + "/pki"]
        if let objects { arguments += ["--objects", objects] }
        for (key, value) in substitutions.sorted(by: { $0.key < $1.key }) { arguments += ["--set", "\(key)=\(value)"] }
        if rsaKeys { arguments += ["--key-type", "rsa"] }
        if tls12Only { arguments += ["--tls12-only"] }
        if let serverCertificate {
            arguments += ["--server-subject", serverCertificate.subject, "--server-sans", serverCertificate.subjectAltName ?? ""]
        }

        var control: ControlChannel
        do {
            control = try ControlChannel.spawn(arguments, environment: Self.childEnvironment(python), logPath: logPath)
        } catch {
            removeTree(directory)
            throw error
        }
        let startup: JSONObject
        do throws(TestAPIServerError) {
            let line = try control.readLine(timeout: .seconds(20))
            guard let object = (try? JSONValue.parse(line))?.objectValue else {
                throw TestAPIServerError("unexpected startup line \"\(String(decoding: line, as: UTF8.self))\"")
            }
            startup = object
        } catch {
            control.terminate()
            let log = readWholeFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
            removeTree(directory)
            throw TestAPIServerError("did not start: \(error.message); its stderr:\n\(log)")
        }
        guard let port = startup["port"]?.intValue, let ca = startup["ca"]?.stringValue,
              let cert = startup["clientCert"]?.stringValue, let key = startup["clientKey"]?.stringValue
        else {
            control.terminate()
            removeTree(directory)
            throw TestAPIServerError("startup line lacks port/ca/clientCert/clientKey: \(JSONValue.object(startup).serialized())")
        }
        self.port = port
        self.caPath = ca
        self.clientCertPath = cert
        self.clientKeyPath = key
        self.directory = directory
        self.processID = control.pid
        self.channel = Mutex(control)
    }

    deinit { stop() }

    /// Closes the server's stdin (it exits at once), reaps it (SIGKILL after 5 s) and removes
    /// its directory. Idempotent.
    public func stop() {
        let wasRunning = channel.withLock { (control: inout ControlChannel) -> Bool in
            guard control.pid > 0 else { return false }
            control.terminate()
            return true
        }
        if wasRunning { removeTree(directory) }
    }

    // MARK: control commands

    /// Sends one control command and returns its `result`. Throws if the server answers with an
    /// error, has exited, or does not answer within 20 seconds.
    @discardableResult
    public func command(_ command: JSONValue) throws(TestAPIServerError) -> JSONValue {
        let reply = try channel.withLock { (control) throws(TestAPIServerError) -> [UInt8] in
            try control.writeLine(command.serializedBytes())
            return try control.readLine(timeout: .seconds(20))
        }
        guard let answer = (try? JSONValue.parse(reply))?.objectValue else {
            throw TestAPIServerError("unreadable reply \"\(String(decoding: reply, as: UTF8.self))\"")
        }
        guard answer["ok"]?.boolValue == true else {
            throw TestAPIServerError("\(command.serialized()) failed: \(answer["error"]?.stringValue ?? "unknown error")")
        }
        return answer["result"] ?? .null
    }

    /// Creates or replaces a Pod, NetworkAttachmentDefinition, Event, ResourceClaim or
    /// ResourceSlice (by kind, namespace, name; ResourceSlices have no namespace). The
    /// server assigns `metadata.uid` if missing and a new `metadata.resourceVersion`; the object
    /// as stored is returned.
    @discardableResult
    public func put(_ object: JSONValue) throws(TestAPIServerError) -> JSONValue {
        try command(["op": "put", "object": object])
    }

    /// Puts every object of a fixture file (one object, or a `List`'s items), each key of
    /// `substitutions` replaced by its value in the text first; returns them as stored.
    @discardableResult
    public func put(file path: String, substitutions: [String: String] = [:]) throws(TestAPIServerError) -> [JSONValue] {
        guard let bytes = readWholeFile(path) else { throw TestAPIServerError("cannot read \(path)") }
        let text = substitutions.reduce(String(decoding: bytes, as: UTF8.self)) { $0.replacing($1.key, with: $1.value) }
        guard let document = try? JSONValue.parse(Array(text.utf8)), let object = document.objectValue else {
            throw TestAPIServerError("\(path) is not a JSON object")
        }
        let items = object["kind"] == "List" ? object["items"]?.arrayValue ?? [] : [document]
        var stored: [JSONValue] = []
        for item in items { stored.append(try put(item)) }
        return stored
    }

    /// Makes the server answer every path of these group versions (`resource.k8s.io/v1`) 404, as
    /// a server without them does; `[]` serves them all again.
    public func unserve(_ groupVersions: [String]) throws(TestAPIServerError) {
        try command(["op": "unserve", "groupVersions": .array(groupVersions.map(JSONValue.string))])
    }

    /// The stored object, or nil.
    public func object(kind: String, namespace: String, name: String) throws(TestAPIServerError) -> JSONValue? {
        let result = try command(["op": "get", "kind": .string(kind), "namespace": .string(namespace), "name": .string(name)])
        return result == .null ? nil : result
    }

    /// Deletes an object; returns whether it existed.
    @discardableResult
    public func delete(kind: String, namespace: String, name: String) throws(TestAPIServerError) -> Bool {
        try command(["op": "delete", "kind": .string(kind), "namespace": .string(namespace), "name": .string(name)]).boolValue ?? false
    }

    /// Every stored object of `kind` in `namespace` (nil: all namespaces), by namespace and name.
    public func list(kind: String, namespace: String? = nil) throws(TestAPIServerError) -> [JSONValue] {
        var command: JSONObject = ["op": "list", "kind": .string(kind)]
        if let namespace { command["namespace"] = .string(namespace) }
        return try self.command(.object(command)).arrayValue ?? []
    }

    /// The service account Multus's DaemonSet runs as, and so the user its token authenticates as.
    public static let multusServiceAccount = "system:serviceaccount:kube-system:multus"

    /// Registers a bearer token for `user`, granted `role` in `namespaces` (nil: all, as a
    /// ClusterRoleBinding). `nodeName`: the node a pod-bound service account token names (its
    /// `authentication.kubernetes.io/node-name` extra), as the DaemonSet pod's own token does.
    public func addToken(_ token: String, user: String = TestAPIServer.multusServiceAccount, role: TestRole = .multus,
                         namespaces: [String]? = nil, nodeName: String? = nil) throws(TestAPIServerError) {
        var command: JSONObject = ["op": "token", "token": .string(token), "user": .string(user), "namespaces": Self.scope(namespaces), "role": role.json]
        if let nodeName { command["nodeName"] = .string(nodeName) }
        try self.command(.object(command))
    }

    /// Registers and returns a service account token shaped as kube-apiserver's TokenRequest
    /// issues it: a JWT whose payload has `aud`, `exp`, `iat`, `iss`, `jti`, `nbf`, `sub` (the
    /// user) and, for a service account, the `kubernetes.io` claims (namespace, serviceaccount,
    /// and with `nodeName` the pod and node it is bound to). `expiresIn` is from now (negative:
    /// already expired; the server refuses it 60 s after `exp`, as kube-apiserver's leeway);
    /// `notBeforeIn` sets `nbf` and `iat`. The signature is random: the server does not verify it.
    public func addJWT(user: String = TestAPIServer.multusServiceAccount, role: TestRole = .multus, namespaces: [String]? = nil,
                       expiresIn: Duration = .seconds(3607), notBeforeIn: Duration? = nil,
                       nodeName: String? = nil) throws(TestAPIServerError) -> String {
        let now = Int(time(nil))
        var command: JSONObject = ["op": "jwt", "user": .string(user), "namespaces": Self.scope(namespaces), "role": role.json,
                                   "expiresAt": JSONValue(now + Int(expiresIn.components.seconds))]
        if let notBeforeIn { command["notBefore"] = JSONValue(now + Int(notBeforeIn.components.seconds)) }
        if let nodeName { command["nodeName"] = .string(nodeName) }
        guard let token = try self.command(.object(command)).stringValue else { throw TestAPIServerError("jwt: no token returned") }
        return token
    }

    /// Holds the watch cache `writes` writes behind storage (0: current): reads with
    /// `resourceVersion=0` then see the objects as they were before the last `writes` writes
    /// (REST and control writes alike). A read asking for a newer `resourceVersion` waits up to
    /// `wait` for the cache (kube-apiserver: 3 s), then gets 504. Returns the cache's
    /// resourceVersion.
    @discardableResult
    public func setWatchCacheLag(writes: Int, wait: Duration = .seconds(3)) throws(TestAPIServerError) -> String {
        let millis = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
        let result = try command(["op": "watchCacheLag", "writes": JSONValue(writes), "waitMs": JSONValue(Int(millis))])
        return result["cacheResourceVersion"]?.stringValue ?? ""
    }

    /// Grants client-certificate users with common name `cn` the `role` in `namespaces` (nil: all).
    /// A verified certificate whose CN is not registered authenticates but is forbidden everywhere.
    public func addCertUser(cn: String, role: TestRole = .multus, namespaces: [String]? = nil) throws(TestAPIServerError) {
        try command(["op": "certuser", "cn": .string(cn), "namespaces": Self.scope(namespaces), "role": role.json])
    }

    /// Replaces the injected faults, e.g.
    /// `["latencyMs": 50, "failNext": [["pathContains": "/pods/", "status": 503, "count": 2]], "resetNext": 1, "chunked": true,
    /// "concurrentWrite": [["pathContains": "/status", "method": "PUT", "annotations": ["other": "x"]]],
    /// "delays": [["pathContains": "/version", "method": "GET", "ms": 1500]]]`;
    /// `[:]` clears them. See Tests/apiserver/README.md.
    public func setFaults(_ faults: JSONValue) throws(TestAPIServerError) {
        var command: JSONObject = ["op": "faults"]
        for (key, value) in faults.objectValue ?? JSONObject() { command[key] = value }
        try self.command(.object(command))
    }

    /// Every REST request answered (or reset) since start or the last `clearLog()`, in order.
    public func requests() throws(TestAPIServerError) -> [LoggedRequest] {
        let entries = try command(["op": "log"]).objectValue?["requests"]?.arrayValue ?? []
        return entries.compactMap { entry in
            guard let fields = entry.objectValue, let method = fields["method"]?.stringValue,
                  let path = fields["path"]?.stringValue, let status = fields["status"]?.intValue else { return nil }
            var request = LoggedRequest(method: method, path: path, status: status,
                                        user: fields["user"]?.stringValue, contentType: fields["contentType"]?.stringValue,
                                        tlsResumed: fields["tlsResumed"]?.boolValue ?? false, clientPort: fields["clientPort"]?.intValue ?? 0,
                                        body: fields["body"])
            request.query = fields["query"]?.stringValue ?? ""
            request.servedFrom = fields["servedFrom"]?.stringValue.flatMap(ReadSource.init(rawValue:))
            return request
        }
    }

    public func clearLog() throws(TestAPIServerError) {
        try command(["op": "clearlog"])
    }

    // MARK: kubeconfig

    /// Writes `<directory>/<fileName>`, a kubeconfig (clusters, users, contexts, current-context)
    /// for this server, and returns its path. The CA is referenced by path, or embedded as
    /// `certificate-authority-data` when `caInline`; the user has `token`, `tokenFile` and/or the
    /// client certificate and key paths, as given.
    public func kubeconfig(in directory: String, token: String? = nil, tokenFile: String? = nil, clientCert: Bool = false,
                           caInline: Bool = false, fileName: String = "kubeconfig") throws(TestAPIServerError) -> String {
        var cluster = "    server: \(yamlQuoted(server))\n"
        if caInline {
            guard let ca = readWholeFile(caPath) else { throw TestAPIServerError("cannot read \(caPath)") }
            cluster += "    certificate-authority-data: \(Base64.encode(ca))\n"
        } else {
            cluster += "    certificate-authority: \(yamlQuoted(caPath))\n"
        }
        var user = ""
        if let token { user += "    token: \(yamlQuoted(token))\n" }
        if let tokenFile { user += "    tokenFile: \(yamlQuoted(tokenFile))\n" }
        if clientCert {
            user += "    client-certificate: \(yamlQuoted(clientCertPath))\n    client-key: \(yamlQuoted(clientKeyPath))\n"
        }
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: test-apiserver
              cluster:
            \(cluster)users:
            - name: test-user
              user:\(user.isEmpty ? " {}\n" : "\n" + user)contexts:
            - name: test
              context:
                cluster: test-apiserver
                user: test-user
                namespace: default
            current-context: test
            preferences: {}

            """
        let path = directory + "/" + fileName
        do { try writeFile(path, Array(text.utf8), mode: 0o600) } catch { throw TestAPIServerError("\(error)") }
        return path
    }

    // MARK: private

    private static func scope(_ namespaces: [String]?) -> JSONValue {
        namespaces.map { .array($0.map(JSONValue.string)) } ?? "*"
    }

    private static func childEnvironment(_ python: String) -> [String] {
        var path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
        if let slash = python.lastIndex(of: "/") { path = String(python[..<slash]) + ":" + path }
        return ["PATH=\(path)", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"]
    }

    private static func findPython() -> String? {
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let path = getenv("PATH") {
            candidates += String(cString: path).split(separator: ":").map { "\($0)/python3" }
        }
        return candidates.first { access($0, X_OK) == 0 }
    }
}

/// The directory holding Package.swift, found by walking up from this file.
func packageRoot() -> String {
    var directory = Substring(#filePath)
    while let slash = directory.lastIndex(of: "/") {
        directory = directory[..<slash]
        if access("\(directory)/Package.swift", F_OK) == 0 { return String(directory) }
    }
    return "."
}

/// A YAML double-quoted scalar.
private func yamlQuoted(_ text: String) -> String { YAMLNode.doubleQuoted(text) }


/// A test server process and our ends of its stdin and stdout. Only used under a Mutex.
struct ControlChannel: ~Copyable {
    var pid: pid_t
    var stdinFD: Int32
    var stdoutFD: Int32
    /// Bytes read past the last complete line.
    var pending: [UInt8] = []

    /// posix_spawn with CLOEXEC pipes (so no other test's child inherits them), the child's stderr
    /// in `logPath`, and every other descriptor closed in the child.
    static func spawn(_ arguments: [String], environment: [String], logPath: String) throws(TestAPIServerError) -> ControlChannel {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard cshims_pipe2_cloexec(&input) == 0 else { throw failure("pipe2") }
        guard cshims_pipe2_cloexec(&output) == 0 else {
            let error = failure("pipe2")
            input.forEach { _ = close($0) }
            throw error
        }
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let childEnds = [input[0], output[1], log]
        defer { childEnds.forEach { if $0 >= 0 { _ = close($0) } } }
        guard log >= 0 else {
            let error = failure("open \(logPath)")
            [input[1], output[0]].forEach { _ = close($0) }
            throw error
        }

        guard let pid = try? ProcessSpawner.spawn(arguments, environment: environment, standardStreams: childEnds.map(FileDescriptor.init)) else {
            [input[1], output[0]].forEach { _ = close($0) }
            throw TestAPIServerError("could not start \(arguments[0])")
        }
        return ControlChannel(pid: pid, stdinFD: input[1], stdoutFD: output[0])
    }

    mutating func writeLine(_ bytes: [UInt8]) throws(TestAPIServerError) {
        guard stdinFD >= 0 else { throw TestAPIServerError("stopped") }
        let line = bytes + [UInt8(ascii: "\n")]
        var offset = 0
        while offset < line.count {
            let fd = stdinFD
            let n = line.withUnsafeBytes { raw in raw.baseAddress.map { write(fd, $0 + offset, raw.count - offset) } ?? 0 }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Self.failure("write to the server (has it exited?)") }
            offset += n
        }
    }

    /// The next line of the server's stdout, without its newline.
    mutating func readLine(timeout: Duration) throws(TestAPIServerError) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return line
            }
            guard stdoutFD >= 0 else { throw TestAPIServerError("stopped") }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw TestAPIServerError("no answer within \(timeout)") }
            var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)]
            let millis = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, 1, millis)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let fd = stdoutFD
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw TestAPIServerError("the server exited") }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    /// Closes both pipes (the server exits on EOF) and reaps the process, killing it if it has
    /// not gone within 5 seconds.
    mutating func terminate() {
        guard pid > 0 else { return }
        for fd in [stdinFD, stdoutFD] where fd >= 0 { _ = close(fd) }
        stdinFD = -1
        stdoutFD = -1
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { break }
            if ContinuousClock.now > deadline {
                _ = kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            usleep(2_000)
        }
        pid = 0
    }

    private static func failure(_ what: String) -> TestAPIServerError {
        TestAPIServerError("\(what): \(String(cString: strerror(errno)))")
    }
}

