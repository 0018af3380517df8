import CNI
import Glibc

/// The absolute path of a file under the package's `testdata/`, found by walking up from this
/// source file to the directory holding `Package.swift` (no working-directory assumptions).
func testdata(_ relative: String, filePath: String = #filePath) -> String {
    var directory = Substring(filePath)
    while let slash = directory.lastIndex(of: "/") {
        directory = directory[..<slash]
        if access("\(directory)/Package.swift", F_OK) == 0 { return "\(directory)/testdata/\(relative)" }
    }
    return "testdata/\(relative)"
}

struct FixtureError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32
    var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
}

/// The bytes of a file under `testdata/`.
func fixtureBytes(_ relative: String) throws -> [UInt8] {
    let path = testdata(relative)
    guard let file = fopen(path, "rb") else { throw FixtureError(path: path, errno: errno) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        bytes += chunk[..<count]
        if count < chunk.count { break }
    }
    guard ferror(file) == 0 else { throw FixtureError(path: path, errno: errno) }
    return bytes
}

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
