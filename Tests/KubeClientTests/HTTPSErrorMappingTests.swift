import DNS
import HTTPS
@testable import KubeClient
import Testing

/// An HTTPS failure reaches the operator as it did when KubeClient held the HTTPS client: the
/// same KubeError case (which decides retries and CNI codes) and the same words.
@Suite("HTTPS errors as KubeErrors")
struct HTTPSErrorMappingTests {
    static let server = "https://10.96.0.1:443"

    @Test(arguments: [
        (HTTPSError.resolve(ResolveError(host: "api", reason: "NXDOMAIN")), KubeError.resolve(host: "api", reason: "NXDOMAIN")),
        (.connect(server: server, reason: "Connection refused"), .connect(server: server, reason: "Connection refused")),
        (.closedBeforeAnswer(server: server), .connect(server: server, reason: "connection closed by the server before answering")),
        (.lostWhileSending(server: server, reason: "Broken pipe"), .connect(server: server, reason: "connection lost while sending: Broken pipe")),
        (.tls(server: server, reason: "handshake failed"), .tls(server: server, reason: "handshake failed")),
        (.malformedResponse(server: server, call: "GET pod", reason: "bad chunk size"),
         .malformedResponse(server: server, call: "GET pod", reason: "bad chunk size")),
        (.timeout(server: server, call: "GET pod", after: .seconds(3)), .timeout(server: server, call: "GET pod", after: .seconds(3))),
    ])
    func eachFailureKeepsItsCaseAndWords(https: HTTPSError, kube: KubeError) {
        #expect(KubeError(https) == kube)
        #expect(KubeError(https).description == https.description)
    }
}
