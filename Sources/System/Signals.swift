import CShims
import Glibc

/// Signals this program sends or sets aside.
public enum Signals {
    public static var kill: Int32 { SIGKILL }
    public static var terminate: Int32 { SIGTERM }

    /// A child that exits before reading its stdin must not kill us with SIGPIPE: ignored for
    /// this process (children get the default back, see `ProcessSpawner`).
    public static func ignoreBrokenPipe() { signal(SIGPIPE, SIG_IGN) }

    /// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts later) and
    /// returns a descriptor that polls readable when one arrives (signalfd): a program that must
    /// stop cleanly learns of it in its poll loop, never in a handler.
    /// - Throws: `SystemError("block SIGTERM and SIGINT", path: "signalfd")`.
    public static func terminationDescriptor() throws(SystemError) -> FileDescriptor {
        let fd = cshims_termination_signalfd()
        guard fd >= 0 else { throw SystemError("block SIGTERM and SIGINT", errno: .current, path: "signalfd") }
        return FileDescriptor(rawValue: fd)
    }
}
