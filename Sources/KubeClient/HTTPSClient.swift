import CNI
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
final class HTTPSClient {
    let server: ServerAddress
    private let settings: TLSSettings
    private let resolver: HostResolver
    private let sessions: TLSSessionCache?
    private var connection: TLSConnection?
    private var buffered: [UInt8] = []
    /// A response larger than this is refused; no object we read is close.
    static let maximumResponse = 16 << 20

    init(server: ServerAddress, settings: TLSSettings, resolver: HostResolver, sessions: TLSSessionCache? = nil) {
        self.server = server
        self.settings = settings
        self.resolver = resolver
        self.sessions = sessions
    }

    /// Sends `request` and reads the whole response. A kept-alive connection the server already
    /// closed is replaced once, transparently, if nothing of the response had arrived.
    func send(_ request: HTTPRequest, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> HTTPResponse {
        let reused = connection != nil
        do {
            return try exchange(request, deadline: deadline, call: call)
        } catch let error where reused && error.isStaleConnection {
            disconnect()
            return try exchange(request, deadline: deadline, call: call)
        }
    }

    func disconnect() {
        connection?.close()
        connection = nil
        buffered = []
    }

    private func exchange(_ request: HTTPRequest, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> HTTPResponse {
        let connection = try connected(deadline: deadline)
        do {
            try connection.write(encode(request), deadline: deadline)
            let response = try readResponse(from: connection, deadline: deadline, call: call, method: request.method)
            if response.header("connection")?.lowercased() == "close" { disconnect() }
            return response
        } catch {
            disconnect()
            throw error
        }
    }

    private func connected(deadline: ContinuousClock.Instant) throws(KubeError) -> TLSConnection {
        if let connection { return connection }
        guard server.scheme == "https" else {
            throw .connect(server: server.description, reason: "only https servers are supported (the kubeconfig says \(server.scheme))")
        }
        let addresses = try resolver.resolve(server.host, port: server.port)
        let connection = try TLSConnection(addresses: addresses, settings: settings, server: server.description, sessions: sessions,
                                           deadline: deadline)
        self.connection = connection
        buffered = []
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

    // MARK: reading

    private func readResponse(from connection: TLSConnection, deadline: ContinuousClock.Instant, call: String, method: String) throws(KubeError) -> HTTPResponse {
        let head = try readHead(connection, deadline: deadline, call: call)
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = (lines.first ?? "").split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw .malformedResponse(server: server.description, call: call, reason: "not an HTTP/1.1 status line: \(Echo.quoted(lines.first ?? ""))")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingWhitespace))
        }
        var response = HTTPResponse(status: status, headers: headers, body: [])
        if method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) { return response }
        if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            response.body = try readChunked(connection, deadline: deadline, call: call)
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            guard length >= 0, length <= Self.maximumResponse else {
                throw .malformedResponse(server: server.description, call: call, reason: "Content-Length \(length) out of bounds")
            }
            response.body = try readExactly(length, connection, deadline: deadline, call: call)
        } else {
            response.body = try readToEnd(connection, deadline: deadline, call: call)
            disconnect()
        }
        return response
    }

    /// Bytes up to and excluding the blank line that ends the head.
    private func readHead(_ connection: TLSConnection, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> [UInt8] {
        var searched = 0
        while true {
            if let end = Self.find([13, 10, 13, 10], in: buffered, from: max(0, searched - 3)) {
                let head = Array(buffered[..<end])
                buffered.removeFirst(end + 4)
                return head
            }
            searched = buffered.count
            guard buffered.count < 64 << 10 else {
                throw .malformedResponse(server: server.description, call: call, reason: "response head larger than 64 KiB")
            }
            guard try fill(connection, deadline: deadline) else {
                throw buffered.isEmpty ? KubeError.staleConnection(server: server.description)
                    : .malformedResponse(server: server.description, call: call, reason: "connection closed inside the response head")
            }
        }
    }

    private func readExactly(_ count: Int, _ connection: TLSConnection, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> [UInt8] {
        while buffered.count < count {
            guard try fill(connection, deadline: deadline) else {
                throw .malformedResponse(server: server.description, call: call, reason: "connection closed after \(buffered.count) of \(count) body bytes")
            }
        }
        let body = Array(buffered[..<count])
        buffered.removeFirst(count)
        return body
    }

    private func readLine(_ connection: TLSConnection, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> String {
        while true {
            if let end = Self.find([13, 10], in: buffered, from: 0) {
                let line = String(decoding: buffered[..<end], as: UTF8.self)
                buffered.removeFirst(end + 2)
                return line
            }
            guard buffered.count < 8192, try fill(connection, deadline: deadline) else {
                throw .malformedResponse(server: server.description, call: call, reason: "bad chunked encoding")
            }
        }
    }

    private func readChunked(_ connection: TLSConnection, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try readLine(connection, deadline: deadline, call: call)
            let hex = sizeLine.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingWhitespace } ?? ""
            guard let size = Int(hex, radix: 16), size >= 0, body.count + size <= Self.maximumResponse else {
                throw .malformedResponse(server: server.description, call: call, reason: "bad chunk size \(Echo.quoted(sizeLine))")
            }
            if size == 0 {
                // Trailers, then the blank line.
                while try !readLine(connection, deadline: deadline, call: call).isEmpty {}
                return body
            }
            body += try readExactly(size, connection, deadline: deadline, call: call)
            guard try readLine(connection, deadline: deadline, call: call).isEmpty else {
                throw .malformedResponse(server: server.description, call: call, reason: "chunk not followed by CRLF")
            }
        }
    }

    private func readToEnd(_ connection: TLSConnection, deadline: ContinuousClock.Instant, call: String) throws(KubeError) -> [UInt8] {
        while try fill(connection, deadline: deadline) {
            guard buffered.count <= Self.maximumResponse else {
                throw .malformedResponse(server: server.description, call: call, reason: "response larger than \(Self.maximumResponse) bytes")
            }
        }
        defer { buffered = [] }
        return buffered
    }

    /// Reads more into `buffered`; false at end of stream.
    private func fill(_ connection: TLSConnection, deadline: ContinuousClock.Instant) throws(KubeError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = try connection.read(into: &chunk, deadline: deadline)
        guard n > 0 else { return false }
        buffered += chunk[0..<n]
        return true
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for i in start...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }
}

extension KubeError {
    /// A kept-alive connection the server closed while idle: the request never reached it.
    static func staleConnection(server: String) -> KubeError { .connect(server: server, reason: "connection closed by the server before answering") }

    var isStaleConnection: Bool {
        if case .connect(_, let reason) = self { return reason.hasPrefix("connection closed by the server") || reason.hasPrefix("connection lost while sending") }
        return false
    }
}

