import Testing
import TestSupport
import YAML

/// A node as compact JSON-like text, marks left out, so expectations stay readable.
private func shape(_ node: YAMLNode) -> String {
    switch node {
    case .scalar(let text, _): "\"\(text)\""
    case .null: "null"
    case .sequence(let items, _): "[" + items.map(shape).joined(separator: ",") + "]"
    case .mapping(let entries, _): "{" + entries.map { "\($0.key):\(shape($0.value))" }.joined(separator: ",") + "}"
    }
}

/// The error `parse` throws, or nil.
private func yamlError(_ text: [UInt8], limits: YAMLNode.Limits = .default) -> YAMLError? {
    do {
        _ = try YAMLNode.parse(text, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The reason of an error ("" when there is none).
private func documentReason(_ error: YAMLError?) -> String { error?.reason ?? "" }

@Suite("YAML")
struct YAMLTests {
    static let documents: [(yaml: String, shape: String)] = [
        ("", "null"),
        ("# only a comment\n", "null"),
        ("plain", "\"plain\""),
        ("a: b", "{a:\"b\"}"),
        ("a: 'single ''quoted'''\nb: \"double \\\"quoted\\\"\"", "{a:\"single 'quoted'\",b:\"double \"quoted\"\"}"),
        ("n: 123\nf: 1.5\nt: true\nv: 1.10", "{n:\"123\",f:\"1.5\",t:\"true\",v:\"1.10\"}"),
        ("a:\nb: ~\nc: null\nd: NULL\ne: 'null'\nf: ''\ng: \"~\"", "{a:null,b:null,c:null,d:null,e:\"null\",f:\"\",g:\"~\"}"),
        ("a: !!null x\nb: !!str text", "{a:null,b:\"text\"}"),
        ("lit: |\n  one\n  two\nfold: >-\n  one\n  two\n", "{lit:\"one\ntwo\n\",fold:\"one two\"}"),
        ("outer:\n  inner:\n    deepest: x\n  sibling: y", "{outer:{inner:{deepest:\"x\"},sibling:\"y\"}}"),
        ("- a\n- - b\n  - c\n- d: e", "[\"a\",[\"b\",\"c\"],{d:\"e\"}]"),
        ("clusters:\n- name: one\n  cluster:\n    server: s1\n- name: two\n  cluster: {server: s2}",
         "{clusters:[{name:\"one\",cluster:{server:\"s1\"}},{name:\"two\",cluster:{server:\"s2\"}}]}"),
        ("{a: [1, 2], b: {c: d}, e: []}", "{a:[\"1\",\"2\"],b:{c:\"d\"},e:[]}"),
        ("{\"a\": [1, {\"b\": null}], \"c\": \"x\\u00e9\\n\"}", "{a:[\"1\",{b:null}],c:\"xé\n\"}"),
        ("base: &b {x: 1}\nuse: *b\nlist: [*b, *b]", "{base:{x:\"1\"},use:{x:\"1\"},list:[{x:\"1\"},{x:\"1\"}]}"),
        ("s: &s text\nt: *s", "{s:\"text\",t:\"text\"}"),
        ("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3", "{base:{x:\"1\",y:\"2\"},d:{y:\"3\",x:\"1\"}}"),
        ("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]", "{a:{x:\"1\"},b:{x:\"2\",y:\"2\"},c:{x:\"1\",y:\"2\"}}"),
        ("'<<': quoted is a plain key", "{<<:\"quoted is a plain key\"}"),
        ("a: 1\n---\nb: 2\n", "{a:\"1\"}"),
        ("---\na: 1\n...\n", "{a:\"1\"}"),
        ("\u{FEFF}a: bom", "{a:\"bom\"}"),
        ("k: v\nk: w", "{k:\"v\",k:\"w\"}"),
    ]

    @Test(arguments: documents)
    func parses(yaml: String, shape expected: String) throws {
        #expect(shape(try YAMLNode.parse(yaml)) == expected)
    }

    @Test func accessors() throws {
        let node = try YAMLNode.parse("a: x\nb: [1, 2]\nc: {d: e}\nk: 1\nk: 2\nyes: Yes\nno: off\nq: \"true\"\nz:\n")
        #expect(node.string("a") == "x")
        #expect(node["b"]?[1]?.scalar == "2")
        #expect(node["b"]?[2] == nil)
        #expect(node["b"]?.elements?.count == 2)
        #expect(node["c"]?.string("d") == "e")
        #expect(node.string("b") == nil)
        #expect(node.string("missing") == nil)
        #expect(node.string("k") == "2", "the last of a repeated key wins, as go-yaml decodes")
        #expect(node.bool("yes") == true)
        #expect(node.bool("no") == false)
        #expect(node.bool("q") == true)
        #expect(node.bool("a") == nil)
        #expect(node["z"]?.isNull == true)
        #expect(node.string("z") == nil)
        #expect(node["a"]?["x"] == nil)
        #expect(node[0] == nil)
        #expect(node.entries?.map(\.key) == ["a", "b", "c", "k", "k", "yes", "no", "q", "z"])
        #expect(node["c"]?.kind == "a mapping")
        #expect(node["b"]?.kind == "a list")
        #expect(node["a"]?.kind == "a string")
        #expect(node["z"]?.kind == "null")
    }

    @Test func marksAreOneBased() throws {
        let node = try YAMLNode.parse("top:\n  list:\n    - item\n    - {k: v}\n")
        #expect(node.mark == YAMLNode.Mark(line: 1, column: 1))
        #expect(node["top"]?.mark == YAMLNode.Mark(line: 2, column: 3))
        #expect(node["top"]?["list"]?[0]?.mark == YAMLNode.Mark(line: 3, column: 7))
        #expect(node["top"]?["list"]?[1]?["k"]?.mark == YAMLNode.Mark(line: 4, column: 11))
        #expect(node["top"]?["list"]?[1]?["k"]?.mark.description == "line 4")
    }

    @Test func escapesAndUnicode() throws {
        let node = try YAMLNode.parse("a: \"tab\\there\\u00e9\\x41\"\nb: 'naïve ✓'\n")
        #expect(node.string("a") == "tab\there\u{e9}A")
        #expect(node.string("b") == "naïve ✓")
    }

    static let syntaxErrors: [(yaml: String, words: [String])] = [
        ("a: [1, 2\nb: c", ["line 2", "did not find expected ',' or ']'", "while parsing a flow sequence at line 1"]),
        ("a: b\n\tc: d", ["line 2, column 1", "found a tab character that violates indentation"]),
        ("a:\n\tb: c", ["line 2, column 1", "found character that cannot start any token"]),
        ("a: \"open\nb: c", ["line 2, column 5", "found unexpected end of stream", "while scanning a quoted scalar at line 1"]),
        ("a: b\n c: d", ["line 2", "mapping values are not allowed"]),
        ("a: *nowhere", ["line 1", "found undefined alias"]),
        ("? [x]\n: y", ["line 1: ", "mapping keys must be plain strings, not a list"]),
        ("{a: 1}: b", ["line 1", "mapping keys must be plain strings, not a mapping"]),
        ("m:\n  <<: scalar", ["line 2", "<< merge key needs a mapping"]),
        ("m:\n  <<: [x]", ["line 2", "merge list may hold only mappings"]),
    ]

    @Test(arguments: syntaxErrors)
    func syntaxErrorsNameTheLine(yaml: String, words: [String]) {
        let reason = documentReason(yamlError(Array(yaml.utf8)))
        for word in words {
            #expect(reason.contains(word), "\(reason)")
        }
        #expect(reason.hasPrefix("line "), "\(reason)")
    }

    @Test func encodingErrorsNameTheLine() {
        let reason = documentReason(yamlError(Array("a: b\nc: \u{1}".utf8)))
        #expect(reason.hasPrefix("line 2: control characters are not allowed"), "\(reason)")
        let utf8 = documentReason(yamlError(Array("a: b\n\n".utf8) + [0x63, 0x3A, 0x20, 0xFF]))
        #expect(utf8.hasPrefix("line 3: invalid leading UTF-8 octet"), "\(utf8)")
    }

    @Test func sizeLimit() {
        let limits = YAMLNode.Limits(maxBytes: 16)
        #expect(documentReason(yamlError(Array("a: 0123456789abc".utf8), limits: limits)) == "")
        #expect(documentReason(yamlError(Array("a: 0123456789abcd".utf8), limits: limits)) == "larger than 16 bytes")
        let tooBig = [UInt8](repeating: UInt8(ascii: "#"), count: (4 << 20) + 1)
        #expect(documentReason(yamlError(tooBig)) == "larger than 4194304 bytes")
    }

    @Test func depthLimit() {
        let limits = YAMLNode.Limits(maxDepth: 8)
        let eight = String(repeating: "[", count: 8) + String(repeating: "]", count: 8)
        let nine = String(repeating: "[", count: 9) + String(repeating: "]", count: 9)
        #expect(yamlError(Array(eight.utf8), limits: limits) == nil)
        #expect(documentReason(yamlError(Array(nine.utf8), limits: limits)) == "line 1: nested deeper than 8 levels")
        let block = (0..<9).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " leaf"
        #expect(documentReason(yamlError(Array(block.utf8), limits: limits)) == "line 9: nested deeper than 8 levels")
    }

    @Test func hostileDocumentsFailFast() {
        // Without the first pass over events, libyaml takes minutes over the first of these.
        let maxed = [UInt8](repeating: UInt8(ascii: "["), count: 4 << 20)
        #expect(documentReason(yamlError(maxed)) == "line 1: nested deeper than 64 levels")
        let unclosed = [UInt8](repeating: UInt8(ascii: "{"), count: 200_000)
        #expect(documentReason(yamlError(unclosed)) == "line 1: nested deeper than 64 levels")
        let anchors = (0..<2000).map { "- &a\($0) x" }.joined(separator: "\n") + "\n" + (0..<2000).map { "- *a\($0)" }.joined(separator: "\n")
        #expect(documentReason(yamlError(Array(anchors.utf8))) == "line 1001: more than 1000 anchors or aliases")
        let aliases = "- &a x\n" + String(repeating: "- *a\n", count: 1001)
        #expect(documentReason(yamlError(Array(aliases.utf8))) == "line 1002: more than 1000 anchors or aliases")
        let many = String(repeating: "- x\n", count: 1_000_000)
        #expect(documentReason(yamlError(Array(many.utf8))) == "line 100000: more than 100000 nodes")
    }

    @Test func aliasExpansionIsBounded() {
        // Nine levels of ten references each: a billion nodes if expanded.
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(refs)]")
        }
        let reason = documentReason(yamlError(Array(lines.joined(separator: "\n").utf8)))
        #expect(reason.contains("more than 100000 nodes after expanding aliases"), "\(reason)")
        #expect(reason.hasPrefix("line "))
    }

    @Test func selfReferenceIsBounded() {
        // libyaml registers an anchor before its content, so a node can contain itself.
        let reason = documentReason(yamlError(Array("a: &a [*a]".utf8)))
        #expect(reason.contains("nested deeper than 64 levels"), "\(reason)")
    }

    @Test func garbageNeverCrashes() {
        var random = SeededGenerator(seed: 0x5eed)
        let alphabet = Array(" \t\n\r:-?,[]{}#&*!|>'\"%@`abc0\\~=<".utf8)
        var tally = FuzzTally()
        for round in 0..<3000 {
            let length = Int(random.next() % 160)
            let bytes: [UInt8] = (0..<length).map { _ in
                round % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))]
            }
            tally.record(bytes, round: round)
        }
        tally.expectBothOutcomes(rounds: 3000, random)
    }

    @Test func mutatedKubeconfigsNeverCrash() throws {
        let original = try readFile(testdata("kubeconfigs/named-contexts.kubeconfig"))
        var random = SeededGenerator(seed: 42)
        var tally = FuzzTally()
        for round in 0..<1500 {
            var bytes = original
            for _ in 0...(random.next() % 4) {
                let index = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.remove(at: index)
                default: bytes = Array(bytes[..<index])
                }
                if bytes.isEmpty { break }
            }
            tally.record(bytes, round: round)
        }
        tally.expectBothOutcomes(rounds: 1500, random)
    }
}

