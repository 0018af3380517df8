import CNI
import CNIExec
import KubeClient
import System

/// STATUS (CNI 1.1): ready when the kubeconfig's token works, the readiness file exists and the
/// main network says so.
struct StatusCommand {
    let context: PluginContext

    func run() throws(MetaError) {
        guard context.config.cniVersion.supportsStatusAndGC else {
            throw .incompatibleVersion("STATUS needs cniVersion 1.1.0 or later; the multus config says \(context.config.cniVersion)")
        }
        try requireCurrentToken()
        try Readiness.waitFor(context.config.readinessIndicatorFile, timeout: context.config.readinessIndicatorTimeout)
        let plan = try context.resolver(api: try context.kube.api()).plan(for: nil, mainIfName: .eth0)
        for attachment in plan.attachments where attachment.role == .main {
            do {
                try context.runner.status(attachment.network, context.containerlessRuntimeConf)
            } catch {
                throw .delegate(error, attachment: AttachmentLabel(network: attachment.statusName, ifName: nil, source: attachment.source), rollback: [])
            }
        }
    }

    /// A token file that is gone, unreadable or holds an expired JWT fails every pod's ADD alike:
    /// STATUS says so once (code 50, naming the file), and the runtime reports the node's network
    /// as not ready instead. Only with a configured kubeconfig: without one the plugin needs no API.
    private func requireCurrentToken() throws(MetaError) {
        guard let path = context.config.kubeconfig else { return }
        do {
            _ = try Kubeconfig.load(path: path).credentials.currentToken(now: WallClockTime.now().seconds)
        } catch {
            throw .kube(error, context: "the kubeconfig \(path)")
        }
    }
}
