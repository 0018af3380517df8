import DNS

/// Why an HTTPS exchange failed, each case naming the server (and the call, once one is under
/// way). The words are those an operator reads in the plugin's error; the caller adds what the
/// call was for.
public enum HTTPSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server's name did not resolve.
    case resolve(ResolveError)
    /// No connection: refused, reset, unreachable, timed out while connecting, or lost while
    /// reading the answer.
    case connect(server: String, reason: String)
    /// A kept-alive connection the server had closed while idle: not one byte of the answer
    /// came back, so the request never reached it.
    case closedBeforeAnswer(server: String)
    /// The connection broke while the request was being sent.
    case lostWhileSending(server: String, reason: String)
    /// The TLS handshake failed (certificate not trusted, name mismatch, protocol).
    case tls(server: String, reason: String)
    /// The answer broke HTTP/1.1 framing or one of the reader's limits.
    case malformedResponse(server: String, call: String, reason: String)
    /// The call ran out of time.
    case timeout(server: String, call: String, after: Duration)

    public var description: String {
        switch self {
        case .resolve(let error): error.description
        case .connect(let server, let reason): "cannot connect to \(server): \(reason)"
        case .closedBeforeAnswer(let server): "cannot connect to \(server): \(Self.closedBeforeAnswerReason)"
        case .lostWhileSending(let server, let reason): "cannot connect to \(server): \(Self.lostWhileSendingReason)\(reason)"
        case .tls(let server, let reason): "TLS with \(server) failed: \(reason)"
        case .malformedResponse(let server, let call, let reason): "\(call) on \(server): bad response: \(reason)"
        case .timeout(let server, let call, let after): "\(call) on \(server): no answer within \(after)"
        }
    }

    /// How `.closedBeforeAnswer` reads, after "cannot connect to <server>: ".
    public static let closedBeforeAnswerReason = "connection closed by the server before answering"
    /// How `.lostWhileSending` begins, after "cannot connect to <server>: ".
    public static let lostWhileSendingReason = "connection lost while sending: "

    /// A kept-alive connection that was already dead: the request did not reach the server, so
    /// sending it again on a new connection cannot do anything twice.
    var isStaleConnection: Bool {
        switch self {
        case .closedBeforeAnswer, .lostWhileSending: true
        default: false
        }
    }
}
