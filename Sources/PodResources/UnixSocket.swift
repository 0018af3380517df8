import Glibc

/// A failed socket operation, worded for an error message that already names the socket.
struct SocketFailure: Error, Sendable {
    enum Kind: Sendable { case absent, timedOut, broken }

    var problem: String
    /// `.absent`: the socket file is not there (the node serves no pod-resources API).
    var kind = Kind.broken
}

/// A non-blocking connected unix stream socket; every wait is a poll bounded by the caller's
/// deadline, so a kubelet that accepts and then stalls costs at most that.
struct UnixSocket: ~Copyable {
    let fd: Int32

    /// Connects to `path`. A full listen backlog (EAGAIN) is retried until `deadline`, since a
    /// non-blocking unix connect cannot be waited for with poll.
    init(connectingTo path: String, deadline: ContinuousClock.Instant) throws(SocketFailure) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw SocketFailure(problem: "the path is longer than a unix socket path may be (\(capacity - 1) bytes)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketFailure(problem: "socket: \(Self.describe(errno))") }
        while true {
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if result == 0 { break }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN, ContinuousClock.now < deadline {
                usleep(1000)
                continue
            }
            close(fd)
            throw SocketFailure(problem: "connect: \(Self.describe(error))", kind: error == ENOENT ? .absent : .broken)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(SocketFailure) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 { offset += n; continue }
            let error = errno
            if error == EINTR { continue }
            guard error == EAGAIN else { throw SocketFailure(problem: "the kubelet closed the connection before the call completed (\(Self.describe(error)))") }
            try wait(for: POLLOUT, deadline: deadline)
        }
    }

    /// Reads what is there, waiting for something until `deadline`; 0 when the peer closed.
    func read(into buffer: UnsafeMutableRawBufferPointer, deadline: ContinuousClock.Instant) throws(SocketFailure) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            let error = errno
            if error == EINTR { continue }
            if error == ECONNRESET { return 0 }
            guard error == EAGAIN else { throw SocketFailure(problem: "read: \(Self.describe(error))") }
            try wait(for: POLLIN, deadline: deadline)
        }
    }

    private func wait(for event: Int32, deadline: ContinuousClock.Instant) throws(SocketFailure) {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw SocketFailure(problem: "no answer before the deadline", kind: .timedOut) }
            var fds = [pollfd(fd: fd, events: Int16(event), revents: 0)]
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw SocketFailure(problem: "poll: \(Self.describe(errno))") }
        }
    }

    static func describe(_ error: Int32) -> String {
        guard let text = strerror(error) else { return "errno \(error)" }
        return String(cString: text)
    }
}
