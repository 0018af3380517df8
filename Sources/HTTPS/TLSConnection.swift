import CNI
import COpenSSL
import System

/// How to trust the server and prove who we are: the TLS half of a kubeconfig.
public struct TLSSettings: Sendable, Hashable {
    /// PEM CA bundle; nil trusts OpenSSL's default store (and only that).
    public var certificateAuthority: [UInt8]?
    public var insecureSkipVerify: Bool
    /// The name to verify and send as SNI: `tls-server-name`, else the server's host.
    public var serverName: String
    public var clientCertificate: [UInt8]?
    public var clientKey: [UInt8]?
    /// Where these settings come from (the kubeconfig's path), named in errors about them.
    public var origin: String?

    public init(certificateAuthority: [UInt8]? = nil, insecureSkipVerify: Bool = false, serverName: String,
                clientCertificate: [UInt8]? = nil, clientKey: [UInt8]? = nil, origin: String? = nil) {
        self.certificateAuthority = certificateAuthority
        self.insecureSkipVerify = insecureSkipVerify
        self.serverName = serverName
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.origin = origin
    }
}

/// One TLS 1.2+ connection over a non-blocking TCP socket; every wait is a poll bounded by the
/// caller's deadline, so a silent server costs at most that.
final class TLSConnection {
    private let socket: Socket
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    /// "https://host:port", for messages.
    let server: String
    private var closed = false
    /// Both outlive every OpenSSL callback that is handed them unretained (until close()).
    private let trust: TrustAnchors?
    private let keeper: SessionKeeper?
    /// OpenSSL's process-wide set-up, once (see cossl_init_lean).
    private static let initialized = cossl_init_lean() == 1

    /// Connects to the first address that accepts, then handshakes and verifies the server,
    /// resuming a session kept in `sessions` when there is one for these settings.
    /// - Throws: `.connect` (naming each address tried), `.tls` (naming why the certificate was refused).
    init(addresses: [SocketAddress], settings: TLSSettings, server: String, sessions: TLSSessionCache? = nil,
         deadline: ContinuousClock.Instant) throws(HTTPSError) {
        self.server = server
        // First, before anything else touches OpenSSL: any call would initialise it the costly way.
        guard Self.initialized else { throw .tls(server: server, reason: "cannot initialise OpenSSL: \(Self.opensslError())") }
        trust = settings.insecureSkipVerify ? nil : TrustAnchors(certificateAuthority: settings.certificateAuthority)
        socket = try Self.connect(addresses, server: server, deadline: deadline)
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            socket.close()
            throw .tls(server: server, reason: "cannot create a TLS context: \(Self.opensslError())")
        }
        self.context = context
        // After SSL_CTX_new, which has already fetched SHA-256 for the identity's digest.
        keeper = sessions.flatMap { cache in SessionIdentity(server: server, settings: settings).map { SessionKeeper(cache: cache, identity: $0) } }
        // The context must be complete before SSL_new: a session copies the verify mode and the
        // client identity from it when it is created, not later.
        let session: OpaquePointer?
        do throws(HTTPSError) {
            try Self.configure(context, settings, trust: trust, server: server)
            if keeper != nil {
                guard cossl_client_session_callback_only(context) == 1 else {
                    throw HTTPSError.tls(server: server, reason: "cannot set the session cache mode: \(Self.opensslError())")
                }
                SSL_CTX_sess_set_new_cb(context, keepNewSession)
            }
            session = SSL_new(context)
        } catch {
            SSL_CTX_free(context)
            socket.close()
            throw Self.inOrigin(error, settings)
        }
        guard let session else {
            SSL_CTX_free(context)
            socket.close()
            throw .tls(server: server, reason: "cannot create a TLS session: \(Self.opensslError())")
        }
        ssl = session
        do {
            if let keeper { try resumeKeptSession(keeper) }
            try configureSession(settings)
            try handshake(settings, deadline: deadline)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        SSL_free(ssl)
        SSL_CTX_free(context)
        socket.close()
    }

    // MARK: connecting

