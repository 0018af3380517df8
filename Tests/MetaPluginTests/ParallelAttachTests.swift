import CNI
import CNIExec
import Glibc
@testable import MetaPlugin
import Synchronization
import Testing
import TestSupport

/// Fake delegates that wait for one another, so that concurrency is seen in what happened rather
/// than in how long it took. Each call of `command` on a secondary interface (`net<N>`) waits,
/// up to 5 s, until `together` such calls have been running at once, then until every interface
/// before its own in `finishOrder` has finished. A call that gives up waiting is noted in `gaveUp`;
/// a test expects none (a plugin run one at a time cannot meet another).
final class Rendezvous: Sendable {
    private struct State {
        var running = 0
        var peak = 0
        var met = false
        var finished: [String] = []
        var log: [String] = []
        var gaveUp: [String] = []
    }

    let command: String
    let together: Int
    let finishOrder: [String]
    private let answer: FakeExecutor.Script
    private let state = Mutex(State())

    init(_ command: String, together: Int = 1, finishOrder: [String] = [], answer: @escaping FakeExecutor.Script = FakeExecutor.standard) {
        self.command = command
        self.together = together
        self.finishOrder = finishOrder
        self.answer = answer
    }

    /// "start <ifName>" and "end <ifName>" of every call of `command`, main network included;
    /// "<command> <ifName>" of any other call.
    var log: [String] { state.withLock { $0.log } }
    /// The most secondaries running `command` at once.
    var peak: Int { state.withLock { $0.peak } }
    var gaveUp: [String] { state.withLock { $0.gaveUp } }
    var finished: [String] { state.withLock { $0.finished } }

    func respond(_ call: FakeCall) -> ExecOutput {
        guard call.command == command else {
            state.withLock { $0.log.append("\(call.command) \(call.ifName)") }
            return answer(call)
        }
        let secondary = call.ifName.hasPrefix("net")
        state.withLock { state in
            state.log.append("start \(call.ifName)")
            guard secondary else { return }
            state.running += 1
            state.peak = max(state.peak, state.running)
            if state.running >= together { state.met = true }
        }
        if secondary {
            waitUntil(call, "\(together) running at once") { $0.met }
            let before = finishOrder.prefix { $0 != call.ifName }
            waitUntil(call, "\(before) finished first") { state in before.allSatisfy(state.finished.contains) }
        }
        let output = answer(call)
        state.withLock { state in
            state.log.append("end \(call.ifName)")
            guard secondary else { return }
            state.running -= 1
            state.finished.append(call.ifName)
        }
        return output
    }

    private func waitUntil(_ call: FakeCall, _ what: String, _ condition: (State) -> Bool) {
        for _ in 0..<5_000 {
            if state.withLock({ condition($0) }) { return }
            usleep(1_000)
        }
        state.withLock { $0.gaveUp.append("\(call.command) \(call.ifName) waited for \(what)") }
    }
}

/// A main network (one bridge plugin, on eth0) and `count` single-plugin secondaries net1...
func parallelDelegates(_ count: Int) -> [JSONValue] {
    [delegate("main", type: "bridge")] + (0..<count).map { delegate("net-\($0 + 1)", type: "macvlan") }
}

func parallelConfig(_ box: Sandbox, secondaries: Int, concurrency: Int) -> JSONValue {
    multusConfig(box, delegates: parallelDelegates(secondaries), [("attachConcurrency", JSONValue(concurrency)), ("resultMode", "merged")])
}

/// The interface names of the cache entry, in its order.
func cachedInterfaces(_ box: Sandbox) throws -> [String] {
    let attachments = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue?["attachments"]?.arrayValue)
    return attachments.compactMap { $0.objectValue?["ifName"]?.stringValue }
}

@Suite("Parallel attach (attachConcurrency)")
struct ParallelAttachTests {
    struct Width: Sendable, CustomTestStringConvertible {
        var concurrency: Int
        var secondaries: Int
        /// How many secondaries must have run at once, and never more.
        var peak: Int
        var testDescription: String { "attachConcurrency \(concurrency), \(secondaries) secondaries: \(peak) at once" }
    }

    static let widths = [Width(concurrency: 1, secondaries: 4, peak: 1), Width(concurrency: 2, secondaries: 5, peak: 2),
                         Width(concurrency: 3, secondaries: 7, peak: 3), Width(concurrency: 8, secondaries: 4, peak: 4)]

