import CNI
import CNIExec
import Logging
@testable import MetaPlugin
import Testing
import TestSupport

/// Which CNI_ARGS each attachment's plugins get: the runtime's per-interface `IP`/`MAC` describe
/// CNI_IFNAME, so only the main network has them; a secondary has what its own selection
/// element asks for.
@Suite("Argument routing")
struct ArgumentRoutingTests {
    static func context(args: String) throws -> PluginContext {
        let config = try MultusConfig(json: JSONValue.parse(#"{"cniVersion":"1.0.0","delegates":[{"cniVersion":"1.0.0","name":"a","type":"bridge"}]}"#))
        let invocation = Invocation(command: .add, containerID: .make("c1"), netns: "/proc/self/ns/net", ifName: .make("eth0"), args: try CNIArgs(parsing: args))
        let log = Logger(LogSettings(toStderr: false))
        return PluginContext(config: config, invocation: invocation, runner: DelegateRunner(executor: FakeExecutor()), cache: AttachmentCache(cniDir: "/nonexistent"),
                             files: NetworkFiles(confDir: "/nonexistent"), pluginDirectories: [], passthroughEnvironment: [], diagnostics: Diagnostics(),
                             pod: nil, kube: KubeAccess(provider: { _, _, _ in nil }, config: config, environment: [:], budget: .seconds(45), log: log), devices: .live, log: log,
                             ownExecutable: "/proc/self/exe")
    }

    static func attachment(_ role: MetaPlugin.Attachment.Role, extraArgs: CNIArgs = CNIArgs()) throws -> MetaPlugin.Attachment {
        MetaPlugin.Attachment(network: try NetworkConfigList(json: JSONValue.parse(#"{"cniVersion":"1.0.0","name":"n","type":"macvlan"}"#)),
                   ifName: .make(role == .main ? "eth0" : "net1"), role: role, source: "test", extraArgs: extraArgs)
    }

    @Test("main: the runtime's IP and MAC; secondary: neither, or its own element's", arguments: [
        (MetaPlugin.Attachment.Role.main, [], "K8S_POD_NAME=p;IP=10.1.0.9;MAC=0a:58:00:00:00:09;IgnoreUnknown=1"),
        (.secondary, [], "K8S_POD_NAME=p;IgnoreUnknown=1"),
        (.secondary, [("IP", "10.2.0.7"), ("MAC", "0a:58:00:00:02:07")], "K8S_POD_NAME=p;IgnoreUnknown=1;IP=10.2.0.7;MAC=0a:58:00:00:02:07"),
        (.main, [("IP", "10.1.0.8")], "K8S_POD_NAME=p;MAC=0a:58:00:00:00:09;IgnoreUnknown=1;IP=10.1.0.8"),
    ] as [(MetaPlugin.Attachment.Role, [(String, String)], String)])
    func routing(_ role: MetaPlugin.Attachment.Role, _ own: [(String, String)], _ expected: String) throws {
        let context = try Self.context(args: "K8S_POD_NAME=p;IP=10.1.0.9;MAC=0a:58:00:00:00:09;IgnoreUnknown=1")
        let conf = context.runtimeConf(for: try Self.attachment(role, extraArgs: CNIArgs(own)), netns: "/proc/self/ns/net")
        #expect(conf.args.serialized == expected)
    }
}
