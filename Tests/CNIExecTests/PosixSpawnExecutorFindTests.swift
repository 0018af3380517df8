import CNIExec
import Glibc
import Testing
import TestSupport

@Suite("PosixSpawnExecutor.find")
struct PosixSpawnExecutorFindTests {
    let executor = PosixSpawnExecutor()

    @Test("the first directory holding the plugin wins; order matters")
    func firstDirectoryWins() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let first = try sandbox.directory("first")
        let second = try sandbox.directory("second")
        let third = try sandbox.directory("third")
        try sandbox.script("second/bridge", "exit 0")
        try sandbox.script("third/bridge", "exit 0")

        #expect(try executor.find("bridge", in: [first, second, third]) == second + "/bridge")
        #expect(try executor.find("bridge", in: [third, second, first]) == third + "/bridge")
    }

    @Test("a file without execute permission is skipped")
    func skipsNonExecutableFile() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let first = try sandbox.directory("first")
        let second = try sandbox.directory("second")
        try sandbox.script("first/bridge", "exit 0", mode: 0o644)
        try sandbox.script("second/bridge", "exit 0")

        // access(X_OK) is what decides, even for root: a 0644 file has no execute bit at all.
        #expect(try executor.find("bridge", in: [first, second]) == second + "/bridge")
        #expect(throws: ExecError.notFound(type: "bridge", searched: [first])) {
            try executor.find("bridge", in: [first])
        }
    }

    @Test("a directory with the plugin's name is skipped, even though it is 'executable'")
    func skipsDirectoryWithSameName() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let first = try sandbox.directory("first")
        let second = try sandbox.directory("second")
        try sandbox.directory("first/bridge", mode: 0o755)
        try sandbox.script("second/bridge", "exit 0")

        #expect(try executor.find("bridge", in: [first, second]) == second + "/bridge")
    }

    @Test("empty directory strings are skipped and not reported as searched")
    func skipsEmptyDirectoryStrings() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let dir = try sandbox.directory("bin")
        try sandbox.script("bin/bridge", "exit 0")

        // "" must not turn into "/bridge" or "bridge" relative to the working directory.
        #expect(try executor.find("bridge", in: ["", dir, ""]) == dir + "/bridge")
        #expect(throws: ExecError.notFound(type: "macvlan", searched: [dir])) {
            try executor.find("macvlan", in: ["", dir, ""])
        }
    }

    @Test("a trailing slash in a directory does not double the separator")
    func trailingSlash() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let dir = try sandbox.directory("bin")
        try sandbox.script("bin/bridge", "exit 0")

        #expect(try executor.find("bridge", in: [dir + "/"]) == dir + "/bridge")
    }

    @Test("a symlink to an executable counts; a dangling one does not")
    func symlinks() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        try sandbox.directory("real")
        let links = try sandbox.directory("links")
        let other = try sandbox.directory("other")
        let target = try sandbox.script("real/bridge-1.0", "exit 0")
        try sandbox.symlink("links/bridge", to: target)
        try sandbox.symlink("links/macvlan", to: sandbox.pathOf("real/absent"))
        try sandbox.script("other/macvlan", "exit 0")

        #expect(try executor.find("bridge", in: [links]) == links + "/bridge")
        #expect(try executor.find("macvlan", in: [links, other]) == other + "/macvlan")
    }

    @Test("notFound lists every non-empty directory searched, in order")
    func notFoundListsSearchedDirectories() throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let empty = try sandbox.directory("empty")
        let missing = sandbox.pathOf("does-not-exist")

        #expect(throws: ExecError.notFound(type: "bridge", searched: [missing, empty, "/nonexistent/opt/cni/bin/"])) {
            try executor.find("bridge", in: [missing, "", empty, "/nonexistent/opt/cni/bin/"])
        }
        #expect(throws: ExecError.notFound(type: "bridge", searched: [])) {
            try executor.find("bridge", in: [])
        }
        #expect(throws: ExecError.notFound(type: "bridge", searched: [])) {
            try executor.find("bridge", in: ["", ""])
        }
    }

    /// Each of these would resolve to a real executable if it reached the file system (the
    /// sandbox is laid out so), so getting `.invalidPluginType` rather than a path proves the
    /// check runs first; the nonexistent directory and the empty-list case show it is not a
    /// `.notFound` in disguise either.
    @Test(
        "names that could leave the plugin directories are rejected before any lookup",
        arguments: ["", ".", "..", "a/b", "../bridge", "/usr/bin/true", "bridge/", "./bridge", "a\u{0}b"]
    )
    func rejectsInvalidPluginTypes(type: String) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let sub = try sandbox.directory("sub")
        try sandbox.directory("a")
        try sandbox.script("a/b", "exit 0")
        try sandbox.script("bridge", "exit 0")
        try sandbox.script("sub/bridge", "exit 0")

        for directories in [[sub, sandbox.path, "/", "/nonexistent"], [], [""]] {
            #expect(throws: ExecError.invalidPluginType(type)) {
                try executor.find(type, in: directories)
            }
        }
        #expect(throws: ExecError.invalidPluginType(type)) { try ExecError.validatePluginType(type) }
    }

    @Test("ordinary plugin names are accepted", arguments: ["bridge", "host-local", "sriov.v2", "..bridge", "a..b", ".hidden"])
    func acceptsPlainNames(type: String) throws {
        let sandbox = try PluginSandbox()
        defer { sandbox.remove() }
        let dir = try sandbox.directory("bin")
        try sandbox.script("bin/" + type, "exit 0")

        #expect(try executor.find(type, in: [dir]) == dir + "/" + type)
    }
}
