/// The two address families a result or a config can name.
public enum IPFamily: Sendable, Hashable {
    case v4, v6

    /// The `version` value of 0.3.x/0.4.0 results.
    public var versionString: String { self == .v4 ? "4" : "6" }
}

/// One IP address, read once where it enters (a result, a selection, a kubeconfig host) and
/// carried as a value from there on.
///
/// It keeps the text it was read from, and writes that text back (`text`, `description`): a
/// plugin's "fd00:0::1" must come back in its result as it wrote it, not as "fd00::1".
///
/// Equality and hashing are by value (family and bytes), not by text: "fd00::1" and
/// "fd00:0::1" are one address, and every comparison the plugin makes (is this the gateway of
/// that family, is this route the default) is about the address, not its spelling. Code that must
/// compare spellings (what network-status lists once) compares `text`.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let family: IPFamily
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]
    /// The text it was read from, or written as inet_ntop would for one made from bytes.
    public let text: String

    /// The address `text` names, read as inet_pton reads it (see `IPAddressText`); nil when it is
    /// neither an IPv4 nor an IPv6 address.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        if let bytes = IPAddressText.ipv4(utf8) {
            self.init(family: .v4, bytes: bytes, text: text)
        } else if let bytes = IPAddressText.ipv6(utf8) {
            self.init(family: .v6, bytes: bytes, text: text)
        } else {
            return nil
        }
    }

    private init(family: IPFamily, bytes: [UInt8], text: String) {
        self.family = family
        self.bytes = bytes
        self.text = text
    }

    /// The all-zero address of `family` ("0.0.0.0", "::"), the network of a default route.
    public static func unspecified(_ family: IPFamily) -> IPAddress {
        family == .v4
            ? IPAddress(family: .v4, bytes: [0, 0, 0, 0], text: "0.0.0.0")
            : IPAddress(family: .v6, bytes: [UInt8](repeating: 0, count: 16), text: "::")
    }

    public var description: String { text }

    public static func == (a: IPAddress, b: IPAddress) -> Bool { a.family == b.family && a.bytes == b.bytes }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(bytes)
    }
}

/// "ADDRESS/LENGTH": a result's `ips[].address` (an interface address with its prefix length,
/// host bits set: "10.1.0.5/16") or a route's `dst` (a network: "10.96.0.0/12"). Both are read
/// by the same rule, which is the one results have always been checked by: an address, one "/",
/// then decimal digits only, within 0...32 or 0...128.
///
/// Like `IPAddress`, it keeps its text for round trips, and equality is by value (address
/// bytes and length, not spelling), for the same reason.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int
    /// The text it was read from ("ADDRESS/LENGTH" as the plugin wrote it).
    public let text: String

    /// nil when `text` is not "ADDRESS/LENGTH" with the length in range for the family.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]),
            length >= 0, length <= (address.family == .v4 ? 32 : 128)
        else { return nil }
        self.init(address: address, length: length, text: text)
    }

    private init(address: IPAddress, length: Int, text: String) {
        self.address = address
        self.length = length
        self.text = text
    }

    /// "0.0.0.0/0" or "::/0": the route a gateway is made the default by.
    public static func defaultRoute(_ family: IPFamily) -> IPPrefix {
        let address = IPAddress.unspecified(family)
        return IPPrefix(address: address, length: 0, text: "\(address.text)/0")
    }

    public var family: IPFamily { address.family }

    /// A default route: length 0, whatever the address bits. A /0 covers every address of its
    /// family, and that is how the kernel and the Go plugins read it (Go's ParseCIDR masks the
    /// host bits, so "0::/0" and "::ffff:0.0.0.0/0" are "::/0" to them, an IPv6 default route).
    /// The texts the plugin compared before ("0.0.0.0/0", "::/0") are default routes here too;
    /// other spellings of a /0 ("0::/0", "10.0.0.0/0"), which the reference plugins never write,
    /// now count as well.
    public var isDefaultRoute: Bool { length == 0 }

    public var description: String { text }

    public static func == (a: IPPrefix, b: IPPrefix) -> Bool { a.address == b.address && a.length == b.length }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(length)
    }
}

