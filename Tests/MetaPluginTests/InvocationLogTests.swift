import CNI
import MetaPlugin
import Testing
import TestSupport

/// What a call logs at each level (lines on stderr, `logToStderr` being on by default).
@Suite("What each log level writes")
struct InvocationLogTests {
    /// The messages of `lines`, without time and with durations as "T".
    static func messages(_ lines: [String]) -> [String] {
        lines.map { line in String(line.dropFirst(21)).replacing(/\d+\.\d ms/, with: "T") }
    }

    @Test("error (the default): nothing for a call that works")
    func errorLevelIsQuietOnSuccess() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates), executor: FakeExecutor())
        expectSuccess(reply)
        #expect(reply.outcome.log == [])
    }

    @Test("error: one line for a failed call, with its code")
    func errorLevelLogsFailures() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("resultMode", "bogus")]), executor: FakeExecutor())
        expectFailure(reply, code: 7)
        #expect(Self.messages(reply.outcome.log).count == 1)
        #expect(Self.messages(reply.outcome.log).first?.hasPrefix("[error] ADD pod default/web-0 container ctr1: failed after T with code 7: ") == true)
    }

    @Test("verbose: one line per network with interface, plugins, IPs and time, then the outcome")
    func verbose() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("logLevel", "verbose")]), executor: FakeExecutor())
        expectSuccess(reply)
        #expect(Self.messages(reply.outcome.log) == [
            "[verbose] network net-a (eth0, bridge -> portmap) ADD: 10.1.0.5/24 in T",
            "[verbose] network net-b (net1, macvlan) ADD: 10.2.0.5/24 in T",
            "[verbose] network net-c (net2, ipvlan) ADD: 10.3.0.5/24 in T",
            "[verbose] ADD pod default/web-0 container ctr1: ok in T",
        ])
    }

    @Test("debug: also each plugin's stdin and stdout")
    func debug() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("logLevel", "debug")]), executor: FakeExecutor())
        expectSuccess(reply)
        let exchanges = Self.messages(reply.outcome.log).filter { $0.hasPrefix("[debug] ") }
        #expect(exchanges.map { $0.split(separator: " ").prefix(4).joined(separator: " ") } == [
            "[debug] /fake/bridge ADD eth0", "[debug] /fake/portmap ADD eth0",
            "[debug] /fake/macvlan ADD net1", "[debug] /fake/ipvlan ADD net2",
        ])
        #expect(exchanges.allSatisfy { $0.contains(" stdin: {") && $0.contains(" stdout: {") })
        #expect(Self.messages(reply.outcome.log).count == 8)
    }

    @Test("a failing delegate is a verbose network line and the error line")
    func failingNetwork() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor(script: FakeExecutor.failing("macvlan", "ADD", with: .cniError(11, "no master")))
        let reply = run("ADD", multusConfig(box, delegates: threeDelegates, [("logLevel", "verbose")]), executor: executor)
        expectFailure(reply, code: 11)
        let messages = Self.messages(reply.outcome.log)
        #expect(messages.filter { $0.hasPrefix("[verbose] network net-b (net1, macvlan) ADD: failed after T: ") }.count == 1)
        #expect(messages.last?.hasPrefix("[error] ADD pod default/web-0 container ctr1: failed after T with code 11: no master") == true)
    }
}
