import CNI
@testable import MetaPlugin
import Testing
import TestSupport

/// libcni v1.2+'s plugin subdirectories (NetworkConfFromFile), as `NetworkFiles` loads a conflist.
@Suite("NetworkFiles: plugin subdirectories")
struct NetworkFilesTests {
    func directory() throws -> (Sandbox, String) {
        let box = try Sandbox()
        try box.write(box.confDir + "/10-net.conflist", #"{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge"}]}"#)
        try box.mkdirs(box.confDir + "/net")
        try box.write(box.confDir + "/net/20-b.conf", #"{"type":"tuning"}"#)
        try box.write(box.confDir + "/net/10-a.conf", #"{"type":"portmap","capabilities":{"portMappings":true}}"#)
        try box.write(box.confDir + "/net/30-c.json", #"{"type":"not-read"}"#)
        try box.mkdirs(box.confDir + "/net/40-d.conf")
        return (box, box.confDir + "/10-net.conflist")
    }

    @Test func subdirectoryPluginsFollowTheListsInLexicalOrderAndAreWrittenIntoIt() throws {
        let (box, path) = try directory()
        defer { box.remove() }
        let loaded = try NetworkFiles(confDir: box.confDir).loadFile(path)
        #expect(loaded.network.plugins.map(\.type) == ["bridge", "portmap", "tuning"])
        #expect(loaded.network.raw["plugins"]?.arrayValue?.count == 3, "the cache keeps what ADD ran")
        #expect(try NetworkFiles(confDir: box.confDir).findByName("net", key: "clusterNetwork").network.plugins.count == 3)
    }

    @Test func loadOnlyInlinedPluginsLeavesTheSubdirectoryAlone() throws {
        let (box, path) = try directory()
        defer { box.remove() }
        try box.write(path, #"{"cniVersion":"1.0.0","name":"net","loadOnlyInlinedPlugins":true,"plugins":[{"type":"bridge"}]}"#)
        #expect(try NetworkFiles(confDir: box.confDir).loadFile(path).network.plugins.map(\.type) == ["bridge"])
    }

    @Test func aListMayTakeAllItsPluginsFromTheSubdirectory() throws {
        let (box, path) = try directory()
        defer { box.remove() }
        try box.write(path, #"{"cniVersion":"1.0.0","name":"net"}"#)
        #expect(try NetworkFiles(confDir: box.confDir).loadFile(path).network.plugins.map(\.type) == ["portmap", "tuning"])
    }

    @Test("errors name the file", arguments: [
        ("net/20-b.conf", #"{"mtu":1400}"#, "net/20-b.conf", "needs a \"type\""),
        ("10-net.conflist", #"{"cniVersion":"1.0.0","name":"net","loadOnlyInlinedPlugins":true}"#, "10-net.conflist", "loadOnlyInlinedPlugins"),
        ("10-net.conflist", #"{"cniVersion":"1.0.0","name":"net","loadOnlyInlinedPlugins":"maybe","plugins":[{"type":"x"}]}"#, "10-net.conflist", "loadOnlyInlinedPlugins"),
    ])
    func errors(file: String, content: String, named: String, reason: String) throws {
        let (box, path) = try directory()
        defer { box.remove() }
        try box.write(box.confDir + "/" + file, content)
        let error = #expect(throws: MetaError.self) { try NetworkFiles(confDir: box.confDir).loadFile(path) }
        let message = error.map { ErrorMapping.cniError($0, context: nil).msg } ?? ""
        #expect(message.contains(box.confDir + "/" + named) && message.contains(reason), "\(message)")
    }
}
