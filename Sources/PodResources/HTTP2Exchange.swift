import CNGHTTP2

/// A request to send: a POST to `path` (all gRPC needs).
struct HTTP2Request {
    var path: String
    /// Regular header fields, after the pseudo-headers.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

struct HTTP2Response {
    var status: Int?
    /// Header fields and trailer fields together (gRPC may send its status in either).
    var fields: [String: String] = [:]
    var body: [UInt8] = []
}

/// Why an exchange failed, worded for an error message that already names the socket.
typealias HTTP2Failure = SocketFailure

/// What the nghttp2 callbacks fill in. Reached through the session's user data; lives for one
/// exchange on one thread.
private final class ExchangeState {
    var streamID: Int32 = -1
    var request: [UInt8]
    var sent = 0
    var response = HTTP2Response()
    let bodyLimit: Int
    var bodyTooLarge = false
    /// nil while the stream is open; the HTTP/2 error code it closed with after.
    var closedWith: UInt32?
    /// The error code of the kubelet's GOAWAY, if it sent one.
    var peerWentAway: UInt32?

    init(request: [UInt8], bodyLimit: Int) {
        self.request = request
        self.bodyLimit = bodyLimit
    }

    static func of(_ pointer: UnsafeMutableRawPointer?) -> ExchangeState? {
        pointer.map { Unmanaged<ExchangeState>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// One HTTP/2 request and its response, over a connection made for it alone (prior knowledge,
/// cleartext: what gRPC does on a unix socket). nghttp2 does the framing, HPACK and flow control;
/// this moves bytes between it and the socket, under one deadline.
enum HTTP2Exchange {
    /// Our receive window: the whole of the largest response we accept, so the kubelet is never
    /// held up waiting for a WINDOW_UPDATE.
    static let receiveWindow: Int32 = 1 << 24

    /// Sends `request` over a new connection to the unix socket `path` and reads the response
    /// until its stream closes.
    /// - Throws: `HTTP2Failure` when the socket cannot be reached, the peer breaks the protocol
    ///   or closes early, the body exceeds `bodyLimit`, or `deadline` passes.
    static func perform(_ request: HTTP2Request, socket path: String, bodyLimit: Int,
                        deadline: ContinuousClock.Instant) throws(HTTP2Failure) -> HTTP2Response {
        let socket = try UnixSocket(connectingTo: path, deadline: deadline)
        let state = ExchangeState(request: request.body, bodyLimit: bodyLimit)
        let session = try makeSession(state)
        // The session holds `state` unretained; it must outlive the session.
        defer { withExtendedLifetime(state) { nghttp2_session_del(session) } }
        try submit(request, session: session, state: state)
        try run(session, state: state, socket: socket, deadline: deadline)
        if let code = state.closedWith, code != 0 {
            throw HTTP2Failure(problem: "the kubelet reset the call (HTTP/2 error \(String(cString: nghttp2_http2_strerror(code))))")
        }
        return state.response
    }

    private static func makeSession(_ state: ExchangeState) throws(HTTP2Failure) -> OpaquePointer {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { throw HTTP2Failure(problem: "out of memory") }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onData)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrame)
        var session: OpaquePointer?
        guard nghttp2_session_client_new(&session, callbacks, Unmanaged.passUnretained(state).toOpaque()) == 0, let session else {
            throw HTTP2Failure(problem: "out of memory")
        }
        return session
    }

    private static func submit(_ request: HTTP2Request, session: OpaquePointer, state: ExchangeState) throws(HTTP2Failure) {
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(receiveWindow)),
        ]
        guard nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count) == 0,
              nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, receiveWindow) == 0
        else { throw HTTP2Failure(problem: "nghttp2 refused the connection settings") }
        let fields = [(":method", "POST"), (":scheme", "http"), (":path", request.path), (":authority", "localhost")] + request.headers
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readBody)
        let streamID = withHeaderFields(fields) { nva in
            nghttp2_submit_request(session, nil, nva.baseAddress, nva.count, &provider, nil)
        }
        guard streamID > 0 else { throw HTTP2Failure(problem: "nghttp2 refused the request: \(String(cString: nghttp2_strerror(streamID)))") }
        state.streamID = streamID
    }

    /// Sends what nghttp2 has queued, feeds it what arrives, until our stream closes.
    private static func run(_ session: OpaquePointer, state: ExchangeState, socket: borrowing UnixSocket,
                            deadline: ContinuousClock.Instant) throws(HTTP2Failure) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        var firstRead = true
        while state.closedWith == nil {
            try flush(session, socket: socket, deadline: deadline)
            guard state.closedWith == nil else { break }
            try expectSessionOpen(session, state: state)
            let count = try socket.read(into: buffer, deadline: deadline)
            guard count > 0 else { throw HTTP2Failure(problem: "the kubelet closed the connection before the call completed") }
            if firstRead, count > 3, buffer[3] != UInt8(NGHTTP2_SETTINGS.rawValue) {
                // nghttp2 would skip an unknown frame type and wait for its length in bytes.
                throw HTTP2Failure(problem: "the kubelet broke the HTTP/2 protocol: its first frame is not SETTINGS (is it an HTTP/2 server?)")
            }
            firstRead = false
            let consumed = nghttp2_session_mem_recv(session, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count)
            if state.bodyTooLarge {
                throw HTTP2Failure(problem: "the response exceeds the limit of \(state.bodyLimit) bytes")
            }
            guard consumed >= 0 else {
                throw HTTP2Failure(problem: "the kubelet broke the HTTP/2 protocol: \(String(cString: nghttp2_strerror(Int32(consumed))))")
            }
            // Checked before the next flush: a session nghttp2 ended for a protocol error queues
            // a GOAWAY, which a peer that is not speaking HTTP/2 has usually hung up on already.
            if state.closedWith == nil { try expectSessionOpen(session, state: state) }
        }
    }

    /// Fails when the session has ended before our stream did: the kubelet sent GOAWAY, or
    /// nghttp2 ended it because what came was not HTTP/2.
    private static func expectSessionOpen(_ session: OpaquePointer, state: ExchangeState) throws(HTTP2Failure) {
        guard nghttp2_session_want_read(session) == 0 else { return }
        if let code = state.peerWentAway {
            throw HTTP2Failure(problem: "the kubelet ended the connection (GOAWAY, \(String(cString: nghttp2_http2_strerror(code)))) before answering")
        }
        throw HTTP2Failure(problem: "the kubelet broke the HTTP/2 protocol (is it an HTTP/2 server?)")
    }

    private static func flush(_ session: OpaquePointer, socket: borrowing UnixSocket, deadline: ContinuousClock.Instant) throws(HTTP2Failure) {
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            guard count >= 0 else { throw HTTP2Failure(problem: "nghttp2: \(String(cString: nghttp2_strerror(Int32(count))))") }
            guard count > 0, let data else { return }
            try socket.write(UnsafeRawBufferPointer(start: data, count: count), deadline: deadline)
        }
    }

    /// `nghttp2_nv` for each field, valid during `body` (nghttp2 copies them while submitting).
    private static func withHeaderFields<R>(_ fields: [(String, String)], _ body: (UnsafeBufferPointer<nghttp2_nv>) -> R) -> R {
        var copies: [UnsafeMutableBufferPointer<UInt8>] = []
        defer { copies.forEach { $0.deallocate() } }
        func copy(_ text: String) -> (UnsafeMutablePointer<UInt8>?, Int) {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, text.utf8.count))
            _ = buffer.initialize(from: text.utf8)
            copies.append(buffer)
            return (buffer.baseAddress, text.utf8.count)
        }
        let nva = fields.map { field in
            let (name, nameLength) = copy(field.0)
            let (value, valueLength) = copy(field.1)
            return nghttp2_nv(name: name, value: value, namelen: nameLength, valuelen: valueLength, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        return nva.withUnsafeBufferPointer(body)
    }
}

