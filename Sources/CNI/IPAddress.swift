/// Address family checks for the strings results and configs carry. We keep addresses as the
/// text the plugin wrote (round trips must not rewrite them) and only validate and classify.
public enum IPFamily: Sendable, Hashable {
    case v4, v6

    /// The family of a bare address ("10.1.2.3", "fd00::1"); nil when it is neither, exactly as
    /// inet_pton decides (see `IPAddressText`).
    public init?(address: String) {
        let text = Array(address.utf8)
        if IPAddressText.ipv4(text) != nil {
            self = .v4
        } else if IPAddressText.ipv6(text) != nil {
            self = .v6
        } else {
            return nil
        }
    }

    /// The family of "ADDRESS/PREFIX" with the prefix in range; nil otherwise.
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let family = IPFamily(address: String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let prefix = Int(parts[1]),
            prefix >= 0, prefix <= (family == .v4 ? 32 : 128)
        else { return nil }
        self = family
    }

    /// The `version` value of 0.3.x/0.4.0 results.
    public var versionString: String { self == .v4 ? "4" : "6" }
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
