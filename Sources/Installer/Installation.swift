import CNI
import System

/// What install has put on the node and keeps current: the token copy, the kubeconfig, and the
/// config (generated around the primary, or copied). Every step compares before it writes, so
/// running it again when nothing changed touches nothing.
struct Installation {
    let options: InstallOptions
    let paths: InstallPaths
    let environment: [String: String]
    let log: @Sendable (String) -> Void
    /// The primary chosen last; if it disappears it is waited for, not replaced.
    private(set) var pinnedPrimary: String?
    /// The last waiting/problem line, so a condition that persists is logged once.
    private var lastNotice: String?

    init(options: InstallOptions, environment: [String: String], log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.paths = InstallPaths(options)
        self.environment = environment
        self.log = log
    }

    /// Directories whose changes can change what install writes.
    var watchedDirectories: [String] {
        let source = paths.copiedConfigSource.map(InstallPaths.parent(of:)) ?? paths.autoconfigDir
        return [paths.serviceAccountDir, source]
    }

    /// Token copy first, kubeconfig next, config last: the runtime never sees a config whose
    /// kubeconfig or token is missing.
    mutating func refreshAll() throws(InstallError) {
        try refreshCredentials()
        try refreshConfig()
    }

    /// Rewrites the token copy and the kubeconfig if the service account changed.
    mutating func refreshCredentials() throws(InstallError) {
        let account = try ServiceAccount.read(directory: paths.serviceAccountDir, environment: environment)
        if try InstallFiles.update(paths.token, with: account.token, mode: 0o600) {
            log("wrote the service account token to \(paths.token) (the host reads it as \(paths.hostToken))")
        }
        let kubeconfig = account.kubeconfig(tokenFile: paths.hostToken, skipTLSVerify: options.isOn(.skipTLSVerify))
        if try InstallFiles.update(paths.kubeconfig, with: Array(kubeconfig.utf8), mode: 0o600) {
            log("wrote \(paths.kubeconfig) (server \(account.server))")
        }
    }

    /// The generated or copied config. A primary that is missing or unusable is logged and
    /// waited for; whatever config is already there stays.
    mutating func refreshConfig() throws(InstallError) {
        if let source = paths.copiedConfigSource, let target = paths.copiedConfig {
            try copyConfig(from: source, to: target)
            return
        }
        let movedTo = options.isOn(.renameConfFile) ? pinnedPrimary.map { $0 + ".old" } : nil
        switch primaryFinder.find(pinned: pinnedPrimary, movedTo: movedTo) {
        case .waiting(let reason): notice(reason)
        case .unusable(let error): notice("\(error); waiting for it to change")
        case .found(let primary):
            do { try write(GeneratedConfig(primary: primary, options: options), around: primary) } catch {
                guard case .primary = error else { throw error }
                notice("\(error); waiting for it to change")
            }
        }
    }

    private var primaryFinder: PrimaryFinder {
        let explicit = options.text(.multusMasterCNIFileName)
        // Our own files can only be mistaken for the primary where we write them.
        let sameDirectory = paths.autoconfigDir == paths.confDir || Files.areSameFile(paths.autoconfigDir, paths.confDir)
        return PrimaryFinder(directory: paths.autoconfigDir, explicitName: explicit.isEmpty ? nil : explicit,
                             ownNames: sameDirectory ? paths.ownNames : [])
    }

    private mutating func write(_ config: GeneratedConfig, around primary: PrimaryConfig) throws(InstallError) {
        let target = InstallPaths.join(paths.confDir, config.fileName)
        let wrote = try InstallFiles.update(target, with: config.bytes, mode: 0o600)
        if wrote { log("wrote \(target) around the primary CNI config \(primary.path) (cniVersion \(primary.cniVersion))") }
        // Removed only once the new one is in place: the runtime always finds one of ours.
        for stale in paths.generatedConfigs where stale != target { try InstallFiles.remove(stale) }
        // Whatever was waited for is over: the next wait is logged again.
        lastNotice = nil
        pinnedPrimary = primary.path
        if options.isOn(.renameConfFile) && Files.exists(primary.path) {
            try InstallFiles.rename(primary.path, to: primary.path + ".old")
            log("renamed \(primary.path) to \(primary.path).old")
        }
        if wrote { warnIfShadowed(config.fileName) }
    }

    /// A runtime uses the first config in the conf dir; one sorting before ours (as
    /// `00-calico.conflist` does before `00-multus.conf`) means pods never reach multus.
    private func warnIfShadowed(_ ours: String) {
        guard let names = try? Files.list(paths.confDir) else { return }
        let before = names.filter { NetworkConfigFiles.isConfigFile($0) && !paths.ownNames.contains($0) && $0.utf8.lexicographicallyPrecedes(ours.utf8) }
        guard !before.isEmpty else { return }
        log("warning: \(before.sorted().joined(separator: ", ")) in \(paths.confDir) sorts before \(ours), so the runtime uses it and not multus; "
               + "rename it, or use --rename-conf-file")
    }

    private mutating func copyConfig(from source: String, to target: String) throws(InstallError) {
        guard let bytes = try InstallFiles.read(source) else {
            throw .missing(what: "--multus-conf-file", path: source, reason: "no such file")
        }
        guard case .object? = try? JSONValue.parse(bytes) else {
            throw .primary(path: source, reason: "is not a JSON object (--multus-conf-file)")
        }
        if try InstallFiles.update(target, with: bytes, mode: 0o600) { log("copied \(source) to \(target)") }
    }

    /// Removes what install wrote and puts a renamed primary back (`--cleanup-config-on-exit`).
    func cleanUp() {
        let written = (paths.copiedConfig.map { [$0] } ?? paths.generatedConfigs) + [paths.kubeconfig, paths.token]
        for path in written {
            do { if try InstallFiles.remove(path) { log("removed \(path)") } } catch { log("error: \(error)") }
        }
        if let primary = pinnedPrimary, options.isOn(.renameConfFile), !Files.exists(primary), Files.exists(primary + ".old") {
            do {
                try InstallFiles.rename(primary + ".old", to: primary)
                log("put \(primary) back")
            } catch { log("error: \(error)") }
        }
    }

    private mutating func notice(_ line: String) {
        guard line != lastNotice else { return }
        lastNotice = line
        log(line)
    }
}
