import CNI
import Testing
import TestSupport

@Suite("CNI_ARGS")
struct CNIArgsTests {
    static let parsed: [(text: String, pairs: [String])] = [
        ("", []),
        (";;", []),
        ("A=1;B=2", ["A=1", "B=2"]),
        ("A=1;;B=2;", ["A=1", "B=2"]),
        ("A=", ["A="]),
        ("A==", ["A=="]),
        ("URL=http://x/?a=b", ["URL=http://x/?a=b"]),
        ("K8S_POD_NAME=web-0;K8S_POD_NAMESPACE=default;IgnoreUnknown=1",
         ["K8S_POD_NAME=web-0", "K8S_POD_NAMESPACE=default", "IgnoreUnknown=1"]),
        ("A=1;A=2", ["A=1", "A=2"]),
    ]

    @Test(arguments: parsed)
    func parsesPairsInOrder(text: String, pairs: [String]) throws {
        let args = try CNIArgs(parsing: text)
        #expect(args.pairs.map { "\($0.key)=\($0.value)" } == pairs)
        #expect(args.isEmpty == pairs.isEmpty)
        #expect(args.serialized == pairs.joined(separator: ";"))
        #expect(try CNIArgs(parsing: args.serialized) == args)
    }

    @Test(arguments: ["=x", "noequals", "A=1;B", "A=1;=2"])
    func rejectsPartsWithoutKey(_ text: String) {
        #expect(specFailure { try CNIArgs(parsing: text) } == .invalidEnvironment("CNI_ARGS"))
    }

    @Test func lookupTakesTheLastDuplicate() throws {
        let args = try CNIArgs(parsing: "A=1;B=2;A=3")
        #expect(args["A"] == "3")
        #expect(args["B"] == "2")
        #expect(args["C"] == nil)
    }

    @Test func subscriptSetReplacesEveryCopyAtTheEnd() throws {
        var args = try CNIArgs(parsing: "A=1;B=2;A=3")
        args["A"] = "4"
        #expect(args.serialized == "B=2;A=4")
        args["C"] = ""
        #expect(args.serialized == "B=2;A=4;C=")
        args["B"] = nil
        #expect(args.serialized == "A=4;C=")
        #expect(args == CNIArgs([("A", "4"), ("C", "")]))
    }

    @Test(arguments: [
        ("IgnoreUnknown=1", true), ("IgnoreUnknown=true", true), ("IgnoreUnknown=TRUE", true),
        ("IgnoreUnknown=0", false), ("IgnoreUnknown=false", false), ("IgnoreUnknown=", false),
        ("IgnoreUnknown=yes", false), ("", false), ("ignoreunknown=1", false), ("IgnoreUnknown=1;IgnoreUnknown=0", false),
    ])
    func ignoresUnknown(text: String, expected: Bool) throws {
        #expect(try CNIArgs(parsing: text).ignoresUnknown == expected)
    }
}
