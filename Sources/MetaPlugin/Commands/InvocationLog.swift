import CNI
import CNIExec
import KubeClient
import Logging

/// What one call writes to the log, in one place: a line for the command's outcome, one per
/// network, one per API exchange (at `verbose`), and the delegates' stdin and stdout (at `debug`).
enum InvocationLog {
    /// The logging keys, read before the config is decoded so that a broken config is logged
    /// too. Lenient on purpose: decoding the config reports any mistake in these keys.
    static func settings(_ config: JSONValue?) -> LogSettings {
        guard let object = config?.objectValue else { return LogSettings() }
        return (try? LogSettings(JSONFields(object))) ?? LogSettings()
    }

    /// `ADD pod default/web-0 container c1: ok in 41.2 ms`, or the error at `error` level.
    static func outcome(_ log: Logger, _ context: ErrorContext?, _ error: CNIError?, since started: ContinuousClock.Instant) {
        let what = context.map { context in
            [context.command.rawValue, context.pod.map { "pod \($0)" }, context.containerID.map { "container \($0)" }]
                .compactMap { $0 }.joined(separator: " ")
        } ?? "call"
        let took = milliseconds(.now - started)
        guard let error else { return log.log(.verbose, "\(what): ok in \(took)") }
        let details = error.details.isEmpty ? "" : " (\(error.details))"
        log.log(.error, "\(what): failed after \(took) with code \(error.code.rawValue): \(error.msg)\(details)")
    }

    /// The runner's observer: nil below `verbose`, so nothing is timed or formatted for nothing.
    static func delegates(_ log: Logger) -> DelegateObserver? {
        guard log.enables(.verbose) else { return nil }
        let network: @Sendable (NetworkCallReport) -> Void = { (report: NetworkCallReport) in
            let line = networkLine(report)
            log.log(.verbose, line)
        }
        guard log.enables(.debug) else { return DelegateObserver(network: network) }
        return DelegateObserver(network: network, exchange: { (exchange: PluginExchange) in
            let line = exchangeLines(exchange)
            log.log(.debug, line)
        })
    }

    /// A plugin's stdin and stdout (and the end of its stderr, when it wrote any).
    static func exchangeLines(_ exchange: PluginExchange) -> String {
        let head = "\(exchange.path) \(exchange.command.rawValue) \(exchange.ifName?.text ?? "")"
        var text = "\(head) stdin: \(String(decoding: exchange.stdin, as: UTF8.self)) stdout: \(String(decoding: exchange.output.stdout, as: UTF8.self))"
        if !exchange.output.stderr.isEmpty { text += " stderr: \(String(decoding: exchange.output.stderr.suffix(4096), as: UTF8.self))" }
        return text
    }

    /// `network net-b (net1, macvlan) ADD: 10.2.0.5/24 in 12.0 ms`, or its failure.
    static func networkLine(_ report: NetworkCallReport) -> String {
        let head = "network \(report.network) (\(report.ifName?.text ?? ""), \(report.plugins.joined(separator: " -> "))) \(report.command.rawValue)"
        let took = milliseconds(report.duration)
        switch report.outcome {
        case .success(let result?):
            let ips = result.ips.map(\.address.text)
            return "\(head): \(ips.isEmpty ? "no IPs" : ips.joined(separator: ", ")) in \(took)"
        case .success(nil): return "\(head): ok in \(took)"
        case .failure(let error): return "\(head): failed after \(took): \(error)"
        }
    }

    /// One line per HTTP exchange with the API server.
    static func apiCall(_ log: Logger) -> @Sendable (KubeCallReport) -> Void {
        { call in
            let answer = call.status.map { "\($0)" } ?? "no answer (\(call.failure ?? "unknown"))"
            log.log(.verbose, "API \(call.call): \(answer) in \(milliseconds(call.duration))")
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let tenths = duration.components.seconds * 10_000 + duration.components.attoseconds / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) ms"
    }
}
