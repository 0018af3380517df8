import Glibc
@testable import System
import Testing

/// IP literals as URLs and configs write them, and the sockaddr they become.
@Suite("Socket addresses")
struct SocketAddressTests {
    @Test(arguments: [
        ("10.0.0.1", SocketAddress.Family.v4, "10.0.0.1:443"),
        ("[10.0.0.1]", .v4, "10.0.0.1:443"),
        ("255.255.255.255", .v4, "255.255.255.255:443"),
        ("fd00::1", .v6, "[fd00::1]:443"),
        ("[fd00::1]", .v6, "[fd00::1]:443"),
        ("FD00:0:0:0:0:0:0:1", .v6, "[fd00::1]:443"),
        ("::1", .v6, "[::1]:443"),
        ("::ffff:10.1.2.3", .v6, "[::ffff:10.1.2.3]:443"),
    ])
    func literals(text: String, family: SocketAddress.Family, description: String) {
        let address = SocketAddress(literal: text, port: 443)
        #expect(address?.family == family)
        #expect(address?.bytes.count == (family == .v4 ? 4 : 16))
        #expect(address?.description == description)
    }

    /// Names, malformed literals, and zone identifiers (no scope id to carry them in).
    @Test(arguments: [
        "", "api.example", "localhost", "10.0.0", "10.0.0.256", "010.0.0.1", "0x0a.0.0.1", "10.0.0.1 ", "[10.0.0.1",
        "10.0.0.1]", "[]", "[[fd00::1]]", "fd00::1::2", "fe80::1%eth0", "[fe80::1%25eth0]", "10.0.0.1:443",
    ])
    func notLiterals(text: String) {
        #expect(SocketAddress(literal: text, port: 443) == nil)
    }

    @Test(arguments: [("10.20.30.40", 6443), ("fd00:1:2::3", 443), ("::", 0), ("255.0.0.1", 65535)])
    func sockaddrRoundTrip(text: String, port: Int) throws {
        let address = try #require(SocketAddress(literal: text, port: port))
        let (family, host, decodedPort) = address.withSockaddr { pointer, length in
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if pointer.pointee.sa_family == sa_family_t(AF_INET) {
                #expect(length == socklen_t(MemoryLayout<sockaddr_in>.size))
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    var raw = v4.pointee.sin_addr
                    inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
                    return (AF_INET, cString(buffer), Int(UInt16(bigEndian: v4.pointee.sin_port)))
                }
            }
            #expect(length == socklen_t(MemoryLayout<sockaddr_in6>.size))
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                var raw = v6.pointee.sin6_addr
                inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
                return (AF_INET6, cString(buffer), Int(UInt16(bigEndian: v6.pointee.sin6_port)))
            }
        }
        #expect(family == (address.family == .v4 ? AF_INET : AF_INET6))
        #expect(host == text)
        #expect(decodedPort == port)
    }
}

/// A NUL-terminated C string buffer as text.
private func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