// MARK: - nghttp2 callbacks (C function pointers: no captures, state through user data)

private let onHeader: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, _, userData in
    guard let state = ExchangeState.of(userData), let frame, let name, let value, frame.pointee.hd.stream_id == state.streamID else { return 0 }
    let key = String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self)
    let text = String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
    if key == ":status" { state.response.status = Int(text) } else { state.response.fields[key] = text }
    return 0
}

private let onData: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, length, userData in
    guard let state = ExchangeState.of(userData), streamID == state.streamID, let data else { return 0 }
    guard state.response.body.count + length <= state.bodyLimit else {
        state.bodyTooLarge = true
        return Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
    }
    state.response.body.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
    return 0
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
    guard let state = ExchangeState.of(userData), streamID == state.streamID else { return 0 }
    state.closedWith = errorCode
    return 0
}

private let onFrame: nghttp2_on_frame_recv_callback = { _, frame, userData in
    guard let state = ExchangeState.of(userData), let frame, frame.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) else { return 0 }
    state.peerWentAway = frame.pointee.goaway.error_code
    return 0
}

private let readBody: nghttp2_data_source_read_callback = { _, _, buffer, length, flags, _, userData in
    guard let state = ExchangeState.of(userData), let buffer, let flags else {
        return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
    }
    let count = min(length, state.request.count - state.sent)
    state.request.withUnsafeBytes { raw in
        if count > 0, let base = raw.baseAddress { buffer.update(from: base.assumingMemoryBound(to: UInt8.self) + state.sent, count: count) }
    }
    state.sent += count
    if state.sent == state.request.count { flags.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue) }
    return count
}
