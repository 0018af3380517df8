import CNI
import Testing

/// Addresses and prefixes as values: read once, written back as they were read, compared by
/// what they name.
@Suite("IPAddress and IPPrefix")
struct IPPrefixTests {
    /// Text, family, and whether it is a default route. A default route is any /0 (see
    /// `IPPrefix.isDefaultRoute`): "0::/0" and "::ffff:0.0.0.0/0" are IPv6 default routes as the
    /// kernel and Go's ParseCIDR read them, "10.0.0.0/0" an IPv4 one.
    static let prefixes: [(text: String, family: IPFamily, length: Int, isDefault: Bool)] = [
        ("0.0.0.0/0", .v4, 0, true),
        ("::/0", .v6, 0, true),
        ("0::/0", .v6, 0, true),
        ("::ffff:0.0.0.0/0", .v6, 0, true),
        ("10.0.0.0/0", .v4, 0, true),
        ("10.0.0.0/8", .v4, 8, false),
        ("0.0.0.0/1", .v4, 1, false),
        ("::/1", .v6, 1, false),
        ("fd00:0::1/64", .v6, 64, false),
        ("10.1.0.5/16", .v4, 16, false),
        ("10.1.0.5/016", .v4, 16, false),
        ("FD00::5/128", .v6, 128, false),
    ]

    @Test(arguments: prefixes)
    func readsAndWritesBackAsWritten(text: String, family: IPFamily, length: Int, isDefault: Bool) throws {
        let prefix = try #require(IPPrefix(text))
        #expect(prefix.text == text)
        #expect(prefix.description == text)
        #expect(prefix.family == family)
        #expect(prefix.length == length)
        #expect(prefix.isDefaultRoute == isDefault)
    }

    @Test(arguments: [IPFamily.v4, .v6])
    func theDefaultRouteOfAFamily(_ family: IPFamily) {
        let route = IPPrefix.defaultRoute(family)
        #expect(route.text == (family == .v4 ? "0.0.0.0/0" : "::/0"))
        #expect(route.family == family)
        #expect(route.isDefaultRoute)
        #expect(IPPrefix(route.text) == route)
    }

    /// Equal by value, whatever the spelling; the spelling stays each one's own.
    @Test(arguments: [("fd00::1", "fd00:0::1"), ("fd00::1", "FD00:0:0:0:0:0:0:1"), ("::ffff:10.1.2.3", "::ffff:a01:203")])
    func addressesAreEqualByValue(_ a: String, _ b: String) throws {
        let first = try #require(IPAddress(a)), second = try #require(IPAddress(b))
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(Set([first, second]).count == 1)
        #expect(first.text == a && second.text == b)
    }

    @Test(arguments: [("10.0.0.1", "10.0.0.2"), ("::", "0.0.0.0"), ("::ffff:10.1.2.3", "10.1.2.3"), ("::1", "::2")])
    func differentAddressesDiffer(_ a: String, _ b: String) throws {
        #expect(try #require(IPAddress(a)) != #require(IPAddress(b)))
    }

    @Test(arguments: [("fd00::/64", "fd00:0::/64", true), ("10.0.0.0/8", "10.0.0.0/9", false), ("10.0.0.0/8", "10.0.0.1/8", false)])
    func prefixesAreEqualByValue(_ a: String, _ b: String, _ equal: Bool) throws {
        let first = try #require(IPPrefix(a)), second = try #require(IPPrefix(b))
        #expect((first == second) == equal)
    }

    @Test(arguments: [("10.1.2.3", IPFamily.v4, [UInt8]([10, 1, 2, 3])), ("::ffff:10.1.2.3", .v6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3])])
    func bytesInNetworkOrder(text: String, family: IPFamily, bytes: [UInt8]) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == family)
        #expect(address.bytes == bytes)
        #expect(address.text == text)
    }
}
