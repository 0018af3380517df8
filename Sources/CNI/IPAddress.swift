import Glibc

/// Address family checks for the strings results and configs carry. We keep addresses as the
/// text the plugin wrote (round trips must not rewrite them) and only validate and classify.
public enum IPFamily: Sendable, Hashable {
    case v4, v6

    /// The family of a bare address ("10.1.2.3", "fd00::1"); nil when it is neither.
    public init?(address: String) {
        var buffer = in6_addr()
        if address.withCString({ inet_pton(AF_INET, $0, &buffer) }) == 1 {
            self = .v4
        } else if address.withCString({ inet_pton(AF_INET6, $0, &buffer) }) == 1 {
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
