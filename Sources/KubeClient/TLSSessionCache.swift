import CNI
import COpenSSL
import Glibc

/// TLS sessions kept on disk between invocations, so that the next process resumes the session
/// instead of repeating the full handshake.
///
/// Each CNI call is a new process with a new TLS handshake to the API server. A resumed
/// handshake skips the server's certificate and signature, which the client would otherwise
/// parse and verify. It also skips loading the CA (see `TrustAnchors`), and the server skips its
/// signature. That is about a fifth of a Kubernetes ADD's instructions.
///
/// - A session is kept per identity: server, verified name, CA, client certificate and key, and
///   the skip-verify flag. Changing any of them (a rotated CA, a new client certificate) starts
///   a new, fully verified session.
/// - A session resumes the identity it was made with. With client certificates, that makes the
///   file as sensitive as the key, so files are 0600 in a 0700 directory (in cniDir, root's).
/// - Everything is best effort. A missing, corrupt, expired or refused session means a full
///   handshake, and a file that cannot be written is simply not written.
public struct TLSSessionCache: Sendable {
    public let directory: String
    /// A serialized session is a few KiB (the server's certificate is in it).
    static let maximumSize = 64 << 10

    public init(directory: String) { self.directory = directory }

    /// The session for `identity`, if one is kept and still parses.
    func load(identity: SessionIdentity) -> OpaquePointer? {
        guard let bytes = try? Platform.readFile(path(identity), limit: Self.maximumSize), !bytes.isEmpty else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let session = d2i_SSL_SESSION(nil, &cursor, buffer.count)
            ERR_clear_error()
            return session
        }
    }

    /// Replaces the kept session for `identity`: a new file renamed over the old one.
    func store(_ session: OpaquePointer, identity: SessionIdentity) {
        let length = i2d_SSL_SESSION(session, nil)
        guard length > 0, Int(length) <= Self.maximumSize else { return }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_SSL_SESSION(session, &cursor)
        }
        guard written == length else { return }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { return }
        let target = path(identity)
        let temporary = "\(target).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let complete = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
        close(fd)
        if !complete || rename(temporary, target) != 0 { unlink(temporary) }
    }

    private func path(_ identity: SessionIdentity) -> String { "\(directory)/\(identity.hex).session" }
}

/// What a kept session is valid for: the SHA-256 of everything that decides whom we trust and
/// who we are.
struct SessionIdentity: Sendable {
    let hex: String

    init(server: String, settings: TLSSettings) {
        var material: [UInt8] = []
        func add(_ part: [UInt8]?) {
            let bytes = part ?? []
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { material += $0 }
            material += bytes
        }
        add(Array(server.utf8))
        add(Array(settings.serverName.utf8))
        add(settings.certificateAuthority)
        add(settings.clientCertificate)
        add(settings.clientKey)
        add([settings.insecureSkipVerify ? 1 : 0])
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        _ = material.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &size, EVP_sha256(), nil) }
        hex = digest.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }
}
