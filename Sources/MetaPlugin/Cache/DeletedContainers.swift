import CNI
import Glibc

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

    public init(cniDir: String) { directory = FileSystem.join(cniDir, "deleted") }

    func path(for containerID: String) -> String { FileSystem.join(directory, containerID) }

    /// Whether a DEL of `containerID` on `ifName` completed within `lifetime`.
    public func contains(_ containerID: String, ifName: String) -> Bool {
        let path = path(for: containerID)
        guard let recorded = try? FileSystem.readFile(path, limit: 256) else { return false }
        return String(decoding: recorded, as: UTF8.self) == ifName && FileSystem.age(path) < Self.lifetime
    }

    /// Best effort: without the record the next DEL is only slower.
    public func record(_ containerID: String, ifName: String) {
        do {
            try FileSystem.ensureDirectory(directory)
            try FileSystem.writeFile(Array(ifName.utf8), to: path(for: containerID))
        } catch {
            return
        }
        sweepIfDue()
    }

    public func forget(_ containerID: String) {
        try? FileSystem.remove(path(for: containerID))
    }

    /// Removes every tombstone whose container is not in `keeping` (GC), or older than `lifetime`.
    func sweep(keeping: Set<String>? = nil) {
        guard let names = try? FileSystem.listDirectory(directory) else { return }
        for name in names where !name.hasPrefix(".") {
            let expired = FileSystem.age(path(for: name)) >= Self.lifetime
            if expired || keeping.map({ !$0.contains(name) }) == true { forget(name) }
        }
    }

    private func sweepIfDue() {
        let marker = FileSystem.join(directory, ".swept")
        guard !FileSystem.exists(marker) || FileSystem.age(marker) >= Self.sweepInterval else { return }
        try? FileSystem.writeFile([], to: marker)
        sweep()
    }
}
