import CNI
import Glibc
import TestSupport

/// The bytes of a file under `testdata/`.
func fixtureBytes(_ relative: String) throws -> [UInt8] { try readFile(testdata(relative)) }

/// A file under `testdata/`, parsed as JSON.
func fixtureJSON(_ relative: String) throws -> JSONValue {
    try JSONValue.parse(fixtureBytes(relative))
}

/// A `SpecError` without its human-readable reason, so that tables can name the case and the
/// field or variable it points at without pinning prose.
enum SpecFailure: Hashable, Sendable {
    case syntax(offset: Int)
    case invalidField(String)
    case missingField(String)
    case unsupportedVersion(String, value: String)
    case unconvertible(from: SpecVersion, to: SpecVersion)
    case missingEnvironment(command: String, names: [String])
    case invalidEnvironment(String)
    /// Something other than a `SpecError` was thrown.
    case other(String)

    init(_ error: any Error) {
        guard let error = error as? SpecError else {
            self = .other(String(describing: error))
            return
        }
        switch error {
        case .syntax(let e): self = .syntax(offset: e.offset)
        case .invalidField(let path, _): self = .invalidField(path)
        case .missingField(let path): self = .missingField(path)
        case .unsupportedVersion(let path, let value): self = .unsupportedVersion(path, value: value)
        case .unconvertible(let from, let to, _): self = .unconvertible(from: from, to: to)
        case .missingEnvironment(let command, let names): self = .missingEnvironment(command: command, names: names)
        case .invalidEnvironment(let name, _): self = .invalidEnvironment(name)
        }
    }
}

/// How `body` fails, or nil when it does not.
func specFailure(_ body: () throws -> some Any) -> SpecFailure? {
    do {
        _ = try body()
        return nil
    } catch {
        return SpecFailure(error)
    }
}
