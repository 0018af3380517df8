import CNI
import Glibc
import MetaPlugin
import Testing
import TestSupport

/// The plugin's own files under cniDir are never symbolic links: a link there is someone
/// steering root's reads and writes (a hostPath pod, a compromised delegate) and is not followed.
@Suite("The plugin's files refuse symbolic links")
struct NodeFilesTests {
    static let delegates = [delegate("net-a", type: "bridge", version: "1.1.0"), delegate("net-b", type: "macvlan", version: "1.1.0")]

    /// The config, with ctr1 attached by it.
    private func attached(_ box: Sandbox) -> JSONValue {
        let config = multusConfig(box, version: "1.1.0", delegates: Self.delegates)
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        return config
    }

    /// A cache entry moved elsewhere and linked back: CHECK must not trust what it points at.
    @Test func aCacheEntryThatIsALinkIsNotRead() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attached(box)
        let elsewhere = box.root + "/planted.json"
        #expect(rename(box.cacheFile(), elsewhere) == 0)
        #expect(symlink(elsewhere, box.cacheFile()) == 0)
        let check = FakeExecutor()
        expectFailure(run("CHECK", config, executor: check), code: 5, msgContains: [box.cacheFile()])
        #expect(check.calls.isEmpty)
    }

    /// A tombstone makes DEL run nothing: a linked one must not.
    @Test func aTombstoneThatIsALinkIsIgnored() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, version: "1.1.0", delegates: Self.delegates)
        try box.mkdirs(box.cniDir + "/deleted")
        try box.write(box.root + "/eth0", "eth0")
        #expect(symlink(box.root + "/eth0", box.cniDir + "/deleted/ctr1") == 0)
        let del = FakeExecutor()
        expectSuccess(run("DEL", config, executor: del))
        #expect(del.steps == ["DEL macvlan@net1", "DEL bridge@eth0"])
    }

    /// GC's lock file, created with O_CREAT: through a link, root would create any file named.
    @Test func aLockFileThatIsALinkCreatesNothing() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = multusConfig(box, version: "1.1.0", delegates: Self.delegates)
        try box.mkdirs(box.cniDir + "/attachments")
        let target = box.root + "/created-by-root"
        #expect(symlink(target, box.cniDir + "/attachments/.gc.lock") == 0)
        var gc = config.objectValue ?? JSONObject()
        gc["cni.dev/valid-attachments"] = []
        expectFailure(run("GC", .object(gc), executor: FakeExecutor()), code: 5, msgContains: [".gc.lock"])
        #expect(!fileExists(target))
    }

    /// GC sweeps what writes killed before their rename left in the cache directory.
    @Test func gcSweepsLeftoverTemporaryFiles() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = attached(box)
        let leftover = box.cniDir + "/attachments/.ctr9.json.tmp-0123456789abcdef"
        try box.write(leftover, "{")
        #expect(backdate(leftover, seconds: 3600))
        var gc = config.objectValue ?? JSONObject()
        gc["cni.dev/valid-attachments"] = [["containerID": "ctr1", "ifname": "eth0"]]
        expectSuccess(run("GC", .object(gc), executor: FakeExecutor()))
        #expect(!fileExists(leftover))
        #expect(fileExists(box.cacheFile()))
    }
}
