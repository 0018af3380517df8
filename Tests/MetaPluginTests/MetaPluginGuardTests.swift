import CNI
import CNIExec
import Glibc
@testable import MetaPlugin
import Testing
import TestSupport

/// What a NAD's config may not run: the guard alone, on a real plugin directory where `self-alias`
/// is a symlink to "our binary" (a fixture file standing for /proc/self/exe), `self-link` a hard
/// link to it, and `bridge` some other executable.
@Suite("MetaPluginGuard")
struct MetaPluginGuardTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var config: String
        /// What the refusal must name (the path of the offending key and the type); nil: allowed.
        var refusedAt: [String]?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "multus", config: #"{"cniVersion":"1.0.0","name":"n","type":"multus","binDir":"/tmp/x"}"#, refusedAt: [#"type is "multus""#]),
        Case(name: "multus-shim", config: #"{"cniVersion":"1.0.0","name":"n","type":"multus-shim"}"#, refusedAt: [#"type is "multus-shim""#]),
        Case(name: "second plugin of a list", config: #"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"},{"type":"multus"}]}"#,
             refusedAt: [#"plugins[1].type is "multus""#]),
        Case(name: "as the IPAM plugin (the delegate runs it with the whole config)",
             config: #"{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"type":"multus","delegates":[]}}"#, refusedAt: [#"ipam.type is "multus""#]),
        Case(name: "a key Go reads as type", config: #"{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"TyPe":"multus"}}"#,
             refusedAt: [#"ipam.TyPe is "multus""#]),
        Case(name: "flannel's delegate, deep in a list",
             config: #"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","x":[{"delegate":{"type":"multus-shim"}}]}]}"#,
             refusedAt: [#"plugins[0].x[0].delegate.type is "multus-shim""#]),
        Case(name: "a symlink to this binary under another name", config: #"{"cniVersion":"1.0.0","name":"n","type":"self-alias"}"#,
             refusedAt: [#"type is "self-alias""#, "this multus binary itself"]),
        Case(name: "a hard link to this binary", config: #"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge","ipam":{"type":"self-link"}}]}"#,
             refusedAt: [#"plugins[0].ipam.type is "self-link""#, "this multus binary itself"]),
        Case(name: "an ordinary plugin", config: #"{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"type":"host-local"}}"#, refusedAt: nil),
        Case(name: "a plugin not installed", config: #"{"cniVersion":"1.0.0","name":"n","type":"not-here"}"#, refusedAt: nil),
        Case(name: "type as a value elsewhere", config: #"{"cniVersion":"1.0.0","name":"multus","type":"bridge","kind":"multus","types":"multus"}"#,
             refusedAt: nil),
        Case(name: "a path-like type (refused by the plan, never looked up)", config: #"{"cniVersion":"1.0.0","name":"n","type":"../bin/self-alias"}"#,
             refusedAt: nil),
    ]

    @Test(arguments: cases)
    func refuses(_ c: Case) throws {
        let directory = try TemporaryDirectory(prefix: "meta-plugin-guard")
        defer { directory.remove() }
        let bin = try directory.directory("bin")
        let own = directory.path + "/multus-binary"
        try writeFile(own, Array("#!/bin/sh\n".utf8), mode: 0o755)
        try writeFile(bin + "/bridge", Array("#!/bin/sh\n".utf8), mode: 0o755)
        #expect(symlink(own, bin + "/self-alias") == 0)
        #expect(link(own, bin + "/self-link") == 0)
        let guarded = MetaPluginGuard(executor: PosixSpawnExecutor(), pluginDirectories: ["/nonexistent", bin], ownExecutable: own)
        let refusal = guarded.refusal(try JSONValue.parse(c.config))
        guard let expected = c.refusedAt else {
            #expect(refusal == nil)
            return
        }
        let text = try #require(refusal, "not refused")
        for fragment in expected + ["a NAD may not run a meta-plugin"] { #expect(text.contains(fragment), "\(text)") }
    }

    /// FindInPath's order: the first directory holding an executable of that name decides.
    @Test func onlyTheFileTheLookupWouldRunCounts() throws {
        let directory = try TemporaryDirectory(prefix: "meta-plugin-guard")
        defer { directory.remove() }
        let first = try directory.directory("first")
        let second = try directory.directory("second")
        let own = directory.path + "/multus-binary"
        try writeFile(own, Array("#!/bin/sh\n".utf8), mode: 0o755)
        try writeFile(first + "/mycni", Array("#!/bin/sh\n".utf8), mode: 0o755)
        #expect(symlink(own, second + "/mycni") == 0)
        let config = try JSONValue.parse(#"{"cniVersion":"1.0.0","name":"n","type":"mycni"}"#)
        #expect(MetaPluginGuard(executor: PosixSpawnExecutor(), pluginDirectories: [first, second], ownExecutable: own).refusal(config) == nil)
        #expect(MetaPluginGuard(executor: PosixSpawnExecutor(), pluginDirectories: [second, first], ownExecutable: own).refusal(config) != nil)
    }

    /// A deep document costs one walk, and the message stays short whatever the input.
    @Test func aDeepDocumentIsWalkedOnceAndReportedShort() throws {
        let key = String(repeating: "k", count: 2000)
        var text = #"{"type":"multus"}"#
        for _ in 0..<(JSONValue.maximumDepth - 2) { text = #"{"\#(key)":\#(text)}"# }
        let refusal = try #require(MetaPluginGuard(executor: PosixSpawnExecutor(), pluginDirectories: [], ownExecutable: "/nonexistent")
            .refusal(try JSONValue.parse(text)))
        #expect(refusal.utf8.count < 400, "\(refusal.utf8.count) bytes")
    }
}
