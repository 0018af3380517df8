/// Typed reads of one JSON object's fields, each failure naming the full field path.
///
/// Decoding is lenient about unknown keys (they belong to someone else) and strict about the
/// kinds of known ones: `"mtu": "1500"` is an error that says so, not a silently ignored field.
public struct JSONFields: Sendable {
    public let object: JSONObject
    /// The path of this object, like `delegates[2]`; empty for the document root.
    public let path: String

    public init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// Requires `value` to be an object.
    public init(_ value: JSONValue, path: String) throws(SpecError) {
        guard let object = value.objectValue else {
            throw .invalidField(path: path.isEmpty ? "(document)" : path, reason: "must be an object, found \(value.kindName)")
        }
        self.init(object, path: path)
    }

    /// `path.key`; a key from the input (a capability's name) is clipped as `Echo` clips.
    public func path(_ key: String) -> String { path.isEmpty ? Echo.clipped(key) : "\(path).\(Echo.clipped(key))" }

    /// A present, non-null value.
    private func value(_ key: String) -> JSONValue? {
        switch object[key] {
        case nil, .null?: nil
        case let v?: v
        }
    }

    private func mismatch(_ key: String, _ expected: String, _ found: JSONValue) -> SpecError {
        .invalidField(path: path(key), reason: "must be \(expected), found \(found.kindName)")
    }

    public func string(_ key: String) throws(SpecError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw mismatch(key, "a string", v) }
        return s
    }

    public func requiredString(_ key: String) throws(SpecError) -> String {
        guard let s = try string(key) else { throw .missingField(path: path(key)) }
        return s
    }

    public func bool(_ key: String) throws(SpecError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw mismatch(key, "true or false", v) }
        return b
    }

    public func int(_ key: String) throws(SpecError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw mismatch(key, "an integer", v) }
        return i
    }

    public func object(_ key: String) throws(SpecError) -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard let o = v.objectValue else { throw mismatch(key, "an object", v) }
        return o
    }

    public func fields(_ key: String) throws(SpecError) -> JSONFields? {
        try object(key).map { JSONFields($0, path: path(key)) }
    }

    public func array(_ key: String) throws(SpecError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw mismatch(key, "an array", v) }
        return a
    }

    /// Each element of an array of objects, with its indexed path.
    public func objects(_ key: String) throws(SpecError) -> [JSONFields] {
        var out: [JSONFields] = []
        for (i, element) in (try array(key) ?? []).enumerated() {
            out.append(try JSONFields(element, path: "\(path(key))[\(i)]"))
        }
        return out
    }

    public func strings(_ key: String) throws(SpecError) -> [String] {
        var out: [String] = []
        for (i, element) in (try array(key) ?? []).enumerated() {
            guard let s = element.stringValue else {
                throw .invalidField(path: "\(path(key))[\(i)]", reason: "must be a string, found \(element.kindName)")
            }
            out.append(s)
        }
        return out
    }

    /// A `cniVersion` field: absent means 0.1.0 (as libcni reads it); unknown versions are refused.
    public func specVersion(_ key: String = "cniVersion") throws(SpecError) -> SpecVersion {
        let text = try string(key)
        guard let version = SpecVersion.fromConfigField(text), version.isSupported else {
            throw .unsupportedVersion(path: path(key), value: text ?? "")
        }
        return version
    }
}
