import Glibc

/// An IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable { case v4, v6 }

    public var family: Family
    /// The address in network order: 4 bytes for `.v4`, 16 for `.v6`.
    public var bytes: [UInt8]
    public var port: Int

    public init(family: Family, bytes: [UInt8], port: Int) {
        self.family = family
        self.bytes = bytes
        self.port = port
    }

    /// An IP literal as it appears in a URL host or a config: "10.0.0.1", "fd00::1", "[fd00::1]",
    /// "[10.0.0.1]". Nil for anything else, including IPv6 zone identifiers ("fe80::1%eth0"):
    /// a socket address here carries no scope, so a link-local literal cannot be honoured.
    public init?(literal: String, port: Int) {
        var text = Substring(literal)
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count >= 2 else { return nil }
            text = text.dropFirst().dropLast()
        }
        guard let (family, bytes) = Self.parse(String(text)) else { return nil }
        self.init(family: family, bytes: bytes, port: port)
    }

    /// "10.0.0.1:443", "[fd00::1]:6443".
    public var description: String {
        family == .v4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }

    /// The address alone, as inet_ntop writes it ("10.0.0.1", "fd00::1").
    public var host: String { Self.text(family, bytes) ?? "<invalid address>" }

    /// inet_pton in both families: the strict dotted quad, or RFC 4291 text.
    public static func parse(_ text: String) -> (family: Family, bytes: [UInt8])? {
        var buffer = in6_addr()
        if text.withCString({ inet_pton(AF_INET, $0, &buffer) }) == 1 {
            return (.v4, withUnsafeBytes(of: buffer) { Array($0.prefix(4)) })
        }
        if text.withCString({ inet_pton(AF_INET6, $0, &buffer) }) == 1 {
            return (.v6, withUnsafeBytes(of: buffer) { Array($0.prefix(16)) })
        }
        return nil
    }

    /// inet_ntop's text for 4 (`.v4`) or 16 (`.v6`) address bytes; nil for any other length.
    public static func text(_ family: Family, _ bytes: [UInt8]) -> String? {
        guard bytes.count == (family == .v4 ? 4 : 16) else { return nil }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family.domain, &address, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with a filled `sockaddr_in` or `sockaddr_in6` and its length, for connect().
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let networkPort = UInt16(truncatingIfNeeded: port).bigEndian
        switch family {
        case .v4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = networkPort
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes.prefix(4)) }
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = networkPort
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes.prefix(16)) }
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}

extension SocketAddress.Family {
    /// AF_INET or AF_INET6.
    var domain: Int32 { self == .v4 ? AF_INET : AF_INET6 }

    /// AF_INET or AF_INET6 as netlink's one-byte family field holds it.
    public var netlinkFamily: UInt8 { UInt8(domain) }
}
