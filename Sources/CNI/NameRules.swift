/// The spec's rules for identifiers, each returning what is wrong (nil when valid) so that the
/// caller can say which variable or field broke which rule.
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

    /// Interface names: 1-15 bytes, not "." or "..", no '/', ':' or whitespace (spec, CNI_IFNAME;
    /// the kernel's IFNAMSIZ).
    public static func interfaceNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 15 { return "\"\(name)\" is longer than 15 bytes" }
        if name == "." || name == ".." { return "must not be \"\(name)\"" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) {
            return "\"\(name)\" contains '/', ':' or whitespace"
        }
        return nil
    }

    private static func identifierProblem(_ text: String, what: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        func alnum(_ s: Unicode.Scalar) -> Bool { s.isASCII && (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)) }
        guard let first = scalars.first, alnum(first) else { return "\(what) \"\(text)\" must start with a letter or digit" }
        if let bad = scalars.first(where: { !alnum($0) && $0 != "_" && $0 != "." && $0 != "-" }) {
            return "\(what) \"\(text)\" contains '\(bad)'; only letters, digits, '_', '.' and '-' are allowed"
        }
        return nil
    }
}
