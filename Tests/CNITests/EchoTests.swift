import CNI
import Testing

@Suite("Input echoed into errors")
struct EchoTests {
    @Test("quoted as a JSON string, clipped to 256 bytes between scalars", arguments: [
        ("eth0", #""eth0""#),
        ("a\"b\\c\nd", #""a\"b\\c\nd""#),
        (String(repeating: "x", count: 256), "\"" + String(repeating: "x", count: 256) + "\""),
        (String(repeating: "x", count: 257), "\"" + String(repeating: "x", count: 256) + "…\""),
        // A 3-byte scalar that would straddle the bound is dropped whole.
        (String(repeating: "x", count: 254) + "€€", "\"" + String(repeating: "x", count: 254) + "…\""),
    ])
    func quoting(_ input: String, _ expected: String) {
        #expect(Echo.quoted(input) == expected)
    }

    /// Inputs whose error quoted them whole: a megabyte of annotation or environment became a
    /// megabyte of error, log line and pod event.
    enum HugeInput: String, CaseIterable, Sendable {
        case cniArgsPart, cniCommand, jsonKeyWithoutColon, resultAddress, capabilityName, cniVersion

        static let huge = String(repeating: "A", count: 100_000)

        func parse() throws {
            let huge = Self.huge
            switch self {
            case .cniArgsPart: _ = try CNIArgs(parsing: "K8S_POD_NAME=a;" + huge)
            case .cniCommand: _ = try Invocation(environment: ["CNI_COMMAND": huge])
            case .jsonKeyWithoutColon: _ = try JSONValue.parse("{\"" + huge + "\" 1}")
            case .resultAddress:
                _ = try CNIResult(json: JSONValue.parse(#"{"cniVersion":"1.0.0","ips":[{"address":"\#(huge)"}]}"#), fallbackVersion: .v1_0_0)
            case .capabilityName:
                _ = try NetworkConfigList(json: JSONValue.parse(#"{"cniVersion":"1.0.0","name":"n","type":"t","capabilities":{"\#(huge)":1}}"#))
            case .cniVersion: _ = try NetworkConfigList(json: JSONValue.parse(#"{"cniVersion":"\#(huge)","name":"n","type":"t"}"#))
            }
        }
    }

    @Test("errors about huge input stay short", arguments: HugeInput.allCases)
    func hugeInputIsClipped(_ input: HugeInput) {
        do {
            try input.parse()
            Issue.record("\(input) parsed")
        } catch {
            #expect("\(error)".utf8.count < 700, "\(input): \("\(error)".utf8.count) bytes")
        }
    }
}
