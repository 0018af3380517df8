import CNI
import System

/// What the caches in a cniDir hold, read-only, for `multus doctor`: our attachment records with
/// the network namespace each was made in, and the records Multus left before an upgrade.
public struct NodeInventory: Sendable {
    /// One of our cache entries.
    public struct CachedContainer: Sendable, Hashable {
        public var containerID: ContainerID
        public var path: String
        /// The netns path ADD was given; empty when the runtime gave none.
        public var netns: String
        /// Why the entry could not be read, when it could not.
        public var unreadable: String?
    }

    public let cniDir: String

    public init(cniDir: String) { self.cniDir = cniDir }

    /// Our cache entries, each read on its own (one corrupt file does not hide the others).
    public func cachedContainers() -> [CachedContainer] {
        AttachmentCache(cniDir: cniDir).allEntries().map { listed in
            switch listed.entry {
            case .success(let entry):
                CachedContainer(containerID: listed.containerID, path: listed.path, netns: entry.netns, unreadable: nil)
            case .failure(let error):
                CachedContainer(containerID: listed.containerID, path: listed.path, netns: "",
                                unreadable: ErrorMapping.cniError(error, context: nil).msg)
            }
        }
    }

    /// Containers Multus (v3, v4) recorded in this cniDir: DEL, CHECK and GC still read them.
    public func multusRecords() -> [ContainerID] { MultusScratchCache(cniDir: cniDir).containerIDs() }

    /// The directory our attachment records live in.
    public var cacheDirectory: String { AttachmentCache(cniDir: cniDir).directory }
}
