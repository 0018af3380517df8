import CNI

/// Where a response's bytes come from: the TLS connection, or bytes in memory (tests, fuzzing).
protocol ByteSource: AnyObject {
    /// Up to `buffer.count` bytes into the front of `buffer`; 0 at the end of the stream. Waits
    /// for bytes no later than `deadline`.
    func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws(HTTPSError) -> Int
}

extension TLSConnection: ByteSource {}

/// HTTP/1.1 response framing (RFC 9112 section 6): the head, then a body delimited by
/// `Transfer-Encoding: chunked`, `Content-Length` or the end of the connection.
///
/// Everything the server controls is bounded, so no answer can crash, stall or exhaust the
/// plugin: the head (64 KiB), each line of chunked framing (8 KiB), the body however it is
/// framed (16 MiB; no object we read is close), every size checked before it is added, and the
/// whole exchange by one deadline, checked before every read. A server that trickles one byte at
/// a time, or streams a body as fast as it can, is cut off when the call's time is up.
struct HTTPResponseReader {
    static let maximumHead = 64 << 10
    static let maximumLine = 8 << 10
    static let maximumBody = 16 << 20

    /// How the body ended: at its declared length, or at the end of the connection (which then
    /// cannot carry another request).
    enum Framing { case delimited, untilClose }

    /// "https://host:port", for errors.
    let server: String
    /// Received and not yet consumed: `buffer[start...]`. Consuming moves `start`; the prefix is
    /// dropped only once it is large, so reading n bytes costs O(n) however they arrive.
    private var buffer: [UInt8] = []
    private var start = 0

    init(server: String) { self.server = server }

    var available: Int { buffer.count - start }

    /// Forgets anything buffered (a new connection).
    mutating func reset() {
        buffer = []
        start = 0
    }

