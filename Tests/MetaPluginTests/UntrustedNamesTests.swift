import CNI
import KubeClient
import MetaPlugin
import Synchronization
import Testing
import TestSupport

/// Names from CNI_ARGS reach API paths (an HTTP request line) and delegates' environment: each is
/// checked where it is parsed, and a bad one stops ADD before the API or any delegate sees it.
@Suite("Names from CNI_ARGS")
struct UntrustedNamesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var args: String
        var key: String
        var testDescription: String { key + ": " + args.debugDescription }
    }

    static let refused: [Case] = [
        Case(args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0\r\nX-Injected: 1", key: "K8S_POD_NAME"),
        Case(args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=../../secrets/token", key: "K8S_POD_NAME"),
        Case(args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=" + String(repeating: "a", count: 254), key: "K8S_POD_NAME"),
        Case(args: "K8S_POD_NAMESPACE=kube-system/pods;K8S_POD_NAME=web-0", key: "K8S_POD_NAMESPACE"),
        Case(args: "K8S_POD_NAMESPACE=Default;K8S_POD_NAME=web-0", key: "K8S_POD_NAMESPACE"),
        Case(args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=uid 1", key: "K8S_POD_UID"),
        Case(args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=../x", key: "K8S_POD_INFRA_CONTAINER_ID"),
    ]

    @Test(arguments: refused)
    func addRefusesBeforeTheAPIOrADelegate(_ c: Case) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor()
        let api = ScriptedKubeAPI(.init(laterReads: 404))
        let reply = Reply(outcome: MultusPlugin(executor: executor, kubeAPIProvider: { _, _, _ in api })
            .run(environment: environment("ADD", args: c.args), stdin: multusConfig(box, delegates: threeDelegates).serializedBytes()))
        expectFailure(reply, code: 7, msgContains: ["CNI_ARGS", c.key])
        #expect(api.calls == [], "the API was asked for a pod")
        #expect(executor.steps == [])
        #expect(reply.outcome.stdout.utf8.count < 1024, "the value is quoted clipped: \(reply.outcome.stdout)")
    }

    /// No ADD can have attached anything under such a name, and a DEL that fails would leave the
    /// pod stuck terminating: DEL goes on from the cache, without the pod.
    @Test func delGoesOnWithoutThePod() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, delegates: threeDelegates)
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        let executor = FakeExecutor()
        let api = ScriptedKubeAPI(.init(laterReads: 404))
        let reply = Reply(outcome: MultusPlugin(executor: executor, kubeAPIProvider: { _, _, _ in api })
            .run(environment: environment("DEL", args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0\n"), stdin: config.serializedBytes()))
        expectSuccess(reply)
        #expect(executor.steps.count == 4, "every cached network was torn down")
        #expect(reply.outcome.diagnostics.contains { $0.contains("K8S_POD_NAME") && $0.contains("tearing down without the pod") },
                "\(reply.outcome.diagnostics)")
        #expect(api.calls == [])
    }

    /// DEL's API calls never decide what is torn down, so a DEL facing an API server that does not
    /// answer must not wait out ADD's long budget (it would only hold up the pod's termination).
    @Test func delAsksTheAPIWithAShortBudget() throws {
        let budgets = Mutex<[String: Duration]>([:])
        let api = ScriptedKubeAPI(.init(laterReads: 404))
        // Each on a node of its own: a DEL without a cache entry resolves the pod's networks again,
        // so the API is asked then.
        for command in ["ADD", "DEL"] {
            let box = try Sandbox()
            defer { box.remove() }
            _ = MultusPlugin(executor: FakeExecutor(), kubeAPIProvider: { _, _, budget in budgets.withLock { $0[command] = budget }; return api })
                .run(environment: environment(command, args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0"),
                     stdin: multusConfig(box, delegates: threeDelegates).serializedBytes())
        }
        #expect(budgets.withLock { $0 } == ["ADD": .seconds(45), "DEL": .seconds(10)])
    }

    @Test func validNamesReachTheAPIUnchanged() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let api = ScriptedKubeAPI(.init(laterReads: 404))
        let args = "K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0.shard-1;K8S_POD_UID=9d3c2b1a-0f8e-7d6c-5b4a-39281706f5e4"
        let reply = Reply(outcome: MultusPlugin(executor: FakeExecutor(), kubeAPIProvider: { _, _, _ in api })
            .run(environment: environment("ADD", args: args), stdin: multusConfig(box, delegates: threeDelegates).serializedBytes()))
        expectSuccess(reply)
        #expect(api.calls == ["GET pod team-a/web-0.shard-1 (cache)", "GET pod team-a/web-0.shard-1"], "a 404 from the cache is read again from storage")
    }

    /// The operator's config is trusted, but a name Kubernetes could not store is no NAD either:
    /// it goes straight to confDir, never into a request line.
    @Test func aClusterNetworkThatIsNoNADNameIsNotAskedFor() throws {
        let box = try Sandbox()
        defer { box.remove() }
        try box.write(box.confDir + "/10-net.conf", #"{"cniVersion":"1.0.0","name":"Net_A","type":"bridge"}"#)
        let api = ScriptedKubeAPI(.init(laterReads: 404))
        let config = multusConfig(box, delegates: [], [("clusterNetwork", "Net_A"), ("defaultNetworks", ["net-b"])])
        let reply = Reply(outcome: MultusPlugin(executor: FakeExecutor(), kubeAPIProvider: { _, _, _ in api })
            .run(environment: environment("ADD", args: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0"), stdin: config.serializedBytes()))
        #expect(api.calls == ["GET pod default/web-0 (cache)", "GET pod default/web-0", "GET nad kube-system/net-b (cache)", "GET nad kube-system/net-b"],
                "\(reply.outcome.stdout)")
    }

    private func environment(_ command: String, args: String) -> [String: String] {
        var environment = baseEnvironment
        environment["CNI_COMMAND"] = command
        environment["CNI_ARGS"] = args
        return environment
    }
}
