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
        (".", false), ("..", false), ("/", false), ("abc\u{0}", false), ("\u{0}abc", false), ("a\r\nb", false),
    ]

    @Test(arguments: identifiers)
    func containerID(_ id: String, valid: Bool) {
        #expect(((try? ContainerID(id)) != nil) == valid)
    }

    /// NAD names (DNS-1123 subdomains) all pass: the network name is the wider rule.
    @Test(arguments: identifiers + kubernetesNames.filter(\.subdomain).map { ($0.0, valid: true) })
    func networkName(_ name: String, valid: Bool) {
        #expect(((try? NetworkName(name)) != nil) == valid)
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
        // A NUL ends the C string CNI_IFNAME becomes: "eth0\0" would reach the plugin as "eth0".
        ("eth0\u{0}", false), ("\u{0}", false), ("\u{0}eth0", false), ("net1\u{0}x", false),
        // The kernel's isspace() refuses the byte 0xA0, here the second byte of "à" (C3 A0).
        ("eth\u{E0}", false), ("eth\u{E1}", true),
    ]

    @Test(arguments: interfaceNames)
    func interfaceName(_ name: String, valid: Bool) {
        #expect(((try? InterfaceName(name)) != nil) == valid)
    }

    static let kubernetesNames: [(String, label: Bool, subdomain: Bool)] = [
        ("default", true, true), ("kube-system", true, true), ("a", true, true), ("0", true, true), ("web-0.shard-1", false, true),
        (String(repeating: "a", count: 63), true, true), (String(repeating: "a", count: 64), false, true),
        (String(repeating: "a", count: 253), false, true), (String(repeating: "a", count: 254), false, false),
        ("", false, false), ("-a", false, false), ("a-", false, false), ("A", false, false), ("a_b", false, false), ("a/b", false, false),
        ("a..b", false, false), (".a", false, false), ("web-0\r\nHost: x", false, false), ("web\u{0}", false, false), ("wéb", false, false),
        (".", false, false), ("..", false, false), ("web-0\n", false, false), ("web-0\r", false, false), ("\u{0}", false, false),
    ]

    @Test(arguments: kubernetesNames)
    func kubernetesName(_ name: String, label: Bool, subdomain: Bool) {
        #expect(((try? Namespace(name)) != nil) == label)
        #expect(((try? PodName(name)) != nil) == subdomain)
    }

    static let podUIDs: [(String, valid: Bool)] = [
        ("9d3c2b1a-0f8e-7d6c-5b4a-39281706f5e4", true), ("9d3c2b1a0f8e7d6c5b4a39281706f5e4", true), ("uid-web-0", true), ("A.b_c", true),
        (String(repeating: "f", count: 128), true), (String(repeating: "f", count: 129), false),
        ("", false), ("a b", false), ("a/b", false), ("a;b", false), ("a\r\nb", false), ("ü", false), ("uid\u{0}", false), ("/", false),
    ]

    @Test(arguments: podUIDs)
    func podUID(_ uid: String, valid: Bool) {
        #expect(((try? PodUID(uid)) != nil) == valid)
    }

    @Test func aValidNameKeepsItsTextAndAnInvalidOneSaysWhy() throws {
        #expect(try InterfaceName("net1").text == "net1")
        #expect(try ContainerID("abc").description == "abc")
        #expect(throws: NameError(reason: #""eth0\u0000" contains a NUL byte"#)) { try InterfaceName("eth0\u{0}") }
        let long = String(repeating: "x", count: 10_000)
        let error = #expect(throws: NameError.self) { try PodName(long + "\n") }
        // The value's bounded quotation, and a sentence about the rule.
        #expect((error?.reason.utf8.count ?? .max) < Echo.limit + 128, "a hostile value is quoted clipped")
    }

    /// Each type applies its rule, and says what the rule says.
    @Test func eachTypeReportsItsRulesProblem() {
        let cases: [(String?, String?)] = [
            (reason(ContainerID.self, "a/b"), NameRules.containerIDProblem("a/b")),
            (reason(InterfaceName.self, "sixteen-bytes-16"), NameRules.interfaceNameProblem("sixteen-bytes-16")),
            (reason(NetworkName.self, ".."), NameRules.networkNameProblem("..")),
            (reason(PodName.self, "web-0\r\n"), NameRules.dns1123SubdomainProblem("web-0\r\n", what: "pod name")),
            (reason(Namespace.self, "a.b"), NameRules.dns1123LabelProblem("a.b", what: "namespace")),
            (reason(PodUID.self, "a b"), NameRules.podUIDProblem("a b")),
            (reason(PodName.self, ""), "must not be empty"), (reason(Namespace.self, ""), "must not be empty"),
        ]
        for (thrown, rule) in cases {
            #expect(thrown != nil && thrown == rule)
        }
    }

    @Test func problemsNameTheRule() {
        #expect(NameRules.interfaceNameProblem("éééééééé")?.contains("longer than 15 bytes") == true)
        #expect(NameRules.containerIDProblem("")?.contains("must not be empty") == true)
        #expect(NameRules.containerIDProblem("a/b")?.contains("'/'") == true)
        #expect(NameRules.networkNameProblem("-x")?.contains("network name") == true)
    }
}

/// The reason a name's init gave, or nil when it accepted the text.
private func reason<Name: ValidatedName>(_ type: Name.Type, _ text: String) -> String? {
    do { _ = try Name(text); return nil } catch { return error.reason }
}
