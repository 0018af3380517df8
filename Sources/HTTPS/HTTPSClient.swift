import CNI
import DNS
import System
/// An HTTP/1.1 request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// HTTP/1.1 over one kept-alive TLS connection: every call of one plugin invocation reuses it.
/// Responses are read by `HTTPResponseReader`, within the limits and the deadline it keeps.
public final class HTTPSClient {
    public let server: ServerAddress
    private let settings: TLSSettings
    private let resolver: HostResolver
    private let sessions: TLSSessionCache?
    private var connection: TLSConnection?
    private var reader: HTTPResponseReader

    public init(server: ServerAddress, settings: TLSSettings, resolver: HostResolver, sessions: TLSSessionCache? = nil) {
        self.server = server
        self.settings = settings
        self.resolver = resolver
        self.sessions = sessions
        reader = HTTPResponseReader(server: server.description)
    }

    /// Sends `request` and reads the whole response. A kept-alive connection the server already
    /// closed is replaced once, transparently, if nothing of the response had arrived.
    public func send(_ request: HTTPRequest, deadline: ContinuousClock.Instant, call: String) throws(HTTPSError) -> HTTPResponse {
        let reused = connection != nil
        do {
            return try exchange(request, deadline: deadline, call: call)
        } catch where reused && error.isStaleConnection {
            disconnect()
            return try exchange(request, deadline: deadline, call: call)
        }
    }

    public func disconnect() {
        connection?.close()
        connection = nil
        reader.reset()
    }

    private func exchange(_ request: HTTPRequest, deadline: ContinuousClock.Instant, call: String) throws(HTTPSError) -> HTTPResponse {
        let connection = try connected(deadline: deadline)
        do {
            try connection.write(encode(request), deadline: deadline)
            let (response, framing) = try reader.read(from: connection, method: request.method, deadline: deadline, call: call)
            if framing == .untilClose || response.header("connection")?.lowercased() == "close" { disconnect() }
            return response
        } catch {
            disconnect()
            throw error
        }
    }

    private func connected(deadline: ContinuousClock.Instant) throws(HTTPSError) -> TLSConnection {
        if let connection { return connection }
        guard server.scheme == "https" else {
            throw .connect(server: server.description, reason: "only https servers are supported (the kubeconfig says \(server.scheme))")
        }
        let addresses: [SocketAddress]
        do { addresses = try resolver.resolve(server.host, port: server.port) } catch { throw .resolve(error) }
        let connection = try TLSConnection(addresses: addresses, settings: settings, server: server.description, sessions: sessions,
                                           deadline: deadline)
        self.connection = connection
        reader.reset()
        return connection
    }

    private func encode(_ request: HTTPRequest) -> [UInt8] {
        var head = "\(request.method) \(server.pathPrefix)\(request.path) HTTP/1.1\r\n"
        let host = server.host.contains(":") ? "[\(server.host)]" : server.host
        head += "Host: \(host):\(server.port)\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
            head += "Content-Length: \(request.body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + request.body
    }
}
