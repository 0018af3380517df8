/// The CNI error object: the wire format and the error type are the same thing, so a delegate's
/// error can travel up unchanged while we add context to `details`.
public struct CNIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An error code; open so a delegate's own codes (100+) pass through.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        public static let incompatibleVersion = Code(rawValue: 1)
        public static let unsupportedField = Code(rawValue: 2)
        public static let unknownContainer = Code(rawValue: 3)
        public static let invalidEnvironment = Code(rawValue: 4)
        public static let ioFailure = Code(rawValue: 5)
        public static let decodingFailure = Code(rawValue: 6)
        public static let invalidNetworkConfig = Code(rawValue: 7)
        public static let tryAgainLater = Code(rawValue: 11)
        public static let notAvailable = Code(rawValue: 50)
        public static let limitedConnectivity = Code(rawValue: 51)
        public static let generic = Code(rawValue: 999)

        public var description: String { String(rawValue) }
    }

    public var code: Code
    public var msg: String
    public var details: String

    public init(_ code: Code, _ msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    public var description: String { details.isEmpty ? msg : "\(msg): \(details)" }

    /// The object a plugin prints on failure.
    public func json(cniVersion: SpecVersion) -> JSONValue {
        var object = JSONObject()
        object["cniVersion"] = .string(cniVersion.description)
        object["code"] = JSONValue(code.rawValue)
        object["msg"] = .string(msg)
        if !details.isEmpty { object["details"] = .string(details) }
        return .object(object)
    }

    /// Reads a plugin's error output; nil when it is not a CNI error object.
    public init?(json: JSONValue) {
        guard let object = json.objectValue, let code = object["code"]?.intValue else { return nil }
        self.init(Code(rawValue: code), object["msg"]?.stringValue ?? "", details: object["details"]?.stringValue ?? "")
    }

    /// The same error with context prepended to `details`: code and message stay the delegate's.
    public func adding(context: String) -> CNIError {
        var copy = self
        copy.details = details.isEmpty ? context : "\(context): \(details)"
        return copy
    }
}
