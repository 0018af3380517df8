import CNI
import System

/// Tombstones: `<cniDir>/deleted/<containerID>` for each container whose DEL completed.
///
/// Runtimes DEL more than once: containerd at StopPodSandbox and again at RemovePodSandbox (the
/// second time with CNI_NETNS empty), and kubelets retry. Without a record, the second DEL finds
/// no cache entry and must resolve the pod's networks again through the API to DEL them blind.
/// With one, it succeeds at once. ADD of the same container removes the record; GC and age
/// remove the rest.
public struct DeletedContainers: Sendable {
    public let directory: String
    /// Older tombstones are ignored and swept away: by then every runtime has stopped retrying.
    public static let lifetime = Duration.seconds(24 * 3600)
    /// How often a DEL sweeps expired tombstones (a marker file's age says when it last did).
    static let sweepInterval = Duration.seconds(3600)

    public init(cniDir: String) { directory = Files.join(cniDir, "deleted") }

    func path(for containerID: ContainerID) -> String { Files.join(directory, containerID.text) }

    /// Whether a DEL of `containerID` on `ifName` completed within `lifetime`.
    public func contains(_ containerID: ContainerID, ifName: InterfaceName) -> Bool {
        let path = path(for: containerID)
        guard let recorded = try? Files.read(path, limit: 256, symlinks: .refuse) else { return false }
        return String(decoding: recorded, as: UTF8.self) == ifName.text && Files.age(of: path) < Self.lifetime
    }

    /// Best effort: without the record the next DEL is only slower.
    public func record(_ containerID: ContainerID, ifName: InterfaceName) {
        do {
            try Files.makeDirectories(directory, permissions: 0o700)
            try Files.write(Array(ifName.text.utf8), to: path(for: containerID), permissions: 0o600)
        } catch {
            return
        }
        sweepIfDue()
    }

    public func forget(_ containerID: ContainerID) { remove(named: containerID.text) }

    /// Listed names are removed as they are, whatever put them there.
    private func remove(named name: String) { _ = try? Files.remove(Files.join(directory, name)) }

    /// Removes every tombstone whose container is not in `keeping` (GC), or older than `lifetime`.
    func sweep(keeping: Set<String>? = nil) {
        guard let names = try? Files.list(directory) else { return }
        for name in names where !name.hasPrefix(".") {
            let expired = Files.age(of: Files.join(directory, name)) >= Self.lifetime
            if expired || keeping.map({ !$0.contains(name) }) == true { remove(named: name) }
        }
    }

    private func sweepIfDue() {
        let marker = Files.join(directory, ".swept")
        guard !Files.exists(marker) || Files.age(of: marker) >= Self.sweepInterval else { return }
        try? Files.write([], to: marker, permissions: 0o600)
        sweep()
    }
}
