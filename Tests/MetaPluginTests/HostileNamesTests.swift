import CNI
import MetaPlugin
import Testing
import TestSupport

/// A network name, a reference or a chain name that is megabytes long must not make the error
/// object (which the kubelet copies into the pod's events) megabytes long: each is quoted bounded.
@Suite("Errors about hostile names stay short")
struct HostileNamesTests {
    static let huge = String(repeating: "n", count: 100_000)

    enum Case: String, CaseIterable, Sendable {
        case pluginNotInstalled, clusterNetworkNotFound, auxiliaryChainWithoutPath, versionOnlyInPlugins

        func config(_ box: Sandbox) -> JSONValue {
            let huge = JSONValue.string(HostileNamesTests.huge)
            let plain: JSONValue = ["cniVersion": "1.0.0", "name": "plain", "type": "bridge"]
            switch self {
            case .pluginNotInstalled:
                return multusConfig(box, delegates: [["cniVersion": "1.0.0", "name": huge, "type": "absent"]])
            case .clusterNetworkNotFound:
                return multusConfig(box, delegates: [], [("clusterNetwork", huge)])
            case .auxiliaryChainWithoutPath:
                return multusConfig(box, delegates: [plain], [("auxiliaryCNIChainName", huge)])
            case .versionOnlyInPlugins:
                return multusConfig(box, delegates: [plain, ["name": huge, "plugins": [["cniVersion": "1.0.0", "type": "macvlan"]]]])
            }
        }
    }

    @Test(arguments: Case.allCases)
    func theErrorIsBounded(_ c: Case) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", c.config(box), executor: FakeExecutor(missing: ["absent"]))
        expectFailure(reply, code: 7, msgContains: ["nnnn…"])
        #expect(reply.outcome.stdout.utf8.count < 2048, "\(c): \(reply.outcome.stdout.utf8.count) bytes")
    }
}
