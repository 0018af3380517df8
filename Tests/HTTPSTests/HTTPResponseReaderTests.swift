import CNI
import Glibc
@testable import HTTPS
import Testing

/// HTTP/1.1 framing as the API server's answers reach it: whatever the server sends, the client
/// ends with a response or an error, within the limits and the call's deadline.
@Suite("HTTP response framing")
struct HTTPResponseReaderTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let ok = "HTTP/1.1 200 OK\r\n"

    @Test("every framing, whatever pieces it arrives in", arguments: [1, 2, 3, 7, 16384])
    func framings(pieceSize: Int) throws {
        let cases: [(String, String, String)] = [
            ("Content-Length", Self.ok + "Content-Length: 5\r\n\r\nhello", "hello"),
            ("chunked with extensions and trailers", Self.ok + "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2 \r\nlo\r\n0\r\nX-T: 1\r\n\r\n", "hello"),
            ("until the connection closes", Self.ok + "\r\nhello", "hello"),
            ("HEAD-like 204", "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n", ""),
        ]
        for (name, response, body) in cases {
            let parsed = try HTTPResponse.parse(Self.bytes(response), pieceSize: pieceSize)
            #expect(String(decoding: parsed.body, as: UTF8.self) == body, "\(name)")
        }
    }

    @Test("what no server may send is refused, never trapped on", arguments: [
        ("a chunk size that overflows the running total", Self.ok + "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n7fffffffffffffff\r\n"),
        ("a chunk size of 16 hex digits", Self.ok + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"),
        ("a signed chunk size", Self.ok + "Transfer-Encoding: chunked\r\n\r\n-1\r\n"),
        ("chunks adding up past 16 MiB", Self.ok + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n1000000\r\n"),
        ("a huge Content-Length", Self.ok + "Content-Length: 99999999999999999999\r\n\r\n"),
        ("a Content-Length past 16 MiB", Self.ok + "Content-Length: 16777217\r\n\r\n"),
        ("a signed Content-Length", Self.ok + "Content-Length: +5\r\n\r\nhello"),
        ("a chunk without its CRLF", Self.ok + "Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n"),
        ("a chunk size line longer than 8 KiB", Self.ok + "Transfer-Encoding: chunked\r\n\r\n1" + String(repeating: " ", count: 9000)),
        ("endless trailers", Self.ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: "X-T: 1\r\n", count: 10_000)),
        ("a head past 64 KiB", Self.ok + String(repeating: "X-H: 1\r\n", count: 10_000)),
        ("a body cut short", Self.ok + "Content-Length: 10\r\n\r\nhello"),
        ("not a status line", "HTTP/1.1 2000 OK\r\n\r\n"),
    ])
    func refused(_ name: String, _ response: String) {
        #expect(throws: HTTPSError.self, "\(name)") { try HTTPResponse.parse(Self.bytes(response), pieceSize: 4096) }
        do { _ = try HTTPResponse.parse(Self.bytes(response)) } catch {
            guard case .malformedResponse(_, _, let reason) = error else { Issue.record("\(name): \(error)"); return }
            #expect(reason.utf8.count < 400, "\(name): \(reason)")
        }
    }

    @Test func aBodyToTheEndOfTheConnectionIsBounded() throws {
        var response = Self.bytes(Self.ok + "\r\n")
        response += [UInt8](repeating: 0x61, count: HTTPResponseReader.maximumBody + 1)
        #expect { try HTTPResponse.parse(response) } throws: { error in
            guard case HTTPSError.malformedResponse(_, _, let reason) = error else { return false }
            return reason.contains("larger than")
        }
    }

    /// The old reader dropped consumed bytes from the front of its buffer after every line and
    /// chunk: a body in one-byte chunks cost a copy of the buffer each. Linear, 300,000 of them
    /// take well under a second; the limit only keeps a quadratic reader from hanging the suite.
    @Test(.timeLimit(.minutes(1))) func manyTinyChunksAreReadInLinearTime() throws {
        let count = 300_000
        var response = Self.bytes(Self.ok + "Transfer-Encoding: chunked\r\n\r\n")
        response.reserveCapacity(response.count + count * 6 + 5)
        for _ in 0..<count { response += Self.bytes("1\r\nx\r\n") }
        response += Self.bytes("0\r\n\r\n")
        #expect(try HTTPResponse.parse(response, pieceSize: 16384).body.count == count)
    }

    /// A server that keeps sending, one byte at a time, never finishing: the call's deadline ends
    /// it, whatever each single read waits.
    final class TrickleSource: ByteSource {
        var sent = 0
        func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws(HTTPSError) -> Int {
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
            let text = Array((HTTPResponseReaderTests.ok + "Content-Length: 1000000\r\n\r\n").utf8)
            buffer[0] = sent < text.count ? text[sent] : 0x61
            sent += 1
            return 1
        }
    }

    @Test(.timeLimit(.minutes(1))) func aTricklingServerIsCutOffAtTheDeadline() throws {
        var reader = HTTPResponseReader(server: "https://trickle")
        let source = TrickleSource()
        let started = ContinuousClock.now
        #expect {
            _ = try reader.read(from: source, method: "GET", deadline: started + .milliseconds(300), call: "GET pod")
        } throws: { error in
            guard case HTTPSError.timeout(_, let call, _) = error else { return false }
            return call == "GET pod"
        }
        #expect(source.sent > 10, "bytes kept arriving")
        #expect(source.sent < 1_000_000, "and the body never completed")
    }
}
