import Glibc

/// What stat(2) says about a file: the parts we decide on.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case regular, directory, symbolicLink, other }

    public var kind: Kind
    public var identity: FileIdentity
    public var size: Int
    public var modified: WallClockTime
    /// The owner's user ID.
    public var owner: UInt32
    /// The permission bits (and set-id and sticky bits): `mode & 0o7777`.
    public var permissions: UInt32

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        size = Int(info.st_size)
        modified = WallClockTime(info.st_mtim)
        owner = UInt32(info.st_uid)
        permissions = UInt32(info.st_mode) & 0o7777
    }

    /// Whether only this process's user could have written it or can read it: owned by the
    /// effective user, and no permission for group or others.
    public var isPrivateToThisUser: Bool { owner == geteuid() && permissions & 0o077 == 0 }
}

/// A file as the kernel knows it: its device and inode. Every path to one file (a symlink, a
/// hard link, a bind mount) has the same identity, whatever it is called.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The identity of the file `path` names, symlinks followed (`/proc/self/exe` names the
    /// running executable); nil when it cannot be stat'ed.
    public init?(path: String) {
        guard let status = try? Files.status(path) else { return nil }
        self = status.identity
    }
}
