import CNI
import CNIExec
import KubeClient
import System

/// Who the failing call was for, added to every error's details: at 3 a.m. the first question
/// is which pod.
struct ErrorContext: Sendable {
    var command: CNICommand
    var containerID: ContainerID?
    /// The pod CNI_ARGS names, once its name and namespace passed their rules.
    var pod: String?

    init(command: CNICommand, containerID: ContainerID?) {
        self.command = command
        self.containerID = containerID
    }

    var description: String {
        var parts = ["\(command.rawValue)"]
        if let pod { parts.append("pod \(pod)") }
        if let containerID { parts.append("container \(containerID)") }
        return parts.joined(separator: ", ")
    }
}

/// The one place errors become CNI error objects and get their codes.
enum ErrorMapping {
    static func cniError(_ error: MetaError, context: ErrorContext?) -> CNIError {
        var mapped = bare(error, command: context?.command)
        if let context { mapped = mapped.adding(context: context.description) }
        return mapped
    }

    private static func bare(_ error: MetaError, command: CNICommand?) -> CNIError {
        switch error {
        case .spec(let e, let source):
            return CNIError(e.code, "\(source): \(e)")
        case .invalidConfig(let message, let source):
            return CNIError(.invalidNetworkConfig, "\(source): \(message)")
        case .networkNotFound(let reference, let key, let searched):
            return CNIError(.invalidNetworkConfig, "\(key) \(Echo.quoted(reference)) not found: \(searched)")
        case .io(let path, let operation, let errno):
            return CNIError(.ioFailure, "could not \(operation) \(path): \(errno)")
        case .delegate(let e, let attachment, let rollback):
            var mapped = delegate(e, attachment: attachment)
            if !rollback.isEmpty { mapped.details += "; " + rollback.joined(separator: "; ") }
            return mapped
        case .teardown(let failures):
            guard let first = failures.first else { return CNIError(.generic, "DEL failed") }
            var mapped = delegate(first.error, attachment: first.attachment)
            for other in failures.dropFirst() { mapped.details += "; also \(delegate(other.error, attachment: other.attachment))" }
            return mapped
        case .corruptCache(let path, let reason):
            return CNIError(.decodingFailure, "cache file \(path) is unreadable: \(reason)")
        case .notAttached(let containerID, let reason):
            return CNIError(.unknownContainer, "container \(containerID) is not attached: \(reason)")
        case .unavailable(let message, let source):
            return CNIError(.tryAgainLater, "\(source): \(message)")
        case .notReady(let path, let waited):
            // A runtime retries ADD on 11; STATUS reports the plugin as unavailable with 50.
            let code: CNIError.Code = command == .status ? .notAvailable : .tryAgainLater
            return CNIError(code, "the main network is not ready: readinessindicatorfile \(path) did not appear within \(waited)")
        case .route(let message, let attachment):
            return CNIError(.generic, message, details: "default-route of \(attachment)")
        case .gc(let failures):
            return CNIError(.generic, "GC: \(failures.count) failure\(failures.count == 1 ? "" : "s")", details: failures.joined(separator: "; "))
        case .kube(.token(let path, let reason), let context) where command == .status:
            // No call can work until the token is replaced: the plugin is not available (50).
            return CNIError(.notAvailable, "\(context): token file \(path) is not usable: \(reason)",
                            details: "multus install (or the kubelet's projected token) renews it; multus doctor checks it")
        case .kube(let e, let context):
            return kube(e, context: context)
        case .incompatibleVersion(let message):
            return CNIError(.incompatibleVersion, message)
        }
    }

    /// A missing object is a configuration problem (7); a server that is away is worth a retry
    /// (11); anything else (401, 403, TLS) needs an operator, and says what to look at.
    private static func kube(_ error: KubeError, context: String) -> CNIError {
        let code: CNIError.Code = error.isNotFound ? .invalidNetworkConfig : error.isTransient ? .tryAgainLater : .generic
        var hint = ""
        if case .http(_, _, let status, _) = error, status == 401 || status == 403 {
            hint = status == 401 ? " (the kubeconfig's credentials were not accepted)" : " (the kubeconfig's user lacks RBAC permission for this)"
        }
        return CNIError(code, "\(context): \(error)\(hint)")
    }

    /// A delegate's own error keeps its code and message; we add which network, interface and
    /// plugin it was to `details`.
    private static func delegate(_ error: DelegateError, attachment: AttachmentLabel) -> CNIError {
        let where_ = "\(attachment), plugin \(error.plugin) \(error.command.rawValue)"
        switch error.failure {
        case .plugin(let e):
            return e.adding(context: where_)
        case .exec(.invalidPluginType(let type)):
            return CNIError(.invalidNetworkConfig, ExecError.invalidPluginType(type).description, details: where_)
        case .exec(.notFound(let type, let searched)):
            // A wrong `type` or a plugin not installed: say where we looked and whose config named it.
            let directories = searched.isEmpty ? "no directories (set binDir or CNI_PATH)" : searched.joined(separator: ", ")
            return CNIError(.invalidNetworkConfig, "plugin \(Echo.quoted(type)) of network \(Echo.quoted(attachment.network)) (from \(attachment.source)) is not in binDir or CNI_PATH: searched \(directories)",
                            details: where_)
        case .exec(let e):
            return CNIError(.generic, e.description, details: where_)
        case .result(let e):
            return CNIError(e.code, "plugin \(error.plugin) returned an unusable result: \(e)", details: where_)
        }
    }
}
