/// How an error message quotes the input it is about: as a JSON string literal (quotes,
/// backslashes and control characters escaped, so the message stays one unambiguous line), and
/// at most `limit` bytes of it, then `…`. Every message that echoes a config value, an
/// annotation, an environment variable, a file's content or a server's answer goes through here:
/// hostile input must not make an error, a log line or a pod event (the kubelet copies CNI errors
/// into them) megabytes long.
public enum Echo {
    /// Enough for any name, address or path a person would recognise.
    public static let limit = 256

    /// `"text"`, escaped, clipped to `limit` bytes.
    public static func quoted(_ text: some StringProtocol, limit: Int = limit) -> String {
        JSONValue.string(clipped(text, limit: limit)).serialized()
    }

    /// At most `limit` bytes of `text`, cut between Unicode scalars, then `…` if anything was cut.
    public static func clipped(_ text: some StringProtocol, limit: Int = limit) -> String {
        guard text.utf8.count > limit else { return String(text) }
        var kept = 0
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            kept += UTF8.width(scalar)
            if kept > limit { break }
            out.append(scalar)
        }
        return String(out) + "…"
    }
}
