import CNI
import Glibc
import Testing
import TestSupport

/// A node's host directories for one test, as the DaemonSet mounts them, plus a service account
/// laid out as the kubelet projects it (`token -> ..data/token`, `..data -> ..<version>`).
final class InstallNode: @unchecked Sendable {
    let root: TemporaryDirectory
    let confDir: String
    let binDir: String
    let serviceAccountDir: String
    private var tokenVersion = 0
    static let binary = builtExecutable("multus")

    init(token: String = "token-1") throws {
        root = try TemporaryDirectory(prefix: "swift-multus-install")
        confDir = try root.directory("net.d")
        binDir = try root.directory("bin")
        serviceAccountDir = try root.directory("serviceaccount")
        try project(token: token)
        try root.symlink("serviceaccount/token", to: "..data/token")
        try root.symlink("serviceaccount/ca.crt", to: "..data/ca.crt")
        try root.symlink("serviceaccount/namespace", to: "..data/namespace")
    }

    deinit { root.remove() }

    var kubeconfig: String { confDir + "/multus.d/multus.kubeconfig" }
    var tokenCopy: String { confDir + "/multus.d/token" }
    var conflist: String { confDir + "/00-multus.conflist" }
    var conf: String { confDir + "/00-multus.conf" }

    /// Replaces the token as the kubelet does: a new directory, then `..data` renamed over.
    func project(token: String) throws {
        tokenVersion += 1
        let version = "..v\(tokenVersion)"
        try root.directory("serviceaccount/\(version)")
        try root.file("serviceaccount/\(version)/token", contents: Array(token.utf8))
        try root.file("serviceaccount/\(version)/ca.crt", contents: try readFile(testdata("install/ca.crt")))
        try root.file("serviceaccount/\(version)/namespace", contents: Array("kube-system".utf8))
        try root.symlink("serviceaccount/..data_tmp", to: version)
        guard rename(serviceAccountDir + "/..data_tmp", serviceAccountDir + "/..data") == 0 else {
            throw FixtureError(call: "rename", path: serviceAccountDir + "/..data", errno: errno)
        }
    }

    /// Copies a primary config fixture from testdata/install into the conf dir.
    @discardableResult
    func addPrimary(_ fixture: String, as name: String? = nil) throws -> String {
        try writeFile(confDir + "/" + (name ?? fixture), try readFile(testdata("install/\(fixture)")))
    }

    /// The flags pointing install at this node; `extra` come after and win.
    func arguments(_ extra: [String]) -> [String] {
        [Self.binary, "install", "--cni-conf-dir=\(confDir)", "--multus-autoconfig-dir=\(confDir)", "--cni-bin-dir=\(binDir)",
         "--service-account-dir=\(serviceAccountDir)", "--multus-kubeconfig-file-host=\(kubeconfig)"] + extra
    }

    static let environment = ["KUBERNETES_SERVICE_HOST=fd00:10:96::1", "KUBERNETES_SERVICE_PORT=443", "PATH=/usr/bin:/bin"]

    /// `multus install` with this node's flags, running.
    func start(_ extra: [String] = [], environment: [String] = InstallNode.environment) throws -> ChildProcess {
        try ChildProcess(arguments(extra), environment: environment, logPath: root.pathOf("install-\(UInt32.random(in: 0...UInt32.max)).log"))
    }

    /// The file's content as text, "" if it is not there.
    func text(_ path: String) -> String { readWholeFile(path).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// The generated config, parsed.
    func generated(_ path: String) throws -> JSONObject {
        try #require(try JSONValue.parse(try readFile(path)).objectValue)
    }
}
