/// Standard base64 (RFC 4648 section 4): how Go's encoding/json writes a `[]byte`, so how the
/// CNI caches of libcni and Multus hold a config's bytes, and how Kubernetes objects and
/// kubeconfig `*-data` fields hold binary data (PEM files).
public enum Base64 {
    /// The bytes `text` encodes, or nil if it is not base64.
    ///
    /// Whitespace and line breaks anywhere are ignored (kubeconfigs wrap long values). Padding is
    /// optional, but when present it must be correct: one or two `=` completing the last group of
    /// four. The URL-safe alphabet (`-`, `_`) and anything else is refused. Unused low bits of the
    /// last character are not checked, as Go's `base64.StdEncoding` does not check them.
    public static func decode(_ text: String) -> [UInt8]? {
        var sextets: [UInt8] = []
        sextets.reserveCapacity(text.utf8.count)
        var padding = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "="):
                padding += 1
            default:
                // Nothing may follow padding, and every other character must be in the alphabet.
                guard padding == 0, let value = sextet(byte) else { return nil }
                sextets.append(value)
            }
        }
        let remainder = sextets.count % 4
        guard remainder != 1 else { return nil }
        if padding > 0 {
            guard remainder != 0, padding == 4 - remainder else { return nil }
        }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(sextets.count * 3 / 4)
        var index = 0
        while index + 4 <= sextets.count {
            let group = UInt32(sextets[index]) << 18 | UInt32(sextets[index + 1]) << 12 | UInt32(sextets[index + 2]) << 6 | UInt32(sextets[index + 3])
            bytes += [UInt8(truncatingIfNeeded: group >> 16), UInt8(truncatingIfNeeded: group >> 8), UInt8(truncatingIfNeeded: group)]
            index += 4
        }
        if remainder >= 2 {
            var group = UInt32(sextets[index]) << 18 | UInt32(sextets[index + 1]) << 12
            if remainder == 3 { group |= UInt32(sextets[index + 2]) << 6 }
            bytes.append(UInt8(truncatingIfNeeded: group >> 16))
            if remainder == 3 { bytes.append(UInt8(truncatingIfNeeded: group >> 8)) }
        }
        return bytes
    }

    /// `bytes` in standard base64 with padding (for `Authorization: Basic`).
    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                output.append(position <= count ? alphabet[Int(group >> UInt32(18 - 6 * position) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
