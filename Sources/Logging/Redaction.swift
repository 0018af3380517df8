/// Takes secrets out of a log message before it is written anywhere (the log file, stderr).
///
/// Log lines carry delegate configs and results, API call descriptions, error texts and
/// diagnostics. Any of them may quote a kubeconfig, a plugin's credentials or an HTTP header, and
/// a log file outlives the call and is read by people who may not see those. What is taken out:
/// - the value after a sensitive key (see `KeyKind`), in every form a key is written in: JSON
///   (`"token": "..."`, also quoted inside another string: `\"token\":\"...\"`), YAML
///   (`password: 'x'`, a tab after the colon, a plain value with spaces running to the end of
///   the line, a block of more indented lines below the key), HTTP headers
///   (`Authorization: Token x`), CNI_ARGS and URL queries (`API_TOKEN=x;`, `?token=x&`) and
///   flags (`--password=x`). An object or array value goes whole (`"tokens":["a"]`,
///   `"credentials":{"key":"k"}`);
/// - the credential after `Bearer ` or `Basic ` anywhere;
/// - the password in a URL's user info (`https://user:[redacted]@host`), or all of a user info
///   without a password (a token is often put there);
/// - a PEM private key block, `-----BEGIN ... PRIVATE ...-----` through its END line.
///
/// The text is read once, front to back, never rescanned: each construct consumes what it
/// looks at, and lookahead past a construct is bounded. A 1 MB line costs a few milliseconds
/// whatever it holds (Tests/benchmark/inputs.sh). Nothing is allocated for a line that holds no
/// secret.
public enum Redaction {
    public static let marker = "[redacted]"
    static let privateKeyMarker = "[redacted private key]"

    public static func redact(_ text: String) -> String {
        var copy = text
        let redacted = copy.withUTF8 { bytes in
            var scanner = RedactionScanner(bytes)
            scanner.run()
            return scanner.result
        }
        return redacted ?? text
    }
}