    /// Reads one response to `method` from `source`, by `deadline`.
    /// - Throws: `.malformedResponse` naming what broke a limit or the framing, `.timeout`,
    ///   `.closedBeforeAnswer` when the connection was closed before any byte of the response.
    mutating func read(from source: some ByteSource, method: String, deadline: ContinuousClock.Instant,
                       call: String) throws(HTTPSError) -> (response: HTTPResponse, framing: Framing) {
        let started = ContinuousClock.now
        var reading = Exchange(source: source, deadline: deadline, started: started, call: call)
        let head = try readHead(&reading)
        var response = try parseHead(head, call: call)
        if method == "HEAD" || response.status == 204 || response.status == 304 || (100..<200).contains(response.status) {
            return (response, .delimited)
        }
        if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            response.body = try readChunked(&reading)
        } else if let declared = response.header("content-length") {
            guard let length = Self.decimal(declared), length <= Self.maximumBody else {
                throw malformed(call, "Content-Length \(Echo.quoted(declared)) is not a size up to \(Self.maximumBody)")
            }
            response.body = try readExactly(length, &reading)
        } else {
            response.body = try readToEnd(&reading)
            return (response, .untilClose)
        }
        return (response, .delimited)
    }

    /// The source, deadline and call of one response being read.
    private struct Exchange<Source: ByteSource> {
        let source: Source
        let deadline: ContinuousClock.Instant
        let started: ContinuousClock.Instant
        let call: String
    }

    // MARK: head

    /// Bytes up to and excluding the blank line that ends the head.
    private mutating func readHead(_ reading: inout Exchange<some ByteSource>) throws(HTTPSError) -> [UInt8] {
        var searched = start
        while true {
            if let end = find([13, 10, 13, 10], from: max(start, searched - 3)) {
                let head = Array(buffer[start..<end])
                consume(end + 4 - start)
                return head
            }
            searched = buffer.count
            guard available < Self.maximumHead else { throw malformed(reading.call, "response head larger than 64 KiB") }
            guard try fill(&reading) else {
                throw available == 0 ? HTTPSError.closedBeforeAnswer(server: server)
                    : malformed(reading.call, "connection closed inside the response head")
            }
        }
    }

    private func parseHead(_ head: [UInt8], call: String) throws(HTTPSError) -> HTTPResponse {
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = (lines.first ?? "").split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].utf8.count == 3, let status = Int(statusParts[1]),
              status >= 100 else {
            throw malformed(call, "not an HTTP/1.1 status line: \(Echo.quoted(lines.first ?? ""))")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingWhitespace))
        }
        return HTTPResponse(status: status, headers: headers, body: [])
    }

    // MARK: bodies

    private mutating func readExactly(_ count: Int, _ reading: inout Exchange<some ByteSource>) throws(HTTPSError) -> [UInt8] {
        while available < count {
            guard try fill(&reading) else {
                throw malformed(reading.call, "connection closed after \(available) of \(count) body bytes")
            }
        }
        let body = Array(buffer[start..<(start + count)])
        consume(count)
        return body
    }

    /// Chunks (`<hex size>[;extensions]CRLF<data>CRLF`), a zero-size chunk, trailers, a blank line.
    private mutating func readChunked(_ reading: inout Exchange<some ByteSource>) throws(HTTPSError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try readLine(&reading)
            guard let size = Self.chunkSize(sizeLine) else { throw malformed(reading.call, "bad chunk size \(Echo.quoted(sizeLine))") }
            // Checked before anything is added: a size near Int.max must not overflow the sum.
            guard size <= Self.maximumBody - body.count else {
                throw malformed(reading.call, "chunked body larger than \(Self.maximumBody) bytes")
            }
            if size == 0 { break }
            body += try readExactly(size, &reading)
            guard try readLine(&reading).isEmpty else { throw malformed(reading.call, "chunk not followed by CRLF") }
        }
        var trailers = 0
        while true {
            let trailer = try readLine(&reading)
            if trailer.isEmpty { return body }
            trailers += trailer.utf8.count
            guard trailers <= Self.maximumHead else { throw malformed(reading.call, "chunked trailers larger than 64 KiB") }
        }
    }

    private mutating func readToEnd(_ reading: inout Exchange<some ByteSource>) throws(HTTPSError) -> [UInt8] {
        while try fill(&reading) {
            guard available <= Self.maximumBody else { throw malformed(reading.call, "response larger than \(Self.maximumBody) bytes") }
        }
        let body = Array(buffer[start...])
        reset()
        return body
    }

    private mutating func readLine(_ reading: inout Exchange<some ByteSource>) throws(HTTPSError) -> String {
        var searched = start
        while true {
            if let end = find([13, 10], from: max(start, searched - 1)) {
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                consume(end + 2 - start)
                return line
            }
            searched = buffer.count
            guard available < Self.maximumLine else { throw malformed(reading.call, "a chunked-encoding line longer than 8 KiB") }
            guard try fill(&reading) else { throw malformed(reading.call, "connection closed inside the chunked encoding") }
        }
    }

    // MARK: buffer

    /// Reads more into the buffer; false at the end of the stream. The deadline is the whole
    /// response's, checked before every read: data arriving steadily never extends it.
    private mutating func fill(_ reading: inout Exchange<some ByteSource>) throws(HTTPSError) -> Bool {
        guard ContinuousClock.now < reading.deadline else {
            throw .timeout(server: server, call: reading.call, after: reading.started.duration(to: .now))
        }
        var chunk = [UInt8](repeating: 0, count: 16384)
        let count = try reading.source.read(into: &chunk, deadline: reading.deadline)
        guard count > 0 else { return false }
        buffer += chunk[0..<min(count, chunk.count)]
        return true
    }

    private mutating func consume(_ count: Int) {
        start += count
        if start == buffer.count {
            reset()
        } else if start >= 64 << 10 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    private func find(_ needle: [UInt8], from offset: Int) -> Int? {
        guard buffer.count >= needle.count, offset <= buffer.count - needle.count else { return nil }
        for i in offset...(buffer.count - needle.count) where buffer[i] == needle[0] {
            if buffer[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    private func malformed(_ call: String, _ reason: String) -> HTTPSError {
        .malformedResponse(server: server, call: call, reason: reason)
    }

    // MARK: numbers

    /// A Content-Length: decimal digits only (no sign, no spaces inside), at most 18 of them.
    static func decimal(_ text: String) -> Int? {
        let digits = text.utf8
        guard (1...18).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// A chunk-size line's size: hex digits (at most 15: anything larger is over every limit
    /// anyway), then optionally whitespace and `;extensions`.
    static func chunkSize(_ line: String) -> Int? {
        var digits = 0
        var size = 0
        for byte in line.utf8 {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                return digits > 0 && Self.extensionsAreWellFormed(line) ? size : nil
            default: return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }
            size = size << 4 | value
        }
        return digits > 0 ? size : nil
    }

    /// After the digits: optional whitespace, then nothing or `;` and anything.
    private static func extensionsAreWellFormed(_ line: String) -> Bool {
        let rest = line.utf8.drop { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
            .drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        return rest.isEmpty || rest.first == UInt8(ascii: ";")
    }
}

// MARK: - In memory

/// Bytes handed out `pieceSize` at a time, then the end of the stream.
final class BytesSource: ByteSource {
    private let bytes: [UInt8]
    private let pieceSize: Int
    private var offset = 0

    init(_ bytes: [UInt8], pieceSize: Int) {
        self.bytes = bytes
        self.pieceSize = max(1, pieceSize)
    }

    func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws(HTTPSError) -> Int {
        let count = min(pieceSize, buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        buffer.replaceSubrange(0..<count, with: bytes[offset..<(offset + count)])
        offset += count
        return count
    }
}

extension HTTPResponse {
    /// One response read from `bytes` as from a connection (the same framing and limits),
    /// arriving `pieceSize` bytes at a time: for the fuzz target and tests.
    /// - Throws: `HTTPSError` as `HTTPSClient.send` would report it.
    public static func parse(_ bytes: [UInt8], method: String = "GET", pieceSize: Int = 16384,
                             deadline: ContinuousClock.Instant = .now + .seconds(10)) throws(HTTPSError) -> HTTPResponse {
        var reader = HTTPResponseReader(server: "https://in-memory")
        return try reader.read(from: BytesSource(bytes, pieceSize: pieceSize), method: method, deadline: deadline, call: "parse").response
    }
}
