import COpenSSL
import System

/// TLS sessions kept on disk between invocations, so that the next process resumes the session
/// instead of repeating the full handshake.
///
/// Each CNI call is a new process with a new TLS handshake to the API server. A resumed
/// handshake skips the server's certificate and signature, which the client would otherwise
/// parse and verify. It also skips loading the CA (see `TrustAnchors`), and the server skips its
/// signature: a large part of a Kubernetes ADD's work (the benchmark shows how much).
///
/// - A resumed session is trusted as the full handshake that made it was, so the file is kept
///   as a secret: one file per server (`<digest of server and verified name>.session`) in a
///   0700 directory in cniDir, 0600, written by `Files.writeAtomically` (without fsync). Before use the
///   directory must be root's (this process's user's) and closed to others, and the file a
///   regular file of ours, closed to others, not a link (`Files.readOwn`); anything else
///   means a full handshake.
/// - Beside the session the file holds the digest of everything that decides whom we trust and
///   who we are (`SessionIdentity`: server, verified name, CA, client certificate and key,
///   skip-verify). A file made under another CA (rotated, or replaced in the kubeconfig) is
///   deleted unused, and the full handshake's session replaces it.
/// - A session not renewed within `lifetime` is stale: it is not used, and storing any session
///   sweeps stale ones (and temporary files of killed writes) from the directory.
/// - Everything is best effort. A missing, corrupt, expired or refused session means a full
///   handshake, and a file that cannot be written is simply not written.
public struct TLSSessionCache: Sendable {
    public let directory: String
    /// A kept session is a few hundred bytes; a file far larger is not one of ours.
    static let maximumSize = 64 << 10
    /// Longer than kube-apiserver's ticket key rotation (a day), so a node with pods keeps
    /// resuming; a node idle longer makes one full handshake.
    public static let lifetime = Duration.seconds(24 * 3600)
    /// What a file starts with: the format, then the identity's 32-byte digest, then the DER.
    static let magic = Array("swift-multus TLS session 2\n".utf8)

    public init(directory: String) { self.directory = directory }

    /// The session for `identity`, if one is kept for it, fresh, private and still parses.
    func load(identity: SessionIdentity, now: WallClockTime = .now()) -> OpaquePointer? {
        guard isPrivateDirectory() else { return nil }
        let path = path(identity)
        guard let (bytes, modified) = try? Files.readOwn(path, limit: Self.maximumSize) else { return nil }
        let header = Self.magic + identity.digest
        guard bytes.count > header.count, bytes.starts(with: header) else {
            _ = try? Files.remove(path)  // another CA, certificate or key: never to be resumed
            return nil
        }
        guard now.seconds - modified.seconds < Self.lifetime.components.seconds else { return nil }
        return bytes[header.count...].withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let session = d2i_SSL_SESSION(nil, &cursor, buffer.count)
            ERR_clear_error()
            return session
        }
    }

    /// Replaces the kept session for `identity`'s server, then sweeps stale files.
    func store(_ session: OpaquePointer, identity: SessionIdentity) {
        let length = i2d_SSL_SESSION(session, nil)
        guard length > 0, Int(length) <= Self.maximumSize else { return }
        var encoded = [UInt8](repeating: 0, count: Int(length))
        let written = encoded.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_SSL_SESSION(session, &cursor)
        }
        guard written == length else { return }
        let der = Self.withoutPeerCertificate(encoded) ?? encoded
        // The first call on a node may come before anything else made cniDir.
        guard (try? Files.makeDirectories(directory, permissions: 0o700)) != nil, isPrivateDirectory() else { return }
        // Unsynced: a session lost or emptied by a crash only means one full handshake.
        try? Files.writeAtomically(Self.magic + identity.digest + der, to: path(identity), permissions: 0o600, durability: .unsynced)
        sweep()
    }

    /// Removes sessions older than `lifetime` and leftover temporary files.
    func sweep(now: WallClockTime = .now()) {
        TemporaryFile.sweep(directory)
        guard let names = try? Files.list(directory) else { return }
        for name in names where name.hasSuffix(".session") {
            let path = directory + "/" + name
            guard let status = try? Files.linkStatus(path), now.seconds - status.modified.seconds >= Self.lifetime.components.seconds else { continue }
            _ = try? Files.remove(path)
        }
    }

    /// The directory is ours and closed to others: nobody else could have placed or swapped a file.
    private func isPrivateDirectory() -> Bool {
        guard let status = try? Files.linkStatus(directory) else { return false }
        return status.kind == .directory && status.isPrivateToThisUser
    }

    func path(_ identity: SessionIdentity) -> String { "\(directory)/\(identity.fileName)" }

    /// The session without the server's certificate, which resuming never looks at but which
    /// reading the file would parse: in OpenSSL 3.0, decoding its public key is much of a
    /// resumed handshake's cost.
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

/// What a kept session is for: its file (one per server and verified name) and the digest of
/// everything that decides whom we trust and who we are.
struct SessionIdentity: Sendable {
    let fileName: String
    let digest: [UInt8]

    /// nil when OpenSSL cannot digest (then nothing is cached).
    init?(server: String, settings: TLSSettings) {
        var endpoint: [UInt8] = []
        Self.add(Array(server.utf8), to: &endpoint)
        Self.add(Array(settings.serverName.utf8), to: &endpoint)
        var material = endpoint
        Self.add(settings.certificateAuthority, to: &material)
        Self.add(settings.clientCertificate, to: &material)
        Self.add(settings.clientKey, to: &material)
        Self.add([settings.insecureSkipVerify ? 1 : 0], to: &material)
        guard let name = Self.sha256(endpoint), let digest = Self.sha256(material) else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        fileName = String(decoding: name.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, as: UTF8.self) + ".session"
        self.digest = digest
    }

    /// Length-prefixed, so that no two different inputs run together alike.
    private static func add(_ part: [UInt8]?, to material: inout [UInt8]) {
        let bytes = part ?? []
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { material += $0 }
        material += bytes
    }

    private static func sha256(_ bytes: [UInt8]) -> [UInt8]? {
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        let done = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &size, EVP_sha256(), nil) }
        return done == 1 && size == 32 ? digest : nil
    }
}
