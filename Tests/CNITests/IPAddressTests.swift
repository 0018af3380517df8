@testable import CNI
import Glibc
import Testing
import TestSupport

/// The spec's address parsing is Swift, not libc: it must accept exactly what glibc's inet_pton
/// accepts, and read the same bytes, which these tests check on hand-picked and generated text.
@Suite("IP address text as inet_pton reads it")
struct IPAddressTests {
    static let samples = [
        // IPv4
        "0.0.0.0", "10.1.2.3", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3",
        "01.2.3.4", "1.02.3.4", "0.0.0.00", "00.0.0.0", "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/24", "0x1.2.3.4",
        "1.2.3.-4", "+1.2.3.4", "1.2.3.4\n", "1.2.3.255", "1.2.3.2555", "999.1.1.1", "1e1.1.1.1", "127.1", "",
        // IPv6
        "::", "::1", "1::", "fd00::1", "FD00:0:0:0:0:0:0:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1::2:3:4:5:6:7:8", "1:2:3:4:5:6::7:8", ":", ":::", "1:::2", "1::2::3",
        ":1", "1:", "1::2:", ":1::2", "12345::", "1:2:3:4:5:6:7:8a", "g::1", "::g", "fe80::1%eth0", "[::1]",
        "::ffff:10.1.2.3", "::10.1.2.3", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::1.2.3.4.5",
        "::01.2.3.4", "::256.1.1.1", "1.2.3.4::", "::ffff:1.2.3.4:1", "ffff::1.2.3.4", "::a.2.3.4", "::1234.2.3.4",
        "0:0:0:0:0:0:0:0", "0000:0000:0000:0000:0000:0000:0000:0000", "00000::", "::0000", "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8", "1::1.2.3.4", "::1.2.3.4:5", "abcd:ef01:2345:6789:ABCD:EF01:2345:6789", "::ffff:",
    ]

    @Test(arguments: samples)
    func sameAsInetPton(text: String) {
        expectSame(text)
    }

    /// Text from the characters addresses are made of, in every arrangement a seeded generator
    /// comes up with, and valid addresses with one character changed.
    @Test func generatedTextIsReadAsInetPtonReadsIt() {
        var random = SeededGenerator(seed: 0xADD7)
        let alphabet = Array("0123456789abcdefABCDEF:.:.:.:%g ".utf8)
        var accepted = 0
        for round in 0..<20_000 {
            var text: [UInt8]
            if round % 2 == 0 {
                text = (0..<Int(random.next() % 24)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            } else {
                text = Array(Self.samples[Int(random.next() % UInt64(Self.samples.count))].utf8)
                if !text.isEmpty {
                    let position = Int(random.next() % UInt64(text.count))
                    text[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            let string = String(decoding: text, as: UTF8.self)
            if expectSame(string, "\(random), round \(round)") { accepted += 1 }
        }
        #expect(accepted > 1000, "the generator reached few valid addresses: \(accepted)")
    }

    /// inet_pton reads a C string: what follows a NUL went unseen. Here a NUL is refused.
    @Test(arguments: ["10.0.0.1\u{0}", "10.0.0.1\u{0}x", "::1\u{0}", "fd00::1\u{0}garbage", "\u{0}"])
    func aNULIsNotTheEndOfTheText(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [("10.1.2.3/0", IPFamily.v4), ("10.1.2.3/32", .v4), ("fd00::/128", .v6), ("::/0", .v6)])
    func cidrsInRange(cidr: String, family: IPFamily) {
        #expect(IPPrefix(cidr)?.family == family)
    }

    @Test(arguments: ["10.1.2.3/33", "fd00::/129", "10.1.2.3/", "10.1.2.3", "10.1.2.3/+1", "10.1.2.3/1/2", "/24", "10.1.2.3/ 8", "10.1.2.3/٣"])
    func cidrsOutOfRange(cidr: String) {
        #expect(IPPrefix(cidr) == nil)
    }

    /// Whether the Swift parser and inet_pton agree on `text` (family and bytes); returns
    /// whether it is an address.
    @discardableResult
    private func expectSame(_ text: String, _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let bytes = Array(text.utf8)
        let libc4 = inetPton(AF_INET, text, count: 4), libc6 = inetPton(AF_INET6, text, count: 16)
        #expect(IPAddressText.ipv4(bytes) == libc4, "\(Echo.quoted(text)) as IPv4 \(context)", sourceLocation: sourceLocation)
        #expect(IPAddressText.ipv6(bytes) == libc6, "\(Echo.quoted(text)) as IPv6 \(context)", sourceLocation: sourceLocation)
        let family: IPFamily? = libc4 != nil ? .v4 : libc6 != nil ? .v6 : nil
        #expect(IPAddress(text)?.bytes == (libc4 ?? libc6), "\(Echo.quoted(text)) bytes \(context)", sourceLocation: sourceLocation)
        #expect(IPAddress(text)?.family == family, "\(Echo.quoted(text)) \(context)", sourceLocation: sourceLocation)
        return family != nil
    }

    private func inetPton(_ family: Int32, _ text: String, count: Int) -> [UInt8]? {
        var buffer = in6_addr()
        guard text.withCString({ inet_pton(family, $0, &buffer) }) == 1 else { return nil }
        return withUnsafeBytes(of: buffer) { Array($0.prefix(count)) }
    }
}
