import DNS
@testable import HTTPS
import Testing

/// Which failures let a request be sent again on a new connection: decided by the case, never
/// by the words of a message.
@Suite("HTTPS errors")
struct HTTPSErrorTests {
    static let server = "https://10.96.0.1:443"

    @Test(arguments: [
        (HTTPSError.closedBeforeAnswer(server: server), true),
        (.lostWhileSending(server: server, reason: "Broken pipe"), true),
        (.connect(server: server, reason: "connection closed by the server before answering"), false),
        (.connect(server: server, reason: "connection lost while reading: connection closed by the server"), false),
        (.tls(server: server, reason: "handshake failed: connection closed by the server"), false),
        (.timeout(server: server, call: "GET pod", after: .seconds(10)), false),
        (.malformedResponse(server: server, call: "GET pod", reason: "connection closed inside the response head"), false),
        (.resolve(ResolveError(host: "api", reason: "NXDOMAIN")), false),
    ])
    func onlyAConnectionTheServerNeverReadIsStale(error: HTTPSError, stale: Bool) {
        #expect(error.isStaleConnection == stale)
    }

    /// A kept-alive connection the server had closed answers nothing at all: that, and only
    /// that, is `.closedBeforeAnswer`; a head cut short is a broken answer.
    @Test func nothingAtAllIsAConnectionClosedBeforeAnswering() {
        #expect(throws: HTTPSError.closedBeforeAnswer(server: "https://in-memory")) { try HTTPResponse.parse([]) }
        #expect { try HTTPResponse.parse(Array("HTTP/1.1 200".utf8)) } throws: { error in
            guard case HTTPSError.malformedResponse(_, _, let reason) = error else { return false }
            return reason == "connection closed inside the response head"
        }
    }

    @Test func messagesNameTheServer() {
        #expect(HTTPSError.closedBeforeAnswer(server: Self.server).description
            == "cannot connect to https://10.96.0.1:443: connection closed by the server before answering")
        #expect(HTTPSError.lostWhileSending(server: Self.server, reason: "Broken pipe").description
            == "cannot connect to https://10.96.0.1:443: connection lost while sending: Broken pipe")
    }
}
