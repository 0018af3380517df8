import CNI
import Testing
import TestSupport

/// The spec's identifier rules: nil means valid.
@Suite("NameRules")
struct NameRulesTests {
    static let identifiers: [(String, valid: Bool)] = [
        ("abc123", true), ("0abc", true), ("a_b.c-d", true), ("A", true), ("a..", true),
        (String(repeating: "f", count: 64), true),
        ("", false), ("-abc", false), ("_abc", false), (".abc", false), ("abc/def", false), ("a b", false),
        ("a:b", false), ("a\tb", false), ("café", false), ("ａbc", false), ("abc\n", false),
    ]

    @Test(arguments: identifiers)
    func containerID(_ id: String, valid: Bool) {
        #expect((NameRules.containerIDProblem(id) == nil) == valid)
    }

    @Test(arguments: identifiers)
    func networkName(_ name: String, valid: Bool) {
        #expect((NameRules.networkNameProblem(name) == nil) == valid)
    }

    static let interfaceNames: [(String, valid: Bool)] = [
        ("eth0", true), ("net1", true), ("a", true), ("...", true), (".a", true), ("veth-1_a.b@x", true),
        ("fifteen-bytes15", true), // 15 bytes
        ("ééééééé", true), // 14 bytes
        ("éééééééx", true), // 15 bytes
        ("sixteen-bytes-16", false),
        ("éééééééé", false), // 16 bytes in 8 characters
        ("😀😀😀😀", false), // 16 bytes in 4 characters
        ("", false), (".", false), ("..", false), ("a/b", false), ("/", false), ("a:b", false), ("eth0:1", false),
        ("a b", false), (" ", false), ("a\tb", false), ("a\nb", false), ("a\u{A0}b", false), ("a\u{2003}b", false),
    ]

    @Test(arguments: interfaceNames)
    func interfaceName(_ name: String, valid: Bool) {
        #expect((NameRules.interfaceNameProblem(name) == nil) == valid)
    }

    @Test func problemsNameTheRule() {
        #expect(NameRules.interfaceNameProblem("éééééééé")?.contains("longer than 15 bytes") == true)
        #expect(NameRules.containerIDProblem("")?.contains("must not be empty") == true)
        #expect(NameRules.containerIDProblem("a/b")?.contains("'/'") == true)
        #expect(NameRules.networkNameProblem("-x")?.contains("network name") == true)
    }
}
