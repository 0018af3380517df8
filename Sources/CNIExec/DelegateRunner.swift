import CNI

/// A delegate network failed. Which plugin of the network, at which verb, and how.
public struct DelegateError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Failure: Hashable, Sendable {
        /// The plugin ran and reported an error (its own CNI error, or a synthesized one if it
        /// exited non-zero without printing one).
        case plugin(CNIError)
        /// The plugin could not be run.
        case exec(ExecError)
        /// The plugin succeeded but its result is unreadable or unconvertible.
        case result(SpecError)
    }

    public var command: CNICommand
    /// The plugin `type` that failed.
    public var plugin: String
    public var failure: Failure

    public var description: String {
        switch failure {
        case .plugin(let e): "\(plugin) \(command.rawValue) failed: \(e)"
        case .exec(let e): "\(plugin) \(command.rawValue) failed: \(e)"
        case .result(let e): "\(plugin) \(command.rawValue) returned an unusable result: \(e)"
        }
    }
}

/// Runs one delegate network (a conflist, or a single config as a one-plugin list) the way libcni
/// runs a network for a runtime.
public struct DelegateRunner: Sendable {
    public let executor: any PluginExecutor
    /// How long one plugin process may run before it is killed.
    public let timeout: Duration
    /// Told about every network call and plugin process, for the log.
    public let observer: DelegateObserver?

    public init(executor: any PluginExecutor, timeout: Duration = .seconds(120), observer: DelegateObserver? = nil) {
        self.executor = executor
        self.timeout = timeout
        self.observer = observer
    }

    /// ADD each plugin in order, threading each result into the next as `prevResult`.
    /// - Parameter first: the first plugin's `prevResult` (none for an ordinary network; an
    ///   empty result for a chain of plugins that only act on what is there).
    /// - Returns: the last plugin's result, in the network's `cniVersion`.
    public func add(_ network: NetworkConfigList, _ rt: RuntimeConf, startingFrom first: CNIResult? = nil) throws(DelegateError) -> CNIResult {
        try observed(.add, network, rt, summary: { $0 }) { () throws(DelegateError) in try addPlugins(network, rt, startingFrom: first) }
    }

    private func addPlugins(_ network: NetworkConfigList, _ rt: RuntimeConf, startingFrom first: CNIResult?) throws(DelegateError) -> CNIResult {
        var result = first
        for plugin in network.plugins {
            let config = Injection.pluginConfig(plugin, of: network, prevResult: result, capabilityArgs: rt.capabilityArgs)
            let output = try invoke(plugin, .add, config, rt)
            do {
                result = try CNIResult.parse(output.stdout, fallbackVersion: network.cniVersion).converted(to: network.cniVersion)
            } catch {
                throw DelegateError(command: .add, plugin: plugin.type, failure: .result(error))
            }
        }
        guard let result else {
            throw DelegateError(command: .add, plugin: network.name, failure: .result(.missingField(path: "plugins")))
        }
        return result
    }

    /// CHECK each plugin in order against the cached result. A no-op below 0.4.0 or with
    /// `disableCheck`, as libcni's CheckNetworkList.
    public func check(_ network: NetworkConfigList, _ rt: RuntimeConf, cachedResult: CNIResult) throws(DelegateError) {
        guard network.cniVersion.supportsCheck, !network.disableCheck else { return }
        try observed(.check, network, rt, summary: { _ in nil }) { () throws(DelegateError) in try checkPlugins(network, rt, cachedResult: cachedResult) }
    }

    private func checkPlugins(_ network: NetworkConfigList, _ rt: RuntimeConf, cachedResult: CNIResult) throws(DelegateError) {
        for plugin in network.plugins {
            let config = Injection.pluginConfig(plugin, of: network, prevResult: cachedResult, capabilityArgs: rt.capabilityArgs)
            _ = try invoke(plugin, .check, config, rt)
        }
    }

    /// DEL each plugin in reverse order. From 0.4.0 on, every plugin sees the network's cached
    /// final result as `prevResult` (libcni's DelNetworkList).
    public func del(_ network: NetworkConfigList, _ rt: RuntimeConf, cachedResult: CNIResult?) throws(DelegateError) {
        try observed(.del, network, rt, summary: { _ in nil }) { () throws(DelegateError) in try delPlugins(network, rt, cachedResult: cachedResult) }
    }

    private func delPlugins(_ network: NetworkConfigList, _ rt: RuntimeConf, cachedResult: CNIResult?) throws(DelegateError) {
        let prevResult = network.cniVersion >= .v0_4_0 ? cachedResult : nil
        for plugin in network.plugins.reversed() {
            let config = Injection.pluginConfig(plugin, of: network, prevResult: prevResult, capabilityArgs: rt.capabilityArgs)
            _ = try invoke(plugin, .del, config, rt)
        }
    }

    /// STATUS each plugin; a network older than 1.1.0 has no STATUS and counts as ready.
    public func status(_ network: NetworkConfigList, _ rt: RuntimeConf) throws(DelegateError) {
        guard network.cniVersion.supportsStatusAndGC else { return }
        for plugin in network.plugins {
            let config = Injection.pluginConfig(plugin, of: network, prevResult: nil, capabilityArgs: JSONObject())
            _ = try invoke(plugin, .status, config, rt)
        }
    }

    /// GC each plugin with the attachments that are still valid (`cni.dev/valid-attachments`);
    /// skipped below 1.1.0 or with `disableGC`.
    public func gc(_ network: NetworkConfigList, _ rt: RuntimeConf, validAttachments: [JSONValue]) throws(DelegateError) {
        guard network.cniVersion.supportsStatusAndGC, !network.disableGC else { return }
        for plugin in network.plugins {
            var config = Injection.pluginConfig(plugin, of: network, prevResult: nil, capabilityArgs: JSONObject())
            config["cni.dev/valid-attachments"] = .array(validAttachments)
            _ = try invoke(plugin, .gc, config, rt)
        }
    }

    /// One plugin process. Non-zero exit becomes the plugin's own CNI error when it printed one.
    private func invoke(_ plugin: PluginConfig, _ command: CNICommand, _ config: JSONObject, _ rt: RuntimeConf) throws(DelegateError) -> ExecOutput {
        let output: ExecOutput
        do {
            let path = try executor.find(plugin.type, in: rt.pluginDirectories)
            let stdin = JSONValue.object(config).serializedBytes()
            output = try executor.run(path, stdin: stdin, environment: rt.environment(for: command), timeout: timeout)
            observer?.exchange?(PluginExchange(command: command, path: path, ifName: rt.ifName, stdin: stdin, output: output))
        } catch {
            throw DelegateError(command: command, plugin: plugin.type, failure: .exec(error))
        }
        guard output.succeeded else {
            throw DelegateError(command: command, plugin: plugin.type, failure: .plugin(Self.pluginError(output)))
        }
        return output
    }

    /// The error a failed plugin reported, or one built from its exit status and stderr.
    static func pluginError(_ output: ExecOutput) -> CNIError {
        if let json = try? JSONValue.parse(output.stdout), let error = CNIError(json: json) { return error }
        let how = switch output.termination {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal)"
        }
        let stderr = String(decoding: output.stderr.suffix(2048), as: UTF8.self).trimmingWhitespace
        let stdout = String(decoding: output.stdout.prefix(2048), as: UTF8.self).trimmingWhitespace
        return CNIError(.generic, "plugin \(how) without a CNI error", details: stderr.isEmpty ? stdout : stderr)
    }
}

