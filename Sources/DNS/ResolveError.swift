/// A host name that did not resolve: the name, and what each source (the hosts file, each
/// nameserver) said about it.
public struct ResolveError: Error, Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var reason: String

    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    public var description: String { "cannot resolve \(host): \(reason)" }
}
