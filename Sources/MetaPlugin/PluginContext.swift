import CNI
import CNIExec
import Synchronization

/// What every command of one invocation shares. Built once by `MultusPlugin`; commands never
/// read the process environment themselves.
struct PluginContext: Sendable {
    let config: MultusConfig
    let invocation: Invocation
    let runner: DelegateRunner
    let cache: AttachmentCache
    let files: NetworkFiles
    /// binDir, then CNI_PATH (Multus's search order), without repeats.
    let pluginDirectories: [String]
    let passthroughEnvironment: [String]
    let diagnostics: Diagnostics

    /// The runtime conf of one attachment's delegate calls.
    /// - Parameter cachedArgs: CNI_ARGS as ADD had them; used when this call carries none
    ///   (a DEL from a runtime that forgot the pod's identity must still reach the same leases).
    func runtimeConf(for attachment: Attachment, netns: String, cachedArgs: CNIArgs? = nil) -> RuntimeConf {
        let args = invocation.args.isEmpty ? (cachedArgs ?? invocation.args) : invocation.args
        return RuntimeConf(containerID: invocation.containerID, netns: netns, ifName: attachment.ifName, args: args,
                    capabilityArgs: attachment.capabilityArgs, pluginDirectories: pluginDirectories,
                    passthroughEnvironment: passthroughEnvironment)
    }

    /// The conf for calls that concern no container (STATUS, GC).
    var containerlessRuntimeConf: RuntimeConf {
        RuntimeConf(pluginDirectories: pluginDirectories, passthroughEnvironment: passthroughEnvironment)
    }
}

/// Lines for stderr: what happened that did not fail the call but an operator should see.
public final class Diagnostics: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    func note(_ line: String) { lines.withLock { $0.append(line) } }

    public var all: [String] { lines.withLock { $0 } }
}