/// What fuzz inputs did: each either parses or is refused with an error whose reason starts with the line ("line 3: ..."); anything else is counted, and
/// the first such input reported.
private struct FuzzTally {
    var parsed = 0
    var refusedAtALine = 0
    var other = 0
    var firstOther = ""

    mutating func record(_ bytes: [UInt8], round: Int) {
        guard let error = yamlError(bytes) else { return parsed += 1 }
        let reason = documentReason(error)
        if reason.hasPrefix("line "), reason.dropFirst(5).first?.isNumber == true { return refusedAtALine += 1 }
        if other == 0 { firstOther = "round \(round): \(error)" }
        other += 1
    }

    /// Every round accounted for, and both outcomes seen: a fuzzer that only ever reaches one
    /// of them exercises little.
    func expectBothOutcomes(rounds: Int, _ random: SeededGenerator, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(other == 0, "\(random): \(other) inputs neither parsed nor named a line; first \(firstOther)", sourceLocation: sourceLocation)
        #expect(parsed + refusedAtALine == rounds, "\(random)", sourceLocation: sourceLocation)
        #expect(parsed > 0, "\(random): nothing parsed", sourceLocation: sourceLocation)
        #expect(refusedAtALine > 0, "\(random): nothing refused", sourceLocation: sourceLocation)
    }
}
