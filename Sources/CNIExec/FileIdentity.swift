import Glibc

/// A file as the kernel knows it: its device and inode. Every path to one binary (a symlink, a
/// hard link, a bind mount) has the same identity, whatever it is called.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    /// The identity of the file `path` names, symlinks followed (`/proc/self/exe` names the
    /// running executable); nil when it cannot be stat'ed.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
