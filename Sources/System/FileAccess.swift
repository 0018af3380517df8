import Glibc

extension Files {
    /// Whether this process may write `path` (access(2) with W_OK): for a directory, create files
    /// in it. A read-only mount answers false even to root.
    public static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }
}
