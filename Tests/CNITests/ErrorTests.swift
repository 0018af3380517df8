import CNI
import Testing
import TestSupport

@Suite("CNIError and SpecError")
struct ErrorTests {
    @Test func jsonShape() {
        let error = CNIError(.invalidNetworkConfig, "bad config", details: "plugins[0].type is required")
        #expect(error.json(cniVersion: .v1_0_0).serialized()
            == #"{"cniVersion":"1.0.0","code":7,"msg":"bad config","details":"plugins[0].type is required"}"#)
        #expect(CNIError(.tryAgainLater, "busy").json(cniVersion: .v0_4_0).serialized()
            == #"{"cniVersion":"0.4.0","code":11,"msg":"busy"}"#)
    }

    static let readable: [(document: String, error: CNIError)] = [
        (#"{"cniVersion":"1.0.0","code":7,"msg":"m","details":"d"}"#, CNIError(.invalidNetworkConfig, "m", details: "d")),
        (#"{"code":123,"msg":"plugin's own code"}"#, CNIError(.init(rawValue: 123), "plugin's own code")),
        (#"{"code":11}"#, CNIError(.tryAgainLater, "")),
        (#"{"code":999,"msg":5,"details":null,"extra":true}"#, CNIError(.generic, "")),
    ]

    @Test(arguments: readable)
    func readsErrorObjects(document: String, error: CNIError) throws {
        #expect(CNIError(json: try JSONValue.parse(document)) == error)
    }

    @Test(arguments: [#"null"#, #"[]"#, #""error""#, #"{}"#, #"{"msg":"no code"}"#, #"{"code":"7"}"#, #"{"code":7.5}"#, #"{"code":null}"#])
    func rejectsNonErrors(_ document: String) throws {
        #expect(CNIError(json: try JSONValue.parse(document)) == nil)
    }

    @Test(arguments: [CNIError(.incompatibleVersion, "v"), CNIError(.init(rawValue: 101), "m", details: "d")])
    func jsonRoundTrips(_ error: CNIError) {
        #expect(CNIError(json: error.json(cniVersion: .latest)) == error)
    }

    @Test func addingContextKeepsCodeAndMessage() {
        let error = CNIError(.ioFailure, "cannot open", details: "permission denied")
        let once = error.adding(context: "delegate bridge")
        #expect(once == CNIError(.ioFailure, "cannot open", details: "delegate bridge: permission denied"))
        #expect(once.adding(context: "network a").details == "network a: delegate bridge: permission denied")
        #expect(CNIError(.generic, "boom").adding(context: "ctx") == CNIError(.generic, "boom", details: "ctx"))
        #expect(once.description == "cannot open: delegate bridge: permission denied")
        #expect(CNIError(.generic, "boom").description == "boom")
    }

    /// `JSONSyntaxError` has no public initializer: take a real one.
    static let syntaxError: JSONSyntaxError = {
        do throws(JSONSyntaxError) {
            _ = try JSONValue.parse("[1,")
            fatalError("\"[1,\" parsed")
        } catch {
            return error
        }
    }()

    static let codes: [(SpecError, CNIError.Code)] = [
        (.syntax(syntaxError), .decodingFailure),
        (.invalidField(path: "p", reason: "r"), .invalidNetworkConfig),
        (.missingField(path: "p"), .invalidNetworkConfig),
        (.unsupportedVersion(path: "cniVersion", value: "9.9.9"), .incompatibleVersion),
        (.unconvertible(from: .v1_0_0, to: .v0_2_0, reason: "r"), .incompatibleVersion),
        (.missingEnvironment(command: "ADD", names: ["CNI_NETNS"]), .invalidEnvironment),
        (.invalidEnvironment(name: "CNI_IFNAME", reason: "r"), .invalidEnvironment),
    ]

    @Test(arguments: codes)
    func specErrorCodes(_ error: SpecError, code: CNIError.Code) {
        #expect(error.code == code)
    }

    @Test func wellKnownCodeValues() {
        let codes: [CNIError.Code] = [.incompatibleVersion, .invalidEnvironment, .decodingFailure, .invalidNetworkConfig, .tryAgainLater, .generic]
        #expect(codes.map(\.rawValue) == [1, 4, 6, 7, 11, 999])
    }

    @Test func specErrorDescriptions() {
        #expect(SpecError.missingEnvironment(command: "DEL", names: ["CNI_PATH"]).description
            == "DEL needs environment variable CNI_PATH, not set")
        #expect(SpecError.missingEnvironment(command: "ADD", names: ["CNI_NETNS", "CNI_PATH"]).description
            == "ADD needs environment variables CNI_NETNS, CNI_PATH, not set")
        #expect(SpecError.missingField(path: "plugins[0].type").description == "field plugins[0].type is required")
        #expect(SpecError.syntax(Self.syntaxError).description == "invalid JSON at byte 3: unexpected end of input")
    }
}
