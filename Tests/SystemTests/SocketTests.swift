import Glibc
import System
import Testing
import TestSupport

@Suite("Sockets")
struct SocketTests {
    @Test func aTCPConnectionIsMadeOrRefusedWithTheKernelsReason() throws {
        let (listener, port) = try listeningSocket()
        defer { close(listener) }
        let socket = try Socket.connectTCP(SocketAddress(family: .v4, bytes: [127, 0, 0, 1], port: port), deadline: .now + .seconds(5))
        socket.close()
        close(listener)
        #expect(throws: Socket.ConnectError.failed(SystemError("connect", errno: .connectionRefused))) {
            try Socket.connectTCP(SocketAddress(family: .v4, bytes: [127, 0, 0, 1], port: port), deadline: .now + .seconds(5))
        }
    }

    @Test func aUnixConnectionToNoSocketIsNoSuchFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("kubelet.sock")
        #expect(throws: SystemError("connect", errno: .noSuchFileOrDirectory, path: path)) {
            try Socket.connectUnix(path, deadline: .now + .seconds(1))
        }
        let long = "/" + String(repeating: "x", count: Socket.maximumUnixPathLength)
        #expect { try Socket.connectUnix(long, deadline: .now + .seconds(1)) } throws: {
            ($0 as? SystemError)?.errno == Errno(rawValue: ENAMETOOLONG)
        }
    }
}

/// A TCP socket listening on a free loopback port.
private func listeningSocket() throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    try #require(bound == 0 && listen(fd, 4) == 0)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
