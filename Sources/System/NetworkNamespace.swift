import CShims

/// Network namespaces: a thread enters one (setns) to work inside a pod.
public enum NetworkNamespace {
    /// Opens the namespace at `path` (`/var/run/netns/x`, `/proc/<pid>/ns/net`) for `enter`.
    /// - Throws: `SystemError("open", path:)`.
    public static func open(_ path: String) throws(SystemError) -> FileDescriptor {
        try FileDescriptor.open(path, .readOnly)
    }

    /// Moves the calling thread into the namespace open at `namespace`: setns(fd, CLONE_NEWNET).
    /// Only a thread made for the purpose may do this (`Thread(dedicated:)`): the namespace
    /// stays with the thread.
    /// - Throws: `SystemError("setns")`.
    public static func enter(_ namespace: FileDescriptor) throws(SystemError) {
        guard cshims_setns_net(namespace.rawValue) == 0 else { throw SystemError("setns", errno: .current) }
    }
}