    @Test("ADD: the main network alone first, then at most attachConcurrency secondaries at once", arguments: widths)
    func addRunsTheMainAloneThenSecondariesSideBySide(_ width: Width) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let rendezvous = Rendezvous("ADD", together: width.peak)
        let executor = FakeExecutor(script: rendezvous.respond)
        expectSuccess(run("ADD", parallelConfig(box, secondaries: width.secondaries, concurrency: width.concurrency), executor: executor))
        #expect(rendezvous.gaveUp == [])
        #expect(rendezvous.peak == width.peak)
        #expect(rendezvous.log.count == 2 * (width.secondaries + 1))
        #expect(rendezvous.log.prefix(2) == ["start eth0", "end eth0"])
        #expect(Set(executor.steps.dropFirst()) == Set((1...width.secondaries).map { "ADD macvlan@net\($0)" }))
        #expect(try cachedInterfaces(box) == ["eth0"] + (1...width.secondaries).map { "net\($0)" })
    }

    @Test("DEL: at most attachConcurrency secondaries at once, then the main network alone", arguments: widths)
    func delRunsSecondariesSideBySideThenTheMainAlone(_ width: Width) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = parallelConfig(box, secondaries: width.secondaries, concurrency: width.concurrency)
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        let rendezvous = Rendezvous("DEL", together: width.peak)
        let executor = FakeExecutor(script: rendezvous.respond)
        expectSuccess(run("DEL", config, executor: executor))
        #expect(rendezvous.gaveUp == [])
        #expect(rendezvous.peak == width.peak)
        #expect(rendezvous.log.count == 2 * (width.secondaries + 1))
        #expect(rendezvous.log.suffix(2) == ["start eth0", "end eth0"])
        #expect(!fileExists(box.cacheFile()))
    }

    @Test("attachConcurrency 1 runs one at a time, in plan order, exactly as before")
    func oneAtATimeIsUnchanged() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = parallelConfig(box, secondaries: 3, concurrency: 1)
        let executor = FakeExecutor()
        expectSuccess(run("ADD", config, executor: executor))
        expectSuccess(run("DEL", config, executor: executor))
        #expect(executor.steps == ["ADD bridge@eth0", "ADD macvlan@net1", "ADD macvlan@net2", "ADD macvlan@net3",
                                   "DEL macvlan@net3", "DEL macvlan@net2", "DEL macvlan@net1", "DEL bridge@eth0"])
    }

    @Test("the result and the cache keep plan order when the secondaries finish in reverse")
    func planOrderWhateverTheFinishOrder() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let reversed = ["net4", "net3", "net2", "net1"]
        let rendezvous = Rendezvous("ADD", together: 4, finishOrder: reversed)
        let reply = run("ADD", parallelConfig(box, secondaries: 4, concurrency: 4), executor: FakeExecutor(script: rendezvous.respond))
        expectSuccess(reply)
        #expect(rendezvous.gaveUp == [])
        #expect(rendezvous.finished == reversed)
        let result = try CNIResult(json: #require(reply.json), fallbackVersion: .v0_1_0)
        #expect(result.interfaces.map(\.name) == ["veth1", "eth0", "net1", "net2", "net3", "net4"])
        #expect(result.ips.map(\.address.text) == (1...5).map { "10.\($0).0.5/24" })
        let cached = try #require(try JSONValue.parse(readFile(box.cacheFile())).objectValue?["attachments"]?.arrayValue)
        #expect(cached.map { $0.objectValue?["ifName"]?.stringValue } == ["eth0", "net1", "net2", "net3", "net4"])
        // Each network's own result beside it: net<k> holds 10.<k+1>.0.5.
        let addresses = cached.map { $0.objectValue?["result"]?.objectValue?["ips"]?.arrayValue?.first?.objectValue?["address"]?.stringValue }
        #expect(addresses == (1...5).map { "10.\($0).0.5/24" })
    }

    @Test("a failure starts nothing new, waits for the running delegate, rolls back all that ran, reports the first failure in plan order")
    func failureStopsStartsAndReportsTheFirstInPlanOrder() throws {
        let box = try Sandbox()
        defer { box.remove() }
        // net1 and net2 run together and both fail; net2 fails first.
        let rendezvous = Rendezvous("ADD", together: 2, finishOrder: ["net2", "net1"]) { call in
            switch (call.command, call.ifName) {
            case ("ADD", "net1"): .cniError(101, "net1 broke")
            case ("ADD", "net2"): .cniError(102, "net2 broke")
            default: FakeExecutor.standard(call)
            }
        }
        let executor = FakeExecutor(script: rendezvous.respond)
        let reply = run("ADD", parallelConfig(box, secondaries: 6, concurrency: 2), executor: executor)
        expectFailure(reply, code: 101, msgContains: ["net1 broke"])
        #expect(reply.error?.details.contains("net1") == true, "\(reply.error?.details ?? "")")
        #expect(rendezvous.gaveUp == [])
        #expect(rendezvous.finished == ["net2", "net1"])
        let log = rendezvous.log
        #expect(log.firstIndex(of: "end net1").map { $0 < (log.firstIndex { $0.hasPrefix("DEL") } ?? 0) } == true,
                "the rollback waited for net1, still running when net2 failed: \(log)")
        let steps = executor.steps
        try #require(steps.count == 6, "\(steps)")
        #expect(steps[0] == "ADD bridge@eth0")
        #expect(Set(steps[1...2]) == ["ADD macvlan@net1", "ADD macvlan@net2"], "nothing after net2 started")
        #expect(Set(steps[3...4]) == ["DEL macvlan@net1", "DEL macvlan@net2"], "both failed networks rolled back, after both finished")
        #expect(steps[5] == "DEL bridge@eth0")
        #expect(!fileExists(box.cacheFile()), "everything undone: no entry left")
    }

    @Test("the main network failing starts no secondary")
    func mainFailureStartsNoSecondary() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor(script: FakeExecutor.failing("bridge", "ADD", with: .cniError(11, "no lease")))
        let reply = run("ADD", parallelConfig(box, secondaries: 3, concurrency: 8), executor: executor)
        expectFailure(reply, code: 11, msgContains: ["no lease"])
        #expect(executor.steps == ["ADD bridge@eth0", "DEL bridge@eth0"])
    }

    @Test("DEL failures are kept and reported in plan order when the DELs finish in reverse")
    func teardownOutcomeInPlanOrder() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let config = parallelConfig(box, secondaries: 4, concurrency: 4)
        expectSuccess(run("ADD", config, executor: FakeExecutor()))
        // DEL starts net4 first; these finish net1 first.
        let rendezvous = Rendezvous("DEL", together: 4, finishOrder: ["net1", "net2", "net3", "net4"]) { call in
            call.command == "DEL" && (call.ifName == "net1" || call.ifName == "net3") ? .cniError(11, "busy \(call.ifName)") : FakeExecutor.standard(call)
        }
        let reply = run("DEL", config, executor: FakeExecutor(script: rendezvous.respond))
        expectFailure(reply, code: 11)
        #expect(rendezvous.gaveUp == [])
        #expect(rendezvous.finished == ["net1", "net2", "net3", "net4"])
        #expect(try cachedInterfaces(box) == ["net1", "net3"])
        // Newest first: net3's failure is the one reported, net1's follows it in details.
        #expect(reply.error?.msg == "busy net3")
        #expect(reply.error?.details.contains("also") == true && reply.error?.details.contains("busy net1") == true, "\(reply.error?.details ?? "")")
    }

    @Test("teardown stages: secondaries newest first together, each main network alone", arguments: [
        ([], []),
        ([.main], [[0]]),
        ([.main, .secondary, .secondary, .secondary], [[3, 2, 1], [0]]),
        ([.secondary, .main, .secondary], [[2], [1], [0]]),
        ([.secondary, .secondary], [[1, 0]]),
    ] as [([MetaPlugin.Attachment.Role], [[Int]])])
    func stages(_ roles: [MetaPlugin.Attachment.Role], _ expected: [[Int]]) {
        #expect(Teardown.stages(of: roles) == expected)
    }

    @Test("attachConcurrency must be a positive integer", arguments: [("0", "found 0"), ("-2", "found -2"), ("\"4\"", "integer"), ("1.5", "integer")])
    func invalidConcurrency(_ value: String, _ reason: String) throws {
        let box = try Sandbox()
        defer { box.remove() }
        let stdin = #"{"cniVersion":"1.0.0","cniDir":"\#(box.cniDir)","delegates":[{"cniVersion":"1.0.0","name":"a","type":"bridge"}],"attachConcurrency":\#(value)}"#
        let executor = FakeExecutor()
        let reply = run("ADD", bytes: Array(stdin.utf8), executor: executor)
        expectFailure(reply, code: 7, msgContains: ["attachConcurrency", reason, "the multus config (stdin)"])
        #expect(executor.calls.count == 0)
    }
}
