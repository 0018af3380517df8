import CNI
import CNIExec
import KubeClient
import System

/// Everything that can fail in the meta-plugin. Each case carries what an operator needs to
/// find the problem (the file, the network, the interface); `ErrorMapping` turns it into the
/// CNI error object with the right code.
public enum MetaError: Error, Sendable {
    /// Input did not decode; `source` is "the multus config (stdin)" or a file path.
    case spec(SpecError, source: String)
    /// Input decoded but cannot work as given.
    case invalidConfig(String, source: String)
    /// `clusterNetwork`/`defaultNetworks` named something that is not there.
    case networkNotFound(reference: String, key: String, searched: String)
    /// A file operation failed.
    case io(path: String, operation: String, errno: Errno)
    /// A delegate network failed; `rollback` lists what went wrong undoing earlier attachments.
    case delegate(DelegateError, attachment: AttachmentLabel, rollback: [String])
    /// Several DELs failed; all are reported.
    case teardown([DelegateFailure])
    /// The cache entry for a container is unreadable.
    case corruptCache(path: String, reason: String)
    /// CHECK for a container we have no complete record of.
    case notAttached(containerID: ContainerID, reason: String)
    /// The pod's default route could not be set as requested.
    case route(String, attachment: AttachmentLabel)
    /// GC went through everything and these failed.
    case gc([String])
    /// The Kubernetes API failed; `context` says for what (which NAD, for which pod).
    case kube(KubeError, context: String)
    /// Something the call needs is away for now (the kubelet restarting): the runtime retries.
    case unavailable(String, source: String)
    /// The readiness indicator file did not appear in time.
    case notReady(path: String, waited: Duration)
    /// A verb the configured cniVersion does not have (CHECK below 0.4.0, STATUS/GC below 1.1.0).
    case incompatibleVersion(String)
}

/// Names one attachment in messages: which network, on which interface, from which source.
public struct AttachmentLabel: Sendable, Hashable, CustomStringConvertible {
    /// `Attachment.statusName`: `namespace/name` for a NAD, so text rather than a `NetworkName`.
    public var network: String
    /// nil for a verb that concerns no interface (STATUS): naming eth0 there would mislead.
    public var ifName: InterfaceName?
    public var source: String

    public var description: String {
        guard let ifName else { return "network \(Echo.quoted(network)) (from \(source))" }
        return "network \(Echo.quoted(network)) (interface \(ifName), from \(source))"
    }
}

/// One delegate's failure and which attachment it was.
public struct DelegateFailure: Sendable {
    public var error: DelegateError
    public var attachment: AttachmentLabel
}

extension MetaError {
    /// A file operation that failed, as the meta-plugin words it ("could not <operation> <path>:
    /// <errno>"); a file over the limit it was read with names the limit.
    static func file(_ error: SystemError, path: String, readLimit: Int = wholeFileLimit) -> MetaError {
        let operation = error.errno == .fileTooLarge ? "read (file larger than \(readLimit) bytes)" : error.operation
        return .io(path: error.path ?? path, operation: operation, errno: error.errno)
    }
}

/// The most the meta-plugin reads of a file it reads whole (configs, its cache, Multus's cache,
/// the kubelet's checkpoint): each is small, and a runaway file must not exhaust memory.
let wholeFileLimit = 16 << 20

extension MetaError {
    /// The message the plugin would print for this error (its CNI error's `msg`).
    public var message: String { ErrorMapping.cniError(self, context: nil).msg }
}
