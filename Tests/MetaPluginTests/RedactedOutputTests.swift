import CNI
import CNIExec
import MetaPlugin
import Testing
import TestSupport

/// What the plugin prints besides its log: diagnostics on stderr and the error object on stdout,
/// which the kubelet copies into the pod's events. A delegate's error may quote its config.
@Suite("Secrets never printed")
struct RedactedOutputTests {
    static let leakingError = #"bad config {"cniVersion":"1.0.0","type":"vpn","password":"TOPSECRET","psk":"TOPSECRET"}"#

    @Test func diagnosticsOnStderrAreRedacted() throws {
        let box = try Sandbox()
        defer { box.remove() }
        // No cache entry: DEL falls back to the config and notes each delegate's failure.
        let executor = FakeExecutor(script: { _ in .cniError(7, Self.leakingError) })
        let del = run("DEL", multusConfig(box, delegates: threeDelegates), executor: executor)
        expectSuccess(del)
        // One line per delegate's failure, each quoting its error, then that the DEL was partial.
        let failures = del.outcome.diagnostics.filter { $0.hasPrefix("ignored: container ctr1: DEL of") }
        #expect(failures.count == 3, "\(del.outcome.diagnostics)")
        #expect(failures.allSatisfy { $0.contains(#""type":"vpn""#) }, "\(del.outcome.diagnostics)")
        #expect(!del.outcome.diagnostics.contains { $0.contains("TOPSECRET") }, "\(del.outcome.diagnostics)")
    }

    @Test func theErrorObjectOnStdoutIsRedacted() throws {
        let box = try Sandbox()
        defer { box.remove() }
        let executor = FakeExecutor(script: FakeExecutor.failing("macvlan", "ADD", with: .cniError(7, Self.leakingError)))
        let add = run("ADD", multusConfig(box, delegates: threeDelegates), executor: executor)
        expectFailure(add, code: 7, msgContains: [#""type":"vpn""#])
        #expect(!add.outcome.stdout.contains("TOPSECRET"), "\(add.outcome.stdout)")
    }
}
