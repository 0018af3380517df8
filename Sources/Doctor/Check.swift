import CNI

/// How a check came out.
public enum Verdict: String, Sendable, Hashable, CaseIterable {
    case ok
    /// Works now, but something an operator should look at (a leftover, a missing optional grant).
    case warning
    /// Something the plugin needs is broken: pods on this node will fail (or already do).
    case error
}

/// One line of `multus doctor`'s report: what was checked, how it came out, what was found,
/// and what to do about it (empty when there is nothing to do).
public struct Check: Sendable, Hashable {
    /// `group.subject`: `kubernetes.rbac`, `plugins.macvlan`.
    public var name: String
    public var verdict: Verdict
    public var detail: String
    public var fix: String

    public init(_ name: String, _ verdict: Verdict, _ detail: String, fix: String = "") {
        self.name = name
        self.verdict = verdict
        self.detail = detail
        self.fix = fix
    }

    public static func ok(_ name: String, _ detail: String) -> Check { Check(name, .ok, detail) }
    public static func warning(_ name: String, _ detail: String, fix: String) -> Check { Check(name, .warning, detail, fix: fix) }
    public static func error(_ name: String, _ detail: String, fix: String) -> Check { Check(name, .error, detail, fix: fix) }
}

extension Duration {
    /// `12 ms`, `1.5 s`: how the doctor reports a latency or a deadline.
    var doctorText: String {
        let ms = Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
        if ms < 1000 { return "\(ms) ms" }
        let tenths = ms / 100
        return tenths % 10 == 0 ? "\(tenths / 10) s" : "\(tenths / 10).\(tenths % 10) s"
    }
}
