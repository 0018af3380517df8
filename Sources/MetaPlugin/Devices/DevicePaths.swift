import PodResources

/// Where device-plugin state lives on the node; tests point these at fixtures.
public struct DevicePaths: Sendable {
    /// The kubelet's device-plugin checkpoint (which devices each pod was given), read when the
    /// pod-resources socket is not there.
    public var checkpoint: String
    /// The Network Plumbing WG device-info directory (`dp/` from device plugins, `cni/` ours).
    public var infoDirectory: String
    /// The kubelet's pod-resources API socket, asked first.
    public var podResourcesSocket: String
    /// How long one pod-resources call may take (a kubelet that is restarting must not hang ADD).
    public var podResourcesDeadline: Duration

    public init(checkpoint: String, infoDirectory: String, podResourcesSocket: String = PodResourcesClient.defaultSocket,
                podResourcesDeadline: Duration = .seconds(2)) {
        self.checkpoint = checkpoint
        self.infoDirectory = infoDirectory
        self.podResourcesSocket = podResourcesSocket
        self.podResourcesDeadline = podResourcesDeadline
    }

    public static let live = DevicePaths(checkpoint: KubeletCheckpoint.defaultPath, infoDirectory: DeviceInfo.baseDirectory)
}
