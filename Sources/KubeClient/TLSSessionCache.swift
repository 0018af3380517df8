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
    /// A kept session is a few hundred bytes; a file far larger is not one of ours.
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
        var encoded = [UInt8](repeating: 0, count: Int(length))
        let written = encoded.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_SSL_SESSION(session, &cursor)
        }
        guard written == length else { return }
        let bytes = Self.withoutPeerCertificate(encoded) ?? encoded
        // The first call on a node may come before anything else made cniDir.
        guard (try? Platform.makeDirectories(directory, mode: 0o700)) != nil else { return }
        let target = path(identity)
        let temporary = "\(target).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let complete = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
        close(fd)
        if !complete || rename(temporary, target) != 0 { unlink(temporary) }
    }

    private func path(_ identity: SessionIdentity) -> String { "\(directory)/\(identity.hex).session" }

    /// The session without the server's certificate, which resuming never looks at but which
    /// reading the file would parse: in OpenSSL 3.0 that is half of a resumed handshake's cost
    /// (2.4M instructions, for decoding its public key).
    ///
    /// OpenSSL writes a session as a DER SEQUENCE whose optional field `[3] EXPLICIT Certificate`
    /// holds it (ssl/ssl_asn1.c, unchanged since 1.1.0). That element is dropped and the SEQUENCE
    /// re-framed. Anything unexpected returns nil, and the session is kept whole.
    static func withoutPeerCertificate(_ der: [UInt8]) -> [UInt8]? {
        /// (start of the value, its length) of the TLV at `offset`, single-byte tags only.
        func element(at offset: Int) -> (tag: UInt8, value: Int, length: Int)? {
            guard offset + 2 <= der.count, der[offset] & 0x1F != 0x1F else { return nil }
            let first = Int(der[offset + 1])
            if first < 0x80 { return offset + 2 + first <= der.count ? (der[offset], offset + 2, first) : nil }
            let count = first & 0x7F
            guard (1...3).contains(count), offset + 2 + count <= der.count else { return nil }
            let length = der[(offset + 2)..<(offset + 2 + count)].reduce(0) { $0 << 8 | Int($1) }
            return offset + 2 + count + length <= der.count ? (der[offset], offset + 2 + count, length) : nil
        }
        guard let outer = element(at: 0), outer.tag == 0x30, outer.value + outer.length == der.count else { return nil }
        var contents: [UInt8] = []
        var offset = outer.value
        var dropped = false
        while offset < der.count {
            guard let field = element(at: offset) else { return nil }
            let end = field.value + field.length
            if field.tag == 0xA3 { dropped = true } else { contents += der[offset..<end] }
            offset = end
        }
        guard dropped else { return nil }
        var framed: [UInt8] = [0x30]
        switch contents.count {
        case ..<0x80: framed.append(UInt8(contents.count))
        case ..<0x100: framed += [0x81, UInt8(contents.count)]
        default: framed += [0x82, UInt8(contents.count >> 8), UInt8(contents.count & 0xFF)]
        }
        return contents.count < 0x10000 ? framed + contents : nil
    }
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
        let digits = Array("0123456789abcdef".utf8)
        hex = String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self)
    }
}
