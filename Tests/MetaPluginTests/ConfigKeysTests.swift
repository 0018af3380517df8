import MetaPlugin
import Testing
import TestSupport

/// The config keys the code knows are the ones docs/configuration.md's reference documents, in its
/// order: `multus --help` prints the list and `multus doctor` warns about any key outside it, so a
/// key added to one and not the other would mislead a user either way.
@Suite("the config's keys: code and docs")
struct ConfigKeysTests {
    @Test func theReferenceTableListsExactlyTheDocumentedKeys() throws {
        let text = String(decoding: try readFile(testdata("../docs/configuration.md")), as: UTF8.self)
        let section = try #require(text.split(separator: "\n## ").first { $0.hasPrefix("Config reference") })
        let keys = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.compactMap { row in
            row.split(separator: "`").dropFirst().first.map(String.init)
        }
        #expect(keys == MultusConfig.documentedKeys)
        // The keys accepted without a row of their own are named in that section's text.
        for key in MultusConfig.acceptedKeys where key != "args" && key != "cniVersions" {
            #expect(section.contains("`\(key)`"), "\(key)")
        }
    }

    /// A Multus config may carry it; the doctor must not call it unknown.
    @Test func multussRetryDeleteOnErrorIsKnown() {
        #expect(MultusConfig.knownKeys.contains("retryDeleteOnError"))
    }
}
