/// What a key's name says about its value.
///
/// Names are compared without case, `-` and `_` (`client-key-data`, `clientKeyData` and
/// `CLIENT_KEY_DATA` are one name). The decisions, each table-tested in RedactionTests:
/// - **secret**: the name contains `token`, `password`, `passwd`, `passphrase`, `secret`,
///   `credential`, `apikey`, `privatekey`, `keydata`, `presharedkey`, `bearer` or `cookie`; or is
///   or ends with `auth` (`auth`, `basicAuth`) or `psk`; or is `pass` or `pwd`.
/// - **authorization**: contains `authorization`; its plain value is a scheme and a credential,
///   and both go (`Authorization: Token x`).
/// - **key material**: is or ends with `key`/`keys` (`key`, `clientKey`, `tlsKey`, `sshKeys`).
///   The value goes unless it names where a key is rather than holding one: a path
///   (`/etc/tls/client.key`, `./client.key`) or a dotted name (`client.key`,
///   `node-role.kubernetes.io/master`, a taint's key); base64 and hex never hold a dot.
///   `publicKey` is not secret and stays.
/// - **not a secret**, although it contains one of the words above: a name ending in `file`,
///   `path`, `dir`, `name`, `ref`, `type`, `id`, `ttl`, `expiry`, `expiration`, `timestamp`,
///   `count`, `length`, `size`, `mode` or `kind` says where or what a secret is, not the secret
///   (`tokenFile`, `secretName`, `keyName`, `authType`, `passwordFile`): those values are what
///   an operator needs to read at 3 a.m.
enum KeyKind {
    case secret, authorization, keyMaterial

    /// Longer names are not keys anyone writes; they are not looked at.
    static let longestName = 128

    /// nil for a name whose value is not secret.
    init?(name: UnsafeBufferPointer<UInt8>) {
        guard name.count <= Self.longestName else { return nil }
        // Every `key: value` in a line comes here: folded on the stack, compared in place.
        let kind = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.longestName) { buffer -> KeyKind? in
            var length = 0
            for byte in name where byte != Ascii.dash && byte != UInt8(ascii: "_") {
                buffer[length] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                length += 1
            }
            return Self.classify(FoldedName(bytes: UnsafeBufferPointer(rebasing: buffer[..<length])))
        }
        guard let kind else { return nil }
        self = kind
    }

    private static func classify(_ name: FoldedName) -> KeyKind? {
        guard name.bytes.count >= 3, !name.endsWithReference else { return nil }
        if name.contains("authorization") { return .authorization }
        if name.containsSecretWord || name.ends(with: "auth") || name.ends(with: "psk") || name.is("pass") || name.is("pwd") { return .secret }
        if name.is("publickey") || name.is("publickeys") { return nil }
        return name.ends(with: "key") || name.ends(with: "keys") ? .keyMaterial : nil
    }
}

/// A key name in lower case without `-` and `_`, compared against literals without allocating.
private struct FoldedName {
    let bytes: UnsafeBufferPointer<UInt8>

    func matches(_ word: StaticString, at index: Int) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index >= 0, index + count <= bytes.count else { return false }
        let literal = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != literal[offset] { return false }
        return true
    }

    func `is`(_ word: StaticString) -> Bool { bytes.count == word.utf8CodeUnitCount && matches(word, at: 0) }
    func ends(with word: StaticString) -> Bool { matches(word, at: bytes.count - word.utf8CodeUnitCount) }
    func contains(_ word: StaticString) -> Bool { bytes.indices.contains { matches(word, at: $0) } }

    /// `token`, `password`, `passwd`, `passphrase`, `secret`, `credential`, `apikey`,
    /// `privatekey`, `keydata`, `presharedkey`, `bearer` or `cookie` anywhere.
    var containsSecretWord: Bool {
        bytes.indices.contains { index in
            switch bytes[index] {
            case UInt8(ascii: "t"): matches("token", at: index)
            case UInt8(ascii: "p"): matches("passw", at: index) || matches("passphrase", at: index) || matches("privatekey", at: index)
                || matches("presharedkey", at: index)
            case UInt8(ascii: "s"): matches("secret", at: index)
            case UInt8(ascii: "c"): matches("credential", at: index) || matches("cookie", at: index)
            case UInt8(ascii: "a"): matches("apikey", at: index)
            case UInt8(ascii: "k"): matches("keydata", at: index)
            case UInt8(ascii: "b"): matches("bearer", at: index)
            default: false
            }
        }
    }

    /// Ends in `file`, `path`, `dir`, `name`, `ref`, `type`, `id`, `ttl`, `expiry`,
    /// `expiration`, `timestamp`, `count`, `length`, `size`, `mode` or `kind` (and is more).
    var endsWithReference: Bool {
        func ends(_ suffix: StaticString) -> Bool { bytes.count > suffix.utf8CodeUnitCount && self.ends(with: suffix) }
        switch bytes.last {
        case UInt8(ascii: "e"): return ends("file") || ends("name") || ends("type") || ends("size") || ends("mode")
        case UInt8(ascii: "h"): return ends("path") || ends("length")
        case UInt8(ascii: "r"): return ends("dir")
        case UInt8(ascii: "f"): return ends("ref")
        case UInt8(ascii: "d"): return ends("id") || ends("kind")
        case UInt8(ascii: "l"): return ends("ttl")
        case UInt8(ascii: "y"): return ends("expiry")
        case UInt8(ascii: "n"): return ends("expiration")
        case UInt8(ascii: "p"): return ends("timestamp")
        case UInt8(ascii: "t"): return ends("count")
        default: return false
        }
    }
}
