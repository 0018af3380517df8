import Glibc

/// A connected, non-blocking, close-on-exec socket: TCP (the API server, DNS over TCP), UDP
/// (DNS) or a unix stream (the kubelet's pod-resources API). Every wait is a poll bounded by the
/// caller's deadline, so a peer that accepts and then stalls costs at most that. Closed when
/// the last reference goes, or by `close()`.
public final class Socket {
    public let descriptor: FileDescriptor
    private var closed = false

    private init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        descriptor.close()
    }

    /// Why a TCP connection could not be made.
    public enum ConnectError: Error, Hashable, Sendable {
        /// A call failed: "socket", "connect" (the kernel's answer, such as ECONNREFUSED), "poll".
        case failed(SystemError)
        /// The deadline passed first; `after` is how long was left when the wait began.
        case timedOut(after: Duration)
    }

    /// A TCP connection to `address` (with TCP_NODELAY: requests are written whole), made by
    /// `deadline`.
    public static func connectTCP(_ address: SocketAddress, deadline: ContinuousClock.Instant) throws(ConnectError) -> Socket {
        let socket: Socket
        do { socket = try open(address.family.domain, SOCK_STREAM) } catch { throw .failed(error) }
        var one: Int32 = 1
        _ = setsockopt(socket.descriptor.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let started = address.withSockaddr { Glibc.connect(socket.descriptor.rawValue, $0, $1) }
        if started == 0 { return socket }
        guard Glibc.errno == EINPROGRESS || Glibc.errno == EINTR else { throw .failed(SystemError("connect", errno: .current)) }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let connected: Bool
        do { connected = try socket.wait(for: .writable, until: deadline) } catch { throw .failed(error) }
        guard connected else { throw .timedOut(after: max(remaining, .zero)) }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket.descriptor.rawValue, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
            throw .failed(SystemError("getsockopt", errno: .current))
        }
        guard error == 0 else { throw .failed(SystemError("connect", errno: Errno(rawValue: error))) }
        return socket
    }

    /// A UDP socket connected to `address`: the kernel drops datagrams from anyone else and
    /// reports ICMP refusals to the next receive.
    /// - Throws: `SystemError` "socket" or "connect".
    public static func connectUDP(_ address: SocketAddress) throws(SystemError) -> Socket {
        let socket = try open(address.family.domain, SOCK_DGRAM)
        guard address.withSockaddr({ Glibc.connect(socket.descriptor.rawValue, $0, $1) }) == 0 else {
            throw SystemError("connect", errno: .current)
        }
        return socket
    }

    /// The longest path a unix socket address holds (`sun_path` less its terminating NUL).
    public static let maximumUnixPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// A unix stream connection to the socket file at `path`. A full listen backlog (EAGAIN)
    /// is retried every millisecond until `deadline`, since a non-blocking unix connect cannot be
    /// waited for with poll.
    /// - Throws: `SystemError` "socket" or "connect" (ENOENT when there is no socket file;
    ///   ENAMETOOLONG for a path longer than `maximumUnixPathLength`).
    public static func connectUnix(_ path: String, deadline: ContinuousClock.Instant) throws(SystemError) -> Socket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count <= maximumUnixPathLength else { throw SystemError("connect", errno: Errno(rawValue: ENAMETOOLONG), path: path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let socket = try open(AF_UNIX, SOCK_STREAM)
        while true {
            let result = retryingInterrupts {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(socket.descriptor.rawValue, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
            if result == 0 { return socket }
            let error = Errno.current
            guard error == .resourceTemporarilyUnavailable, ContinuousClock.now < deadline else {
                throw SystemError("connect", errno: error, path: path)
            }
            Clock.sleep(for: .milliseconds(1))
        }
    }

    private static func open(_ domain: Int32, _ type: __socket_type) throws(SystemError) -> Socket {
        let flags = Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(domain, flags, 0)
        guard fd >= 0 else { throw SystemError("socket", errno: .current) }
        return Socket(FileDescriptor(rawValue: fd))
    }

    /// Sends what the socket takes now, without SIGPIPE if the peer has gone.
    /// - Returns: the bytes sent, or nil when the socket cannot take any now (wait for `.writable`).
    /// - Throws: `SystemError("send")`: EPIPE or ECONNRESET once the peer has gone.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        try Self.outcome("send", retryingInterrupts { Glibc.send(descriptor.rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) })
    }

    /// Sends what the socket takes now of `bytes[offset...]` (see `send(_:)`).
    public func send(_ bytes: [UInt8], from offset: Int = 0) throws(SystemError) -> Int? {
        let fd = descriptor.rawValue
        let count = bytes.withUnsafeBytes { raw in
            retryingInterrupts { Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL)) }
        }
        return try Self.outcome("send", count)
    }

    /// Receives what has arrived, up to `buffer.count` bytes (one datagram for UDP).
    /// - Returns: the bytes received (0 when a stream's peer closed), or nil when nothing has
    ///   arrived yet (wait for `.readable`).
    /// - Throws: `SystemError("recv")`.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try Self.outcome("recv", retryingInterrupts { recv(descriptor.rawValue, buffer.baseAddress, buffer.count, 0) })
    }

    /// Receives into `buffer[offset...]` (see `receive(into:)`).
    public func receive(into buffer: inout [UInt8], at offset: Int = 0) throws(SystemError) -> Int? {
        let fd = descriptor.rawValue
        let count = buffer.withUnsafeMutableBytes { raw in
            retryingInterrupts { recv(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, 0) }
        }
        return try Self.outcome("recv", count)
    }

    /// A count, nil for EAGAIN (nothing now), or the call's error.
    private static func outcome(_ call: String, _ count: Int) throws(SystemError) -> Int? {
        if count >= 0 { return count }
        if Glibc.errno == EAGAIN { return nil }
        throw SystemError(call, errno: .current)
    }

    /// Waits until the socket is ready (errors and hang-ups count: the next call reports them).
    /// - Returns: false when `deadline` passed first.
    /// - Throws: `SystemError("poll")`, which does not happen for a valid socket.
    public func wait(for readiness: Readiness, until deadline: ContinuousClock.Instant) throws(SystemError) -> Bool {
        try Poll.wait(descriptor, for: readiness, until: deadline)
    }
}
