import CNI
import Testing
import TestSupport

@Suite("NetworkConfigList")
struct NetworkConfigTests {
    static func load(_ name: String) throws -> (document: JSONValue, network: NetworkConfigList) {
        let document = try fixtureJSON("configs/\(name)")
        return (document, try NetworkConfigList(json: document))
    }

    @Test func singlePluginConfig() throws {
        let (document, network) = try Self.load("bridge.conf")
        #expect(network.isSingleConfig)
        #expect(network.name == "mynet")
        #expect(network.cniVersion == .v0_4_0)
        #expect(!network.disableCheck && !network.disableGC)
        #expect(network.plugins.map(\.type) == ["bridge"])
        #expect(network.plugins[0].capabilities.isEmpty)
        // Unknown keys, nested objects and number text survive verbatim.
        #expect(.object(network.raw) == document)
        #expect(.object(network.plugins[0].raw) == document)
        let text = JSONValue.object(network.raw).serialized()
        #expect(text == document.serialized())
        for literal in [#""weight":1.50"#, #""limit":1e3"#, #""bigCounter":12345678901234567890"#, #""unset":null"#, #""label":"café 😀""#] {
            #expect(text.contains(literal), "\(literal)")
        }
    }

    @Test func conflist() throws {
        let (document, network) = try Self.load("bridge-tuning-portmap.conflist")
        #expect(!network.isSingleConfig)
        #expect(network.name == "k8s-pod-network")
        #expect(network.cniVersion == .v1_0_0)
        #expect(network.disableCheck)
        #expect(!network.disableGC)
        #expect(network.plugins.map(\.type) == ["bridge", "tuning", "portmap"])
        #expect(network.plugins.map(\.capabilities) == [[], [], ["portMappings"]])
        #expect(.object(network.raw) == document)
        #expect(network.plugins.map { JSONValue.object($0.raw) } == document.objectValue?["plugins"]?.arrayValue)
    }

    static let malformed: [(file: String, failure: SpecFailure)] = [
        ("no-type.conf", .missingField("type")),
        ("empty-type.conf", .invalidField("type")),
        ("plugins-empty.conflist", .invalidField("plugins")),
        ("plugins-not-array.conflist", .invalidField("plugins")),
        ("type-not-string.conflist", .invalidField("plugins[0].type")),
        ("plugin-without-type.conflist", .missingField("plugins[1].type")),
        ("capability-not-bool.conflist", .invalidField("plugins[1].capabilities.portMappings")),
        ("unsupported-version.conflist", .unsupportedVersion("cniVersion", value: "9.9.9")),
        ("name-with-space.conflist", .invalidField("name")),
        ("disable-check-not-bool.conflist", .invalidField("disableCheck")),
    ]

    @Test(arguments: malformed)
    func malformedConfigsNameTheField(file: String, failure: SpecFailure) throws {
        let document = try fixtureJSON("configs/invalid/\(file)")
        #expect(specFailure { try NetworkConfigList(json: document) } == failure)
    }

    @Test func truncatedFileIsNotJSON() throws {
        let error = #expect(throws: JSONSyntaxError.self) { try fixtureJSON("configs/invalid/truncated.conflist") }
        #expect(error?.offset == 75)
    }

    @Test func pathPrefixesEveryField() {
        let list: JSONValue = ["cniVersion": "1.0.0", "plugins": [["type": "bridge"], ["type": 1]]]
        #expect(specFailure { try NetworkConfigList(json: list, path: "delegates[2]") } == .invalidField("delegates[2].plugins[1].type"))
        let single: JSONValue = ["cniVersion": "1.0.0", "type": ""]
        #expect(specFailure { try NetworkConfigList(json: single, path: "delegates[0]") } == .invalidField("delegates[0].type"))
        #expect(specFailure { try NetworkConfigList(json: "bridge", path: "delegates[1]") } == .invalidField("delegates[1]"))
        #expect(specFailure { try NetworkConfigList(json: [], path: "") } == .invalidField("(document)"))
    }

