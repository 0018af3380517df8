import CNI

// Addresses and prefixes as literals in tests ("10.1.0.5/16"). Product code parses them from
// input and never from a literal, so this lives here: a typo in a test stops the test run.

extension IPAddress: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let address = IPAddress(text) else { fatalError("not an IP address in a test: \(text)") }
        self = address
    }
}

extension IPPrefix: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let prefix = IPPrefix(text) else { fatalError("not ADDRESS/LENGTH in a test: \(text)") }
        self = prefix
    }
}
