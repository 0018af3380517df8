/// Takes secrets out of a log message before it is written anywhere.
///
/// Log lines carry delegate configs and results, API call descriptions and error texts. Any of
/// them may quote a kubeconfig or a plugin's credentials, and a log file outlives the call and
/// is read by people who may not see those. Three shapes are recognised:
/// - a value after a sensitive key, in JSON (`"token": "..."`), YAML (`token: ...`) or
///   CNI_ARGS (`PASSWORD=...`) form;
/// - the credential after `Bearer ` or `Basic ` (an Authorization header however quoted);
/// - a PEM private key block.
public enum Redaction {
    public static let marker = "[redacted]"

    /// Key names (compared without case, `-` and `_`) whose values are secrets wherever they appear.
    static let sensitiveKeyParts = ["token", "password", "passwd", "secret", "keydata", "privatekey", "authorization", "credential", "apikey"]
        .map { Array($0.utf8) }
    /// Some of these appears (without case) in any text a pass below would change: most lines
    /// have none, and are returned after one scan.
    static let triggers = ["token", "passw", "secret", "key", "auth", "credential", "bearer", "basic"].map { Array($0.utf8) }
    static let schemes = ["bearer ", "basic "].map { Array($0.utf8) }

    public static func redact(_ text: String) -> String {
        var bytes = Array(text.utf8)
        let folded = bytes.map(lowercased)
        guard triggers.contains(where: { firstIndex(of: $0, in: folded, from: 0) != nil }) else { return text }
        bytes = redactPrivateKeys(bytes)
        bytes = redactSchemes(bytes)
        bytes = redactKeyedValues(bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `-----BEGIN ... PRIVATE KEY-----` through its END line (or the end of the text).
    static func redactPrivateKeys(_ bytes: [UInt8]) -> [UInt8] {
        let begin = Array("-----BEGIN ".utf8), privateKey = Array("PRIVATE KEY-----".utf8), end = Array("-----END ".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "-"), bytes[i...].starts(with: begin), let header = firstIndex(of: privateKey, in: bytes, from: i),
                !bytes[i..<header].contains(UInt8(ascii: "\n")) {
                let afterEnd = firstIndex(of: end, in: bytes, from: header).flatMap { firstIndex(of: Array("-----".utf8), in: bytes, from: $0 + end.count) }
                out += Array("[redacted private key]".utf8)
                i = afterEnd.map { $0 + 5 } ?? bytes.count
                continue
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }

    /// The credential after `Bearer ` or `Basic ` (case-insensitive).
    static func redactSchemes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if i == 0 || !isWordByte(bytes[i - 1]), let scheme = schemes.first(where: { startsWithoutCase(bytes, at: i, $0) }) {
                out += bytes[i..<(i + scheme.count)]
                i += scheme.count
                while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
                let start = i
                while i < bytes.count, !isValueEnd(bytes[i]) { i += 1 }
                if i > start { out += Array(marker.utf8) }
                continue
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }

    /// The value after each sensitive key: a quoted string (escapes honoured) or a bare word.
    /// An object or array value is left to the keys inside it.
    static func redactKeyedValues(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard isKeyByte(bytes[i]), i == 0 || !isKeyByte(bytes[i - 1]) else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let keyStart = i
            var end = i
            while end < bytes.count, isKeyByte(bytes[end]) { end += 1 }
            out += bytes[i..<end]
            i = end
            guard isSensitiveKey(bytes[keyStart..<end]), let start = valueStart(bytes, after: end) else { continue }
            out += bytes[end..<start]
            if bytes[start] == UInt8(ascii: "\\"), start + 1 < bytes.count, bytes[start + 1] == UInt8(ascii: "\"") {
                // A JSON text quoted inside another string (an error message): \"value\".
                out += Array("\\\"\(marker)\\\"".utf8)
                i = firstIndex(of: Array("\\\"".utf8), in: bytes, from: start + 2).map { $0 + 2 } ?? bytes.count
            } else if bytes[start] == UInt8(ascii: "\"") {
                out += Array("\"\(marker)\"".utf8)
                i = quotedEnd(bytes, from: start)
            } else {
                var stop = start
                while stop < bytes.count, !isValueEnd(bytes[stop]) { stop += 1 }
                out += Array(marker.utf8)
                i = stop
            }
        }
        return out
    }

    /// Where the value begins after a key ending at `keyEnd`: past a closing quote, spaces, one
    /// `:` or `=`, spaces. Nil when no separator follows, or the value is an object or array.
    private static func valueStart(_ bytes: [UInt8], after keyEnd: Int) -> Int? {
        var i = keyEnd
        if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "\"") { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "\"") { i += 1 }
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") || bytes[i] == UInt8(ascii: "=") else { return nil }
        i += 1
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < bytes.count, bytes[i] != UInt8(ascii: "{"), bytes[i] != UInt8(ascii: "["),
            !isValueEnd(bytes[i]) || bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "\\") else { return nil }
        return i
    }

    /// Just past the closing quote of the string opening at `start` (or the end of the text).
    private static func quotedEnd(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start + 1
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\") { i += 2; continue }
            if bytes[i] == UInt8(ascii: "\"") { return i + 1 }
            i += 1
        }
        return bytes.count
    }

    private static func isSensitiveKey(_ key: ArraySlice<UInt8>) -> Bool {
        guard key.count >= 5 else { return false }
        let folded = key.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "_") }.map(lowercased)
        return sensitiveKeyParts.contains { firstIndex(of: $0, in: folded, from: 0) != nil }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private static func isWordByte(_ byte: UInt8) -> Bool { isKeyByte(byte) }

    private static func isValueEnd(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";"), UInt8(ascii: ","),
             UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "&"): true
        default: false
        }
    }

    /// Whether `prefix` (lowercase) starts at `index`, without case.
    private static func startsWithoutCase(_ bytes: [UInt8], at index: Int, _ prefix: [UInt8]) -> Bool {
        guard index + prefix.count <= bytes.count else { return false }
        for offset in prefix.indices where lowercased(bytes[index + offset]) != prefix[offset] { return false }
        return true
    }

    private static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        var i = start
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var offset = 1
                while offset < needle.count && bytes[i + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