    private static func connect(_ addresses: [SocketAddress], server: String, deadline: ContinuousClock.Instant) throws(HTTPSError) -> Socket {
        var failures: [String] = []
        for address in addresses {
            do { return try Socket.connectTCP(address, deadline: deadline) } catch {
                switch error {
                case .failed(let failure): failures.append("\(address): \(failure.operation == "socket" ? "socket: " : "")\(failure.errno)")
                case .timedOut(let after): failures.append("\(address): \(after > .zero ? "timed out after \(after)" : "timed out")")
                }
                if ContinuousClock.now >= deadline { break }
            }
        }
        throw .connect(server: server, reason: failures.isEmpty ? "no address to connect to" : failures.joined(separator: "; "))
    }

    // MARK: TLS

    private static func configure(_ context: OpaquePointer, _ settings: TLSSettings, trust: TrustAnchors?, server: String) throws(HTTPSError) {
        guard cossl_set_min_tls12(context) == 1, cossl_mode_auto_retry(context) == 1 else {
            throw .tls(server: server, reason: "cannot require TLS 1.2 or set the context's mode: \(opensslError())")
        }
        if let trust {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            SSL_CTX_set_cert_verify_callback(context, verifyWithLazyTrust, Unmanaged.passUnretained(trust).toOpaque())
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        if let certificate = settings.clientCertificate {
            guard let key = settings.clientKey else { throw .tls(server: server, reason: "a client certificate needs a client key") }
            try useClientIdentity(context, certificate: certificate, key: key, server: server)
        }
    }

    /// Per-session settings: which name the certificate must carry, SNI, the socket.
    ///
    /// As client-go (Go's crypto/x509 VerifyHostname) checks a name: an IP literal against the
    /// IP SANs only, a hostname against the DNS SANs only. The subject's CN is never consulted,
    /// even when a certificate has no DNS SAN (Go dropped that fallback in 1.15), and a wildcard
    /// is a whole leftmost label matching exactly one label: `*.example.com` matches
    /// `a.example.com`, not `example.com` or `a.b.example.com`, and `f*.example.com` nothing.
    /// SNI carries hostnames only (RFC 6066). Every call's result is checked: a name that could
    /// not be set would otherwise leave the certificate unchecked against any name.
    private func configureSession(_ settings: TLSSettings) throws(HTTPSError) {
        let param = SSL_get0_param(ssl)
        if !settings.insecureSkipVerify {
            X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT))
        }
        if let ip = SocketAddress(literal: settings.serverName, port: 0) {
            if !settings.insecureSkipVerify, X509_VERIFY_PARAM_set1_ip(param, ip.bytes, ip.bytes.count) != 1 {
                throw .tls(server: server, reason: "cannot set the address to verify: \(Self.opensslError())")
            }
        } else {
            if !settings.insecureSkipVerify, SSL_set1_host(ssl, settings.serverName) != 1 {
                throw .tls(server: server, reason: "cannot set \(Echo.quoted(settings.serverName)) as the name to verify: \(Self.opensslError())")
            }
            guard cossl_set_tlsext_host_name(ssl, settings.serverName) == 1 else {
                throw .tls(server: server, reason: "cannot send \(Echo.quoted(settings.serverName)) as SNI: \(Self.opensslError())")
            }
        }
        guard SSL_set_fd(ssl, socket.descriptor.rawValue) == 1 else { throw .tls(server: server, reason: "cannot attach the socket: \(Self.opensslError())") }
    }

    /// Hands OpenSSL the session kept for these settings, if any, and the keeper that stores the
    /// next one. A kept session OpenSSL refuses only means a full handshake.
    private func resumeKeptSession(_ keeper: SessionKeeper) throws(HTTPSError) {
        guard cossl_set_app_data(ssl, Unmanaged.passUnretained(keeper).toOpaque()) == 1 else {
            throw .tls(server: server, reason: "cannot attach the session keeper: \(Self.opensslError())")
        }
        guard let kept = keeper.cache.load(identity: keeper.identity) else { return }
        if SSL_set_session(ssl, kept) != 1 { ERR_clear_error() }
        SSL_SESSION_free(kept)
    }

    private static func useClientIdentity(_ context: OpaquePointer, certificate pem: [UInt8], key keyPEM: [UInt8], server: String) throws(HTTPSError) {
        let chain = try certificates(pem, what: "client-certificate", server: server)
        guard let leaf = chain.first else { throw .tls(server: server, reason: "client-certificate holds no certificate") }
        defer { X509_free(leaf) }
        guard SSL_CTX_use_certificate(context, leaf) == 1 else {
            chain.dropFirst().forEach { X509_free($0) }
            throw .tls(server: server, reason: "client-certificate refused: \(opensslError())")
        }
        // The context owns intermediates added to the chain; one it refuses is still ours to free.
        var intermediates = chain.dropFirst()
        while let intermediate = intermediates.popFirst() {
            guard cossl_add_extra_chain_cert(context, intermediate) == 1 else {
                X509_free(intermediate)
                intermediates.forEach { X509_free($0) }
                throw .tls(server: server, reason: "client-certificate's chain refused: \(opensslError())")
            }
        }
        let key: OpaquePointer? = keyPEM.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw .tls(server: server, reason: "client-key is not a PEM private key: \(opensslError())") }
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw .tls(server: server, reason: "client-key does not match client-certificate: \(opensslError())")
        }
    }

    /// A TLS error about the settings themselves (a CA, certificate or key that cannot be used)
    /// names the file they came from.
    private static func inOrigin(_ error: HTTPSError, _ settings: TLSSettings) -> HTTPSError {
        guard case .tls(let server, let reason) = error, let origin = settings.origin else { return error }
        return .tls(server: server, reason: "\(reason) (in \(origin))")
    }

    /// Every certificate in a PEM bundle (at least one).
    private static func certificates(_ pem: [UInt8], what: String, server: String) throws(HTTPSError) -> [OpaquePointer] {
        let found = parseCertificates(pem)
        guard !found.isEmpty else { throw .tls(server: server, reason: "\(what) holds no PEM certificate") }
        return found
    }

    /// Every certificate in a PEM bundle, possibly none.
    static func parseCertificates(_ pem: [UInt8]) -> [OpaquePointer] {
        var found: [OpaquePointer] = []
        pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            defer { BIO_free(bio) }
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { found.append(certificate) }
        }
        ERR_clear_error()  // the loop ends on an expected "no start line"
        return found
    }

    private func handshake(_ settings: TLSSettings, deadline: ContinuousClock.Instant) throws(HTTPSError) {
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ: try wait(for: .readable, deadline: deadline, during: "the TLS handshake")
            case SSL_ERROR_WANT_WRITE: try wait(for: .writable, deadline: deadline, during: "the TLS handshake")
            default:
                if let problem = trust?.problem { throw Self.inOrigin(.tls(server: server, reason: problem), settings) }
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
                    throw .tls(server: server, reason: "server certificate refused for \"\(settings.serverName)\": \(String(cString: text))")
                }
                throw .tls(server: server, reason: "handshake failed: \(Self.opensslError(fallback: error))")
            }
        }
    }

    // MARK: I/O

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(HTTPSError) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = bytes.withUnsafeBytes { raw in raw.baseAddress.map { SSL_write(ssl, $0 + offset, Int32(raw.count - offset)) } ?? 0 }
            if n > 0 { offset += Int(n); continue }
            switch SSL_get_error(ssl, n) {
            case SSL_ERROR_WANT_READ: try wait(for: .readable, deadline: deadline, during: "sending the request")
            case SSL_ERROR_WANT_WRITE: try wait(for: .writable, deadline: deadline, during: "sending the request")
            default: throw .lostWhileSending(server: server, reason: Self.opensslError())
            }
        }
    }

    /// Up to `buffer.count` bytes; 0 at end of stream.
    func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws(HTTPSError) -> Int {
        while true {
            ERR_clear_error()
            let n = buffer.withUnsafeMutableBytes { raw in SSL_read(ssl, raw.baseAddress, Int32(raw.count)) }
            if n > 0 { return Int(n) }
            let error = SSL_get_error(ssl, n)
            switch error {
            case SSL_ERROR_WANT_READ: try wait(for: .readable, deadline: deadline, during: "waiting for the response")
            case SSL_ERROR_WANT_WRITE: try wait(for: .writable, deadline: deadline, during: "waiting for the response")
            case SSL_ERROR_ZERO_RETURN: return 0
            case SSL_ERROR_SYSCALL where ERR_peek_error() == 0: return 0  // closed without close_notify
            default: throw .connect(server: server, reason: "connection lost while reading: \(Self.opensslError(fallback: error))")
            }
        }
    }

    /// Waits for the socket to be ready, within the call's deadline.
    private func wait(for readiness: Readiness, deadline: ContinuousClock.Instant, during: String) throws(HTTPSError) {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw .timeout(server: server, call: during, after: .zero) }
        // A failed poll (it does not fail on a valid socket) leaves the next TLS call to report
        // the socket's state.
        guard (try? socket.wait(for: readiness, until: deadline)) != false else {
            throw .timeout(server: server, call: during, after: remaining)
        }
    }

    private static func opensslError(fallback: Int32 = 0) -> String {
        let code = ERR_get_error()
        guard code != 0 else { return fallback == SSL_ERROR_SYSCALL ? "connection closed by the server" : "OpenSSL error \(fallback)" }
        var buffer = [CChar](repeating: 0, count: 256)
        cossl_error_text(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

}


/// The trust anchors, put into the verifier's store only when a full handshake verifies a
/// server: a resumed session verifies nothing, and OpenSSL 3.0 spends more parsing one
/// certificate than on the rest of a resumed handshake.
final class TrustAnchors {
    /// PEM; nil trusts OpenSSL's default store.
    let certificateAuthority: [UInt8]?
    /// Why the anchors could not be loaded, for the handshake's error.
    private(set) var problem: String?
    private var loaded = false

    init(certificateAuthority: [UInt8]?) { self.certificateAuthority = certificateAuthority }

    func load(into store: OpaquePointer) -> Bool {
        if loaded { return problem == nil }
        loaded = true
        guard let certificateAuthority else { return X509_STORE_set_default_paths(store) == 1 }
        let certificates = TLSConnection.parseCertificates(certificateAuthority)
        defer { certificates.forEach { X509_free($0) } }
        guard !certificates.isEmpty else {
            problem = "certificate-authority holds no PEM certificate"
            return false
        }
        for certificate in certificates where X509_STORE_add_cert(store, certificate) != 1 {
            problem = "certificate-authority: a certificate could not be added to the trust store"
            return false
        }
        return true
    }
}

/// Replaces OpenSSL's chain verification: loads the trust anchors, then verifies as it would.
private let verifyWithLazyTrust: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { storeContext, argument in
    guard let storeContext, let argument else { return 0 }
    let trust = Unmanaged<TrustAnchors>.fromOpaque(argument).takeUnretainedValue()
    guard let store = X509_STORE_CTX_get0_store(storeContext), trust.load(into: store) else {
        X509_STORE_CTX_set_error(storeContext, X509_V_ERR_UNSPECIFIED)
        return 0
    }
    // 1 is verified; 0 is refused, and a negative value (an internal error) is refused too.
    return X509_verify_cert(storeContext) == 1 ? 1 : 0
}

/// Saves the first resumable session a connection is given (TLS 1.3 servers send two tickets).
final class SessionKeeper {
    let cache: TLSSessionCache
    let identity: SessionIdentity
    private var kept = false

    init(cache: TLSSessionCache, identity: SessionIdentity) {
        self.cache = cache
        self.identity = identity
    }

    func keep(_ session: OpaquePointer) {
        guard !kept else { return }
        kept = true
        cache.store(session, identity: identity)
    }
}

/// OpenSSL's new-session callback; returns 0: the session is written out, not retained.
private let keepNewSession: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let keeper = cossl_get_app_data(ssl) else { return 0 }
    Unmanaged<SessionKeeper>.fromOpaque(keeper).takeUnretainedValue().keep(session)
    return 0
}
