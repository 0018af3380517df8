import CNI
import Testing
import TestSupport

@Suite("JSON")
struct JSONTests {
    /// Documents whose compact serialization is known: key order, number text and escapes.
    static let roundTrips: [(input: String, serialized: String)] = [
        (#"{"b":1,"a":2,"c":{"z":[],"y":{}}}"#, #"{"b":1,"a":2,"c":{"z":[],"y":{}}}"#),
        (#"[1e3,-0.5,12345678901234567890,0,-0,1.5E-10,2e+5,0.0]"#, #"[1e3,-0.5,12345678901234567890,0,-0,1.5E-10,2e+5,0.0]"#),
        (" \r\n\t{ \"a\" : [ 1 , true , false , null ] } \n", #"{"a":[1,true,false,null]}"#),
        (#""\u00e9""#, #""é""#),
        (#""\ud83d\ude00""#, #""😀""#),
        (#""\uD83D\uDE00 and h\u00E9""#, #""😀 and hé""#),
        (#""\"\\\/\b\f\n\r\t""#, #""\"\\/\u0008\u000c\n\r\t""#),
        (#""\u0000\u0001\u001F\u007f""#, "\"\\u0000\\u0001\\u001f\u{7F}\""),
        (#""héllo wörld 😀""#, #""héllo wörld 😀""#),
        (#""""#, #""""#),
    ]

    @Test(arguments: roundTrips)
    func serializesCompactlyKeepingOrderAndNumberText(input: String, serialized: String) throws {
        let value = try JSONValue.parse(input)
        #expect(value.serialized() == serialized)
        #expect(try JSONValue.parse(serialized) == value)
        #expect(value.serializedBytes() == Array(serialized.utf8))
    }

    @Test func parsesEscapesIntoScalars() throws {
        #expect(try JSONValue.parse(#""\u00e9""#) == .string("é"))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("\u{1F600}"))
        #expect(try JSONValue.parse(#""a\u0000b""#) == .string("a\u{0}b"))
        #expect(try JSONValue.parse(#"[1e3]"#) == [.number("1e3")])
    }

    @Test(arguments: ["", "\"", "\\", "\u{0}\u{7}\u{1F}", "\u{7F}", "é😀", "\u{2028}\u{2029}", "a/b", "line\nbreak"])
    func serializedStringsParseBack(_ text: String) throws {
        #expect(try JSONValue.parse(JSONValue.string(text).serialized()) == .string(text))
    }

    @Test func duplicateKeysLastValueWinsInFirstPosition() throws {
        let value = try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(value == ["a": 3, "b": 2])
        #expect(value.serialized() == #"{"a":3,"b":2}"#)
        #expect(try JSONValue.parse(#"{"a":1,"a":null}"#) == .object(JSONObject([("a", .null)])))
    }

    /// Past `JSONObject.Builder.indexedFrom` keys duplicates are found by hash: same rule.
    @Test func duplicateKeysInALargeObjectKeepTheFirstPositionAndTheLastValue() throws {
        let keys = (0..<40).map { "k\($0)" }
        let text = "{" + (keys + ["k3", "k39", "k17"]).enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
        let object = try #require(try JSONValue.parse(text).objectValue)
        #expect(object.keys == keys)
        #expect(object["k3"] == 40 && object["k39"] == 41 && object["k17"] == 42 && object["k0"] == 0 && object["k38"] == 38)
    }

    /// A NAD author controls how many keys a config has. The old parser scanned for a duplicate
    /// per key: 200,000 keys took minutes. Linear parsing takes milliseconds; the limit only
    /// keeps a quadratic one from hanging the suite (figures: Tests/benchmark/inputs.sh).
    @Test(.timeLimit(.minutes(1))) func anObjectWithManyKeysParsesInLinearTime() throws {
        let count = 200_000
        let text = "{" + (0..<count).map { "\"key\($0)\":\($0)" }.joined(separator: ",") + "}"
        let object = try #require(try JSONValue.parse(text).objectValue)
        #expect(object.count == count)
        #expect(object.entries.last?.key == "key\(count - 1)")
        #expect(JSONObject(object.entries.map { ($0.key, $0.value) }).count == count)
    }

    /// A malformed document, the byte offset the error names, and a fragment of its reason.
    struct Malformed: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var offset: Int
        var reason: String
        var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }

        init(_ text: String, at offset: Int, _ reason: String) { self.init(Array(text.utf8), at: offset, reason) }
        init(_ bytes: [UInt8], at offset: Int, _ reason: String) {
            self.bytes = bytes
            self.offset = offset
            self.reason = reason
        }
    }

    static let malformed: [Malformed] = [
        // Truncation.
        .init("", at: 0, "unexpected end of input"),
        .init("   ", at: 3, "unexpected end of input"),
        .init(#"{"a":"#, at: 5, "unexpected end of input"),
        .init("[1,2", at: 4, "expected ',' or ']'"),
        .init(#"{"a":1"#, at: 6, "expected ',' or '}'"),
        .init(#""abc"#, at: 4, "unterminated string"),
        .init(#""ab\n"#, at: 5, "unterminated string"),
        .init("tru", at: 0, "truncated literal"),
        // Structure.
        .init("nulx", at: 0, "invalid literal"),
        .init("[1] x", at: 4, "unexpected data after the document"),
        .init("{} {}", at: 3, "unexpected data after the document"),
        .init("{a:1}", at: 1, "expected a string key"),
        .init(#"{"a" 1}"#, at: 5, "expected ':'"),
        .init("[1,]", at: 3, "unexpected character ']'"),
        .init(#"{"a":1,}"#, at: 7, "expected a string key"),
        // Numbers.
        .init("01", at: 1, "unexpected data after the document"),
        .init("[01]", at: 2, "expected ',' or ']'"),
        .init("-", at: 1, "invalid number"),
        .init("-a", at: 1, "invalid number"),
        .init("1.", at: 2, "invalid fraction"),
        .init("1.e5", at: 2, "invalid fraction"),
        .init("1e", at: 2, "invalid exponent"),
        .init("1e+", at: 3, "invalid exponent"),
        .init(".5", at: 0, "unexpected character"),
        .init("+1", at: 0, "unexpected character"),
        .init("NaN", at: 0, "unexpected character"),
        // Escapes: the offset is where the parser stood when the escape proved bad.
        .init(#""\x""#, at: 3, "invalid escape '\\x'"),
        .init(#""\"#, at: 2, "unterminated escape"),
        .init(#""\u12""#, at: 3, "truncated unicode escape"),
        .init(#""\u12G4""#, at: 5, "invalid hex digit"),
        .init(#""\ud83d""#, at: 7, "unpaired surrogate"),
        .init(#""\ud83dx""#, at: 7, "unpaired surrogate"),
        .init(#""\ud83d\u0041""#, at: 13, "unpaired surrogate"),
        .init(#""\ude00""#, at: 7, "unpaired surrogate"),
        // Raw bytes.
        .init("\"a\u{1}b\"", at: 2, "control character in string"),
        .init("\"a\nb\"", at: 2, "control character in string"),
        .init([0x22, 0xFF, 0x22], at: 1, "not valid UTF-8"),
        .init([0x22, 0x61, 0xC0, 0xAF, 0x22], at: 1, "not valid UTF-8"),
        .init([0x22, 0xE2, 0x82, 0x22], at: 1, "not valid UTF-8"),
        .init([0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22], at: 1, "not valid UTF-8"),
        .init([0xFF], at: 0, "unexpected character"),
    ]

    @Test(arguments: malformed)
    func malformedInputThrowsWithOffset(_ input: Malformed) {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(input.bytes) }
        #expect(error?.offset == input.offset)
        #expect(error?.reason.contains(input.reason) == true, "\(error?.reason ?? "no error")")
        #expect(error?.description.hasPrefix("invalid JSON at byte \(input.offset): ") == true)
    }

    @Test func nestingIsBoundedByMaximumDepth() throws {
        let depth = JSONValue.maximumDepth
        func arrays(_ n: Int) -> String { String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        #expect(throws: Never.self) { try JSONValue.parse(arrays(depth)) }
        let error = #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(arrays(depth + 1)) }
        #expect(error?.offset == depth)
        let objects = String(repeating: #"{"a":"#, count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(objects) }
        // Hostile input far beyond the limit is refused, not a stack overflow.
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(String(repeating: "[", count: 1_000_000)) }
    }

    @Test func objectSubscriptKeepsOrder() {
        var object = JSONObject([("a", 1), ("b", 2), ("c", 3)])
        object["b"] = "two"
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["b"] == "two")
        object["d"] = 4
        #expect(object.keys == ["a", "b", "c", "d"])
        object["a"] = nil
        #expect(object.keys == ["b", "c", "d"])
        object["missing"] = nil
        object["c"] = .null
        #expect(object.keys == ["b", "c", "d"])
        #expect(object["c"] == .null)
        #expect(object.count == 3)
        #expect(!object.isEmpty && JSONObject().isEmpty)
        #expect(JSONValue.object(object).serialized() == #"{"b":"two","c":null,"d":4}"#)
        #expect(object.map(\.key) == object.keys)
    }

    @Test func objectInitWithDuplicatesKeepsFirstPositionLastValue() {
        let object = JSONObject([("x", 1), ("y", 2), ("x", 3)])
        #expect(object.keys == ["x", "y"])
        #expect(object["x"] == 3)
    }

    @Test func equalityIsOrderSensitive() {
        let ab: JSONValue = ["a": 1, "b": 2]
        #expect(ab != ["b": 2, "a": 1])
        #expect(ab == ["a": 1, "b": 2])
        #expect(Set([ab, ["a": 1, "b": 2]]).count == 1)
        #expect(JSONValue.number("1e3") != .number("1000"))
    }

    @Test func accessors() {
        #expect(JSONValue(-5).intValue == -5)
        #expect(JSONValue.number("1e3").intValue == nil)
        #expect(JSONValue.number("1.0").intValue == nil)
        #expect(JSONValue.number("12345678901234567890").intValue == nil)
        #expect(JSONValue.string("5").intValue == nil)
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.array([1]).arrayValue == [1])
        #expect(JSONValue.object(JSONObject()).objectValue == JSONObject())
        #expect(JSONValue.null.stringValue == nil)
        let kinds: [JSONValue] = [nil, true, 1, "s", [], [:]]
        #expect(kinds.map(\.kindName) == ["null", "a boolean", "a number", "a string", "an array", "an object"])
    }
}
