import CShims
import Glibc

/// One NETLINK_ROUTE socket in the calling thread's network namespace, bound to a port the
/// kernel chose and connected to the kernel, so it only receives the kernel's replies. Extended
/// acks (the kernel's own error text) are asked for where the kernel has them. What the
/// messages say is the caller's: this moves datagrams.
public final class NetlinkRouteSocket {
    private let fd: Int32

    /// Opens the socket; a receive that gets no reply within `timeoutSeconds` fails with EAGAIN.
    /// - Throws: `SystemError("open a NETLINK_ROUTE socket")`.
    public init(timeoutSeconds: Int32 = 10) throws(SystemError) {
        var port: UInt32 = 0
        fd = cshims_netlink_route_socket(&port, timeoutSeconds)
        guard fd >= 0 else { throw SystemError("open a NETLINK_ROUTE socket", errno: .current) }
    }

    deinit { _ = Glibc.close(fd) }

    /// Sends one message (whole: a partial send is EMSGSIZE).
    /// - Throws: `SystemError("send")`.
    public func send(_ message: [UInt8]) throws(SystemError) {
        let sent = message.withUnsafeBytes { raw in retryingInterrupts { Glibc.send(fd, raw.baseAddress, raw.count, 0) } }
        if sent == message.count { return }
        throw SystemError("send", errno: sent < 0 ? .current : .messageTooLong)
    }

    /// The next datagram, sized first with MSG_PEEK|MSG_TRUNC so that none is cut short.
    /// - Throws: `SystemError("recv")`; EAGAIN when no reply came within the timeout.
    public func receive() throws(SystemError) -> [UInt8] {
        var peek: UInt8 = 0
        let size = retryingInterrupts { recv(fd, &peek, 0, Int32(MSG_PEEK | MSG_TRUNC)) }
        guard size >= 0 else { throw SystemError("recv", errno: .current) }
        var datagram = [UInt8](repeating: 0, count: max(size, 16))
        let received = datagram.withUnsafeMutableBytes { raw in retryingInterrupts { recv(fd, raw.baseAddress, raw.count, 0) } }
        guard received >= 0 else { throw SystemError("recv", errno: .current) }
        return Array(datagram.prefix(received))
    }
}
