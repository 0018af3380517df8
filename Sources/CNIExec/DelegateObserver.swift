import CNI

/// Who hears about a `DelegateRunner`'s work: the meta-plugin's log. Closures, so that running
/// delegates does not depend on how (or whether) anything is logged.
public struct DelegateObserver: Sendable {
    /// One network's ADD, CHECK or DEL is over.
    public var network: @Sendable (NetworkCallReport) -> Void
    /// One plugin process ran; nil when nobody wants its stdin and stdout (the debug level).
    public var exchange: (@Sendable (PluginExchange) -> Void)?

    public init(network: @escaping @Sendable (NetworkCallReport) -> Void, exchange: (@Sendable (PluginExchange) -> Void)? = nil) {
        self.network = network
        self.exchange = exchange
    }
}

/// How one network's call went.
public struct NetworkCallReport: Sendable {
    public var command: CNICommand
    public var network: String
    /// nil for calls that concern no container (GC).
    public var ifName: InterfaceName?
    /// Its plugins' types, in order.
    public var plugins: [String]
    /// ADD's result, nil for other commands; or the failure.
    public var outcome: Result<CNIResult?, DelegateError>
    public var duration: Duration
}

/// One plugin process: what it was given and what it printed.
public struct PluginExchange: Sendable {
    public var command: CNICommand
    public var path: String
    /// nil for calls that concern no container (STATUS, GC).
    public var ifName: InterfaceName?
    public var stdin: [UInt8]
    public var output: ExecOutput
}

extension DelegateRunner {
    /// Runs `body` (one network's plugins) and reports it, timed, to the observer. `summary`
    /// says what of its value goes into the report (ADD's result; nothing for CHECK and DEL).
    func observed<T>(_ command: CNICommand, _ network: NetworkConfigList, _ rt: RuntimeConf, summary: (T) -> CNIResult?,
                     _ body: () throws(DelegateError) -> T) throws(DelegateError) -> T {
        guard let observer else { return try body() }
        let started = ContinuousClock.now
        func report(_ outcome: Result<CNIResult?, DelegateError>) {
            observer.network(NetworkCallReport(command: command, network: network.name, ifName: rt.ifName,
                                               plugins: network.plugins.map(\.type), outcome: outcome, duration: .now - started))
        }
        do {
            let value = try body()
            report(.success(summary(value)))
            return value
        } catch {
            report(.failure(error))
            throw error
        }
    }
}
