/// What can be wrong with CNI input, as this module sees it. The meta-plugin maps each case to a
/// CNI code in one place; here every case carries enough to name the field and the value.
public enum SpecError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bytes are not JSON.
    case syntax(JSONSyntaxError)
    /// A field has the wrong kind or an invalid value. `path` is like `plugins[1].type`.
    case invalidField(path: String, reason: String)
    /// A required field is absent.
    case missingField(path: String)
    /// A `cniVersion` we cannot parse or do not speak.
    case unsupportedVersion(path: String, value: String)
    /// A result cannot be expressed in the requested version.
    case unconvertible(from: SpecVersion, to: SpecVersion, reason: String)
    /// Environment variables a command needs are absent (all of them, at once).
    case missingEnvironment(command: String, names: [String])
    /// An environment variable is present but invalid.
    case invalidEnvironment(name: String, reason: String)

    public var description: String {
        switch self {
        case .syntax(let e): e.description
        case .invalidField(let path, let reason): "field \(path): \(reason)"
        case .missingField(let path): "field \(path) is required"
        case .unsupportedVersion(let path, let value):
            "field \(path): CNI version \(Echo.quoted(value)) is not supported (supported: \(SpecVersion.all.map(\.description).joined(separator: ", ")))"
        case .unconvertible(let from, let to, let reason): "cannot convert a \(from) result to \(to): \(reason)"
        case .missingEnvironment(let command, let names):
            "\(command) needs environment variable\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")), not set"
        case .invalidEnvironment(let name, let reason): "environment variable \(name): \(reason)"
        }
    }

    /// The code the spec assigns to this kind of failure.
    public var code: CNIError.Code {
        switch self {
        case .syntax: .decodingFailure
        case .invalidField, .missingField: .invalidNetworkConfig
        case .unsupportedVersion, .unconvertible: .incompatibleVersion
        case .missingEnvironment, .invalidEnvironment: .invalidEnvironment
        }
    }
}
