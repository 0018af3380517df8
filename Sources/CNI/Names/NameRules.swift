/// The rules for identifiers, each returning what is wrong (nil when valid) so that the caller can
/// say which variable or field broke which rule. Values are quoted clipped and escaped: a message
/// never carries a hostile value whole, nor a raw control character.
public enum NameRules {
    /// Container IDs: "alphanumeric, then alphanumerics, `_`, `.` or `-`" (spec, CNI_CONTAINERID).
    public static func containerIDProblem(_ id: String) -> String? {
        guard !id.isEmpty else { return "must not be empty" }
        return identifierProblem(id, what: "container ID")
    }

    /// Network names follow the same rule as container IDs (spec, section "name").
    public static func networkNameProblem(_ name: String) -> String? {
        guard !name.isEmpty else { return "must not be empty" }
        return identifierProblem(name, what: "network name")
    }

    /// Interface names as the kernel's `dev_valid_name` accepts them, and libcni's
    /// `ValidateInterfaceName`: 1-15 bytes (IFNAMSIZ), not "." or "..", no '/', ':' or whitespace
    /// (Unicode's, as libcni, and the kernel's `isspace`, which also refuses the byte 0xA0 inside
    /// a UTF-8 character), and no NUL: the name reaches CNI_IFNAME as a C string, so "eth0\0" would
    /// arrive as "eth0" and a secondary's plugins would act on the main interface.
    public static func interfaceNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 15 { return "\(Echo.quoted(name)) is longer than 15 bytes" }
        if name == "." || name == ".." { return "must not be \(Echo.quoted(name))" }
        if name.utf8.contains(0) { return "\(Echo.quoted(name)) contains a NUL byte" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) || name.utf8.contains(0xA0) {
            return "\(Echo.quoted(name)) contains '/', ':' or whitespace"
        }
        return nil
    }

    /// A DNS-1123 label, as Kubernetes validates namespaces (`IsDNS1123Label`): at most 63
    /// characters of lower-case letters, digits and '-', starting and ending with a letter or digit.
    public static func dns1123LabelProblem(_ text: String, what: String) -> String? {
        if text.utf8.count > 63 { return "\(what) \(Echo.quoted(text)) is longer than 63 characters" }
        if !isDNS1123Label(text.utf8[...]) {
            return "\(what) \(Echo.quoted(text)) must consist of lower case letters, digits and '-', and start and end with a letter or digit"
        }
        return nil
    }

    /// A DNS-1123 subdomain, as Kubernetes validates pod and custom resource names
    /// (`IsDNS1123Subdomain`): at most 253 characters, labels of the rule above (without their
    /// length limit) joined by '.'.
    public static func dns1123SubdomainProblem(_ text: String, what: String) -> String? {
        if text.utf8.count > 253 { return "\(what) \(Echo.quoted(text)) is longer than 253 characters" }
        if !text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(isDNS1123Label) {
            return "\(what) \(Echo.quoted(text)) must consist of lower case letters, digits, '-' and '.', and start and end with a letter or digit"
        }
        return nil
    }

    /// A pod UID as runtimes pass it in K8S_POD_UID: the API server's UUIDs, the kubelet's hex
    /// hash of a static pod's manifest. Kubernetes sets no rule of its own, so this is the widest
    /// one that keeps the value harmless wherever it goes: 1-128 letters, digits, '-', '_' or '.'.
    public static func podUIDProblem(_ uid: String) -> String? {
        guard !uid.isEmpty else { return "must not be empty" }
        if uid.utf8.count > 128 { return "\(Echo.quoted(uid)) is longer than 128 characters" }
        if !uid.utf8.allSatisfy({ isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) {
            return "\(Echo.quoted(uid)) may hold only letters, digits, '-', '_' and '.'"
        }
        return nil
    }



    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    private static func isDNS1123Label(_ bytes: Substring.UTF8View) -> Bool {
        func lowerAlphanumeric(_ c: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
        }
        guard let first = bytes.first, let last = bytes.last, lowerAlphanumeric(first), lowerAlphanumeric(last) else { return false }
        return bytes.allSatisfy { lowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isASCIIAlphanumeric(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
    }

    private static func identifierProblem(_ text: String, what: String) -> String? {
        let bytes = text.utf8
        guard let first = bytes.first, isASCIIAlphanumeric(first) else { return "\(what) \(Echo.quoted(text)) must start with a letter or digit" }
        if let bad = text.unicodeScalars.first(where: { !($0.isASCII && isASCIIAlphanumeric(UInt8($0.value))) && $0 != "_" && $0 != "." && $0 != "-" }) {
            return "\(what) \(Echo.quoted(text)) contains '\(bad.escaped(asASCII: false))'; only letters, digits, '_', '.' and '-' are allowed"
        }
        return nil
    }
}
