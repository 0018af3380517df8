import CNI
import Glibc
import Testing
import TestSupport

/// STATUS fails with 50 ("plugin not available") while the kubeconfig's token cannot work, so
/// the runtime reports the node's network as not ready instead of every ADD failing alike.
@Suite("STATUS and the kubeconfig's token")
struct StatusTokenTests {
    /// A JWT whose payload is `claims` (the signature is not checked by anyone here).
    static func jwt(_ claims: JSONValue) -> String {
        func url(_ bytes: [UInt8]) -> String {
            String(Base64.encode(bytes).compactMap { $0 == "=" ? nil : $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        }
        return url(Array(#"{"alg":"RS256"}"#.utf8)) + "." + url(claims.serializedBytes()) + "." + url([1, 2, 3])
    }

    /// A kubeconfig (for a server nothing listens on) with `tokenFile`, and the config naming it.
    func config(_ box: Sandbox, tokenFile: String) throws -> JSONValue {
        let kubeconfig = box.root + "/kubeconfig"
        try box.write(kubeconfig, """
            apiVersion: v1
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
            users: [{name: u, user: {tokenFile: \(tokenFile)}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """)
        return multusConfig(box, version: "1.1.0", delegates: [delegate("main", type: "bridge", version: "1.1.0")],
                            [("kubeconfig", .string(kubeconfig))])
    }

    @Test func aMissingTokenFileIsCode50NamingIt() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let token = box.root + "/token"
        let reply = run("STATUS", try config(box, tokenFile: token), executor: executor, env: StatusTests.containerless)
        expectFailure(reply, code: 50, msgContains: [token, "No such file or directory"])
        #expect(executor.calls.isEmpty)
    }

    @Test func anExpiredJWTIsCode50SayingWhen() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let token = box.root + "/token"
        let expired = Int(time(nil)) - 3600
        try box.write(token, Self.jwt(["exp": JSONValue(expired), "sub": "system:serviceaccount:kube-system:multus"]))
        let reply = run("STATUS", try config(box, tokenFile: token), executor: FakeExecutor(), env: StatusTests.containerless)
        expectFailure(reply, code: 50, msgContains: [token, "expired at"])
    }

    /// Within kube-apiserver's 60 s leeway the token still works: no 50.
    @Test(arguments: [3600, -30])
    func aCurrentTokenLetsStatusAskTheMainNetwork(_ expiresIn: Int) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let token = box.root + "/token"
        try box.write(token, Self.jwt(["exp": JSONValue(Int(time(nil)) + expiresIn)]))
        let executor = FakeExecutor()
        expectSuccess(run("STATUS", try config(box, tokenFile: token), executor: executor, env: StatusTests.containerless))
        #expect(executor.calls.map(\.command) == ["STATUS"])
    }

    /// ADD with the same missing token is not 50 (that code is STATUS's).
    @Test func addWithAMissingTokenIsNot50() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", try config(box, tokenFile: box.root + "/token"), executor: FakeExecutor())
        #expect(reply.exitCode == 1)
        #expect(reply.error?.code.rawValue != 50)
    }
}
