/// A CNI specification version, parsed once so that comparisons are numeric, never textual.
public struct SpecVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "X.Y.Z". Returns nil for anything else; whether the version is one we speak is
    /// `isSupported`, a separate question with its own error code.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }),
            let major = Int(parts[0]), let minor = Int(parts[1]), let patch = Int(parts[2])
        else { return nil }
        self.init(major, minor, patch)
    }

    public static func < (a: SpecVersion, b: SpecVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static let v0_1_0 = SpecVersion(0, 1, 0)
    public static let v0_2_0 = SpecVersion(0, 2, 0)
    public static let v0_3_0 = SpecVersion(0, 3, 0)
    public static let v0_3_1 = SpecVersion(0, 3, 1)
    public static let v0_4_0 = SpecVersion(0, 4, 0)
    public static let v1_0_0 = SpecVersion(1, 0, 0)
    public static let v1_1_0 = SpecVersion(1, 1, 0)

    /// Every version this plugin reads and writes, oldest first (what VERSION reports).
    public static let all: [SpecVersion] = [.v0_1_0, .v0_2_0, .v0_3_0, .v0_3_1, .v0_4_0, .v1_0_0, .v1_1_0]
    public static let latest = v1_1_0

    public var isSupported: Bool { SpecVersion.all.contains(self) }

    /// Which result layout a version uses: the spec changed it twice.
    public var resultFormat: ResultFormat {
        if self < .v0_3_0 { .legacy } else if self < .v1_0_0 { .interfacesWithIPVersion } else { .current }
    }

    /// CHECK exists from 0.4.0 on.
    public var supportsCheck: Bool { self >= .v0_4_0 }
    /// STATUS and GC exist from 1.1.0 on.
    public var supportsStatusAndGC: Bool { self >= .v1_1_0 }
    /// `prevResult` is threaded along conflists from 0.3.0 on.
    public var supportsPrevResult: Bool { self >= .v0_3_0 }

    /// Reads a `cniVersion` field as libcni does: absent means 0.1.0.
    public static func fromConfigField(_ text: String?) -> SpecVersion? {
        guard let text, !text.isEmpty else { return .v0_1_0 }
        return SpecVersion(text)
    }
}

/// The three result layouts of the spec's history.
public enum ResultFormat: Sendable {
    /// 0.1.0 and 0.2.0: `ip4` and `ip6` objects.
    case legacy
    /// 0.3.0 to 0.4.0: `interfaces` and `ips`, each IP with a `version`.
    case interfacesWithIPVersion
    /// 1.0.0 and later: `ips` without `version`; 1.1.0 adds interface and route attributes.
    case current
}
