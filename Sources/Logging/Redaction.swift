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

    public static func redact(_ text: String) -> String {
        guard !text.isEmpty else { return text }
        var bytes = Array(text.utf8)
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
            if bytes[i...].starts(with: begin), let header = firstIndex(of: privateKey, in: bytes, from: i),
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
            if let scheme = ["bearer ", "basic "].first(where: { startsWithoutCase(bytes, at: i, $0) }),
                i == 0 || !isWordByte(bytes[i - 1]) {
                out += bytes[i..<(i + scheme.utf8.count)]
                i += scheme.utf8.count
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

    private static func isSensitiveKey(_ key: some Collection<UInt8>) -> Bool {
        let folded = String(decoding: key.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "_") }, as: UTF8.self).lowercased()
        return sensitiveKeyParts.contains { folded.contains($0) }
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private static func isWordByte(_ byte: UInt8) -> Bool { isKeyByte(byte) }

    private static func isValueEnd(_ byte: UInt8) -> Bool {
        [" ", "\t", "\n", "\r", ";", ",", "}", "]", "\"", "'", "&"].contains { byte == UInt8(ascii: $0) }
    }

    private static func startsWithoutCase(_ bytes: [UInt8], at index: Int, _ prefix: String) -> Bool {
        let wanted = Array(prefix.utf8)
        guard index + wanted.count <= bytes.count else { return false }
        return zip(bytes[index..<(index + wanted.count)], wanted).allSatisfy { a, b in a == b || (a | 0x20 == b && b >= 0x61 && b <= 0x7A) }
    }

    private static func firstIndex(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
