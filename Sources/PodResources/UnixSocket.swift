import System

/// A failed socket operation, worded for an error message that already names the socket.
struct SocketFailure: Error, Sendable {
    enum Kind: Sendable { case absent, timedOut, broken }

    var problem: String
    /// `.absent`: the socket file is not there (the node serves no pod-resources API).
    var kind = Kind.broken
}

/// The kubelet's socket: System's unix stream socket (non-blocking; every wait a poll bounded by
/// the caller's deadline, so a kubelet that accepts and then stalls costs at most that), with
/// its failures worded for the pod-resources error.
struct UnixSocket: ~Copyable {
    private let socket: Socket

    /// Connects to `path`. A full listen backlog (EAGAIN) is retried until `deadline`.
    init(connectingTo path: String, deadline: ContinuousClock.Instant) throws(SocketFailure) {
        guard path.utf8.count <= Socket.maximumUnixPathLength else {
            throw SocketFailure(problem: "the path is longer than a unix socket path may be (\(Socket.maximumUnixPathLength) bytes)")
        }
        do { socket = try Socket.connectUnix(path, deadline: deadline) } catch {
            throw SocketFailure(problem: "\(error.operation): \(error.errno)", kind: error.errno == .noSuchFileOrDirectory ? .absent : .broken)
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(SocketFailure) {
        var offset = 0
        while offset < bytes.count {
            let sent: Int?
            do { sent = try socket.send(UnsafeRawBufferPointer(rebasing: bytes[offset...])) } catch {
                throw SocketFailure(problem: "the kubelet closed the connection before the call completed (\(error.errno))")
            }
            if let sent, sent > 0 {
                offset += sent
            } else {
                try wait(for: .writable, deadline: deadline)
            }
        }
    }

    /// Reads what is there, waiting for something until `deadline`; 0 when the peer closed (or
    /// reset the connection).
    func read(into buffer: UnsafeMutableRawBufferPointer, deadline: ContinuousClock.Instant) throws(SocketFailure) -> Int {
        while true {
            let received: Int?
            do { received = try socket.receive(into: buffer) } catch {
                if error.errno == .connectionReset { return 0 }
                throw SocketFailure(problem: "read: \(error.errno)")
            }
            if let received { return received }
            try wait(for: .readable, deadline: deadline)
        }
    }

    private func wait(for readiness: Readiness, deadline: ContinuousClock.Instant) throws(SocketFailure) {
        let ready: Bool
        do { ready = try socket.wait(for: readiness, until: deadline) } catch { throw SocketFailure(problem: "poll: \(error.errno)") }
        guard ready else { throw SocketFailure(problem: "no answer before the deadline", kind: .timedOut) }
    }
}