/// IP address text as glibc's inet_pton reads it, in Swift, so that the spec needs no libc:
/// the same texts accepted, the same bytes out (the tests compare the two on many inputs).
///
/// - IPv4: exactly four decimal octets of at most 255, no leading zeros ("01" is refused), no
///   empty octet, nothing else (no hex, no octal, no fewer parts).
/// - IPv6 (RFC 4291 text): up to eight groups of one to four hex digits; one `::` standing for
///   at least one zero group; an IPv4 address as the last 32 bits ("::ffff:10.1.2.3"); no zone.
///
/// One difference, on purpose: inet_pton reads a C string, so text after a NUL byte went unseen
/// ("10.0.0.1\0anything" was an address); here a NUL is a character like any other, and refused.
enum IPAddressText {
    /// The 4 bytes of a dotted quad (glibc's inet_pton4), or nil.
    static func ipv4(_ text: [UInt8]) -> [UInt8]? { ipv4(text, from: 0) }

    /// inet_pton4 on `text[start...]`.
    static func ipv4(_ text: [UInt8], from start: Int) -> [UInt8]? {
        var octets: [UInt8] = [0, 0, 0, 0]
        var current = 0
        var count = 0
        var sawDigit = false
        for index in start..<text.count {
            let character = text[index]
            if let digit = decimalValue(character) {
                if sawDigit && octets[current] == 0 { return nil }  // a leading zero
                let value = Int(octets[current]) * 10 + digit
                guard value <= 255 else { return nil }
                octets[current] = UInt8(value)
                if !sawDigit {
                    count += 1
                    sawDigit = true
                }
            } else if character == UInt8(ascii: "."), sawDigit, count < 4 {
                current += 1
                sawDigit = false
            } else {
                return nil
            }
        }
        return count == 4 ? octets : nil
    }

    /// The 16 bytes of an IPv6 address (glibc's inet_pton6), or nil.
    static func ipv6(_ text: [UInt8]) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        var filled = 0
        var gap: Int? = nil
        var index = 0
        guard !text.isEmpty else { return nil }
        // A leading ':' must be the start of "::".
        if text[0] == UInt8(ascii: ":") {
            guard text.count > 1, text[1] == UInt8(ascii: ":") else { return nil }
            index = 1
        }
        var token = index
        var digits = 0
        var group = 0
        while index < text.count {
            let character = text[index]
            index += 1
            if let digit = hexValue(character) {
                guard digits < 4 else { return nil }
                group = group << 4 | digit
                digits += 1
                continue
            }
            if character == UInt8(ascii: ":") {
                token = index
                if digits == 0 {
                    guard gap == nil else { return nil }  // a second "::", or ":::"
                    gap = filled
                    continue
                }
                guard index < text.count, filled + 2 <= 16 else { return nil }  // a trailing ':', or too many groups
                bytes[filled] = UInt8(group >> 8)
                bytes[filled + 1] = UInt8(group & 0xFF)
                filled += 2
                digits = 0
                group = 0
                continue
            }
            // An IPv4 tail: the whole current token, to the end.
            if character == UInt8(ascii: "."), filled + 4 <= 16, let tail = ipv4(text, from: token) {
                bytes.replaceSubrange(filled..<(filled + 4), with: tail)
                filled += 4
                digits = 0
                break
            }
            return nil
        }
        if digits > 0 {
            guard filled + 2 <= 16 else { return nil }
            bytes[filled] = UInt8(group >> 8)
            bytes[filled + 1] = UInt8(group & 0xFF)
            filled += 2
        }
        if let gap {
            // "::" must stand for at least one group.
            guard filled < 16 else { return nil }
            let tail = Array(bytes[gap..<filled])
            for zero in gap..<16 { bytes[zero] = 0 }
            bytes.replaceSubrange((16 - tail.count)..<16, with: tail)
            filled = 16
        }
        return filled == 16 ? bytes : nil
    }

    private static func decimalValue(_ character: UInt8) -> Int? {
        character >= UInt8(ascii: "0") && character <= UInt8(ascii: "9") ? Int(character - UInt8(ascii: "0")) : nil
    }

    private static func hexValue(_ character: UInt8) -> Int? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(character - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(character - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(character - UInt8(ascii: "A")) + 10
        default: nil
        }
    }
}