    static let flags: [(value: JSONValue?, disabled: Bool)] = [
        (nil, false), (.null, false), (true, true), (false, false), ("true", true), ("TRUE", true), ("false", false), ("False", false),
    ]

    @Test(arguments: flags)
    func disableFlagsAcceptBooleansAndTheirStrings(value: JSONValue?, disabled: Bool) throws {
        var object = JSONObject([("cniVersion", "1.1.0"), ("name", "n"), ("plugins", [["type": "bridge"]])])
        object["disableCheck"] = value
        object["disableGC"] = value
        let network = try NetworkConfigList(json: .object(object))
        #expect(network.disableCheck == disabled)
        #expect(network.disableGC == disabled)
    }

    @Test func versionDefaultsAndNameIsOptional() throws {
        let network = try NetworkConfigList(json: ["type": "loopback"])
        #expect(network.cniVersion == .v0_1_0)
        #expect(network.name == "")
    }

    @Test func renamedReplacesNameInPlace() throws {
        let (_, network) = try Self.load("bridge-tuning-portmap.conflist")
        let renamed = network.renamed("other")
        #expect(renamed.name == "other")
        #expect(renamed.raw.keys == network.raw.keys)
        #expect(renamed.raw["name"] == "other")
        #expect(renamed.plugins == network.plugins)
        #expect(renamed.cniVersion == network.cniVersion && renamed.disableCheck == network.disableCheck)
        var expectedRaw = network.raw
        expectedRaw["name"] = "other"
        #expect(renamed.raw == expectedRaw)
        #expect(network.name == "k8s-pod-network")

        let unnamed = try NetworkConfigList(json: ["cniVersion": "1.0.0", "type": "macvlan", "master": "eth1"])
        #expect(unnamed.renamed("nad").raw.keys == ["cniVersion", "type", "master", "name"])
        #expect(unnamed.renamed("nad").isSingleConfig)
    }
}

/// libcni v1.2+'s `cniVersions`: the highest version listed that is implemented, `cniVersion`
/// counted among them; newer ones skipped; a malformed entry named.
@Suite("cniVersions")
struct CNIVersionsTests {
    @Test(arguments: [
        (#"{"name":"n","cniVersions":["0.4.0","1.0.0"],"plugins":[{"type":"x"}]}"#, "1.0.0"),
        (#"{"name":"n","cniVersion":"1.1.0","cniVersions":["0.4.0"],"plugins":[{"type":"x"}]}"#, "1.1.0"),
        (#"{"name":"n","cniVersion":"0.3.1","cniVersions":["1.0.0","0.4.0"],"plugins":[{"type":"x"}]}"#, "1.0.0"),
        (#"{"name":"n","cniVersions":["1.0.0","1.2.0","2.0.0"],"plugins":[{"type":"x"}]}"#, "1.0.0"),
        (#"{"name":"n","cniVersion":"1.0.0","cniVersions":["9.9.9"],"plugins":[{"type":"x"}]}"#, "1.0.0"),
        (#"{"name":"n","cniVersion":"0.4.0","cniVersions":[],"plugins":[{"type":"x"}]}"#, "0.4.0"),
    ])
    func negotiated(json: String, version: String) throws {
        let list = try NetworkConfigList(json: JSONValue.parse(Array(json.utf8)))
        #expect(list.cniVersion.description == version)
    }

    @Test(arguments: [
        (#"{"name":"n","cniVersions":["1.0.0","one"],"plugins":[{"type":"x"}]}"#, "cniVersions[1]"),
        (#"{"name":"n","cniVersions":[1],"plugins":[{"type":"x"}]}"#, "cniVersions[0]"),
        (#"{"name":"n","cniVersions":"1.0.0","plugins":[{"type":"x"}]}"#, "cniVersions"),
    ])
    func malformedEntriesAreNamed(json: String, path: String) throws {
        let error = #expect(throws: SpecError.self) { try NetworkConfigList(json: JSONValue.parse(Array(json.utf8))) }
        #expect(error?.description.contains(path) == true, "\(String(describing: error))")
    }
}
