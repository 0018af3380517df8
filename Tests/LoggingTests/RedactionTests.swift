import CNI
import Logging
import Testing
import TestSupport

@Suite("Secrets never logged")
struct RedactionTests {
    /// What goes, in every form a secret is written in.
    static let redacted: [(String, String)] = [
        (#"{"token":"abc.def","name":"x"}"#, #"{"token":"[redacted]","name":"x"}"#),
        (#"{"password": "p\"w", "user":"u"}"#, #"{"password": "[redacted]", "user":"u"}"#),
        (#"{"password":"a\"b\\","user":"u"}"#, #"{"password":"[redacted]","user":"u"}"#),
        ("client-key-data: LS0tLS1CRUdJTi\ncluster: c", "client-key-data: [redacted]\ncluster: c"),
        ("K8S_POD_NAME=web;API_TOKEN=s3cr3t;IP=10.1.0.9", "K8S_POD_NAME=web;API_TOKEN=[redacted];IP=10.1.0.9"),
        ("GET /x?access_token=abc&watch=1", "GET /x?access_token=[redacted]&watch=1"),
        ("--password=hunter2 --user=u", "--password=[redacted] --user=u"),
        // Names the issue found let through.
        (#"{"psk":"hunter2"}"#, #"{"psk":"[redacted]"}"#),
        (#"{"presharedKey":"q1w2e3r4+/="}"#, #"{"presharedKey":"[redacted]"}"#),
        (#"{"passphrase":"open sesame"}"#, #"{"passphrase":"[redacted]"}"#),
        (#"{"auths":{"r.io":{"auth":"dXNlcjpwYXNz"}}}"#, #"{"auths":{"r.io":{"auth":"[redacted]"}}}"#),
        (#"{"basicAuth":"u:p"}"#, #"{"basicAuth":"[redacted]"}"#),
        (#"{"key":"c2VjcmV0"}"#, #"{"key":"[redacted]"}"#),
        (#"{"clientKey":"MHcCAQEEIIrY"}"#, #"{"clientKey":"[redacted]"}"#),
        (#"{"tlsKey":"-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----"}"#, #"{"tlsKey":"[redacted]"}"#),
        (#"{"bearer":"abc"}"#, #"{"bearer":"[redacted]"}"#),
        ("Cookie: session=abc; theme=dark", "Cookie: [redacted]"),
        // Arrays and objects go whole.
        (#"{"tokens":["a","b"],"n":1}"#, #"{"tokens":[redacted],"n":1}"#),
        (#"{"credentials":{"key":"k","user":"u"},"n":1}"#, #"{"credentials":[redacted],"n":1}"#),
        (#"{"credentials":{"secret":"x"}}"#, #"{"credentials":[redacted]}"#),
        (#"{"secret":{"a":"}]","b":["{"]},"n":1}"#, #"{"secret":[redacted],"n":1}"#),
        // YAML.
        ("password: 'it''s x'\nuser: u", "password: '[redacted]'\nuser: u"),
        ("password: \"x y\"\nuser: u", "password: \"[redacted]\"\nuser: u"),
        ("password:\tx y\nuser: u", "password:\t[redacted]\nuser: u"),
        ("  secret: correct horse battery staple\n  name: x", "  secret: [redacted]\n  name: x"),
        ("- token: a b\n- name: n", "- token: [redacted]\n- name: n"),
        ("credentials:\n  key: k\n  user: u\nname: x", "credentials: [redacted]\nname: x"),
        ("tokens:\n- a\n- b\nname: x", "tokens: [redacted]\nname: x"),
        ("user:\n  token: # from the file\n    abc\n  name: n", "user:\n  token: [redacted]\n  name: n"),
        // Headers and schemes.
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: [redacted]"),
        ("Authorization: Token x\r\nAccept: */*", "Authorization: [redacted]\r\nAccept: */*"),
        ("sent Authorization: Token abc, Accept: json", "sent Authorization: [redacted], Accept: json"),
        ("header bearer eyJhbGciOi", "header bearer [redacted]"),
        ("basic dXNlcjpwYXNz then", "basic [redacted] then"),
        // Quoted inside another string, once or twice.
        (#"msg: {\"serviceAccountToken\":\"abc\"}"#, #"msg: {\"serviceAccountToken\":\"[redacted]\"}"#),
        (#"config: "{\"password\":\"p\\\"w\",\"user\":\"u\"}""#, #"config: "{\"password\":\"[redacted]\",\"user\":\"u\"}""#),
        (#"{\"tokens\":[\"a\",\"]\"],\"n\":1}"#, #"{\"tokens\":[redacted],\"n\":1}"#),
        (#"x: \\\"token\\\":\\\"a\\\\\\\"b\\\" y"#, #"x: \\\"token\\\":\\\"[redacted]\\\" y"#),
        // URL user info.
        ("server https://user:pass@host:6443/api", "server https://user:[redacted]@host:6443/api"),
        ("clone https://ghp_abc123@github.com/o/r", "clone https://[redacted]@github.com/o/r"),
        (#"{"server":"https://u:p@10.0.0.1"}"#, #"{"server":"https://u:[redacted]@10.0.0.1"}"#),
        // Private keys.
        ("key -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY----- after", "key [redacted private key] after"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nxyz\n-----END PGP PRIVATE KEY BLOCK-----\nnext", "[redacted private key]\nnext"),
        ("x -----BEGIN RSA PRIVATE KEY-----\nMIIE", "x [redacted private key]"),
        ("data=x-----BEGIN PRIVATE KEY-----\\nMIG\\n-----END PRIVATE KEY-----;", "data=x[redacted private key];"),
    ]

    /// What stays: names that say where or what a secret is, key values that are paths or
    /// label keys, public keys, prose, certificates.
    static let kept: [String] = [
        #"{"name":"net-a","type":"bridge","ipam":{"type":"host-local"}}"#,
        "the token expired",
        "token refresh failed, retrying",
        #"{"tokenFile":"/var/run/secrets/token","secretName":"db","keyName":"k1","authType":"basic","passwordFile":"/p"}"#,
        #"{"clientKey":"/etc/multus/tls/client.key","tlsKey":"./tls.key"}"#,
        "client-key: /etc/kubernetes/pki/client.key",
        #"{"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists"}]}"#,
        "tlsKey: tls.key",
        #"{"publicKey":"AbC+dEf="}"#,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "see https://github.com/k8snetworkplumbingwg/multus-cni#readme and http://[::1]:80/x@y",
        "pod default/web-0 (uid 1f2e) network macvlan-conf@net1: ok",
        "keyboard: us; monkey business",
        "",
    ]

    @Test("secrets go, however they are written", arguments: redacted)
    func redacts(_ input: String, _ expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    @Test("useful content stays", arguments: kept)
    func keeps(_ input: String) {
        #expect(Redaction.redact(input) == input)
    }

    /// A secret in each form, in random surroundings and pieces of the other forms: it never
    /// comes through, and redacting is idempotent.
    @Test func aSecretNeverSurvivesItsSurroundings() {
        let secret = "S3CR3T-VALUE"
        let forms = [#"{"token":"\#(secret)"}"#, #"\"password\":\"\#(secret)\""#, "apiKey: \(secret)", "psk=\(secret);",
                     "Authorization: Bearer \(secret)", "https://u:\(secret)@h/", #"{"credentials":{"k":"\#(secret)"}}"#,
                     "-----BEGIN PRIVATE KEY-----\n\(secret)\n-----END PRIVATE KEY-----", "basic \(secret)", "token=-----BEGIN PRIVATE KEY-----\n\(secret)",
                     // YAML blocks begin a line.
                     "\ntokens:\n- \(secret)", "\ncredentials:\n  user: u\n  key: \(secret)"]
        let noise = ["", " ", "\n", " x ", "{", "}", "[", "\"", "\\", "\\\"", ":", "=", ";", "'", "-----", " key ", "https://", "@", "\t", " token "]
        var random = SeededGenerator(seed: 0x5EC2E7)
        for _ in 0..<3000 {
            let form = forms.randomElement(using: &random)!
            let before = (0..<Int.random(in: 0...3, using: &random)).map { _ in noise.randomElement(using: &random)! }.joined()
            let after = (0..<Int.random(in: 0...3, using: &random)).map { _ in noise.randomElement(using: &random)! }.joined()
            let text = before + form + after
            let once = Redaction.redact(text)
            #expect(!once.contains(secret), "\(random): \(text.debugDescription) -> \(once.debugDescription)")
            let twice = Redaction.redact(once)
            #expect(twice == once, "\(random): \(text.debugDescription) -> \(once.debugDescription) -> \(twice.debugDescription)")
        }
    }

    /// Inputs on which the old scanner rescanned to the end of the text for each construct.
    /// Linear code takes milliseconds; the limit only stops a quadratic one from hanging the
    /// suite (figures: Tests/benchmark/inputs.sh).
    @Test("1 MB of each worst case is read once", .timeLimit(.minutes(1)), arguments: [
        "-----BEGIN \n", "token: ", "{\"secret\":[", "\\\\\\\"", "-----", "Bearer ", "https://a:b@", "key:\n ",
    ])
    func worstCasesAreLinear(_ unit: String) {
        let text = String(repeating: unit, count: (1 << 20) / unit.utf8.count) + "-----BEGIN PRIVATE KEY-----"
        let redacted = Redaction.redact(text)
        #expect(redacted.utf8.count <= 2 * text.utf8.count)
        // The key at the very end was still seen, alone or inside a value that went.
        #expect(!redacted.contains("-----BEGIN PRIVATE KEY-----"), "ends \(redacted.suffix(80).debugDescription)")
    }

    @Test("a secret logged at any level never reaches stderr or the file", arguments: LogLevel.allCases)
    func neverWritten(_ level: LogLevel) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.pathOf("multus.log")
        let log = Logger(LogSettings(file: path, level: .debug))
        log.log(level, #"kubeconfig {"users":[{"user":{"token":"TOPSECRET","client-key-data":"TOPSECRET"}}]} Authorization: Bearer TOPSECRET"#)
        let written = String(decoding: try readFile(path), as: UTF8.self)
        #expect(written.contains("[\(level)] kubeconfig"))
        #expect(!written.contains("TOPSECRET"))
        #expect(log.stderrLines.count == 1)
        #expect(log.stderrLines.first?.contains("TOPSECRET") == false)
    }
}
