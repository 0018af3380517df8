import CNI
import CNIExec

/// STATUS (CNI 1.1): ready when the readiness file exists and the main network says so.
struct StatusCommand {
    let context: PluginContext

    func run() throws(MetaError) {
        guard context.config.cniVersion.supportsStatusAndGC else {
            throw .incompatibleVersion("STATUS needs cniVersion 1.1.0 or later; the multus config says \(context.config.cniVersion)")
        }
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
}
