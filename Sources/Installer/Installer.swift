import CNI
import System

/// `multus install`, the DaemonSet container's entrypoint: copies the binary onto the host,
/// writes the kubeconfig and the config, keeps them current while it runs, and on SIGTERM
/// (with `--cleanup-config-on-exit`) removes them.
public struct Installer: Sendable {
    public let options: InstallOptions
    public let environment: [String: String]
    let log: @Sendable (String) -> Void

    /// How often everything is checked even without an inotify event (a safety net; changes
    /// are normally seen as they happen).
    static let recheckInterval = Duration.seconds(30)

    /// - Parameter log: receives one line per thing done or waited for.
    public init(options: InstallOptions, environment: [String: String], log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.environment = environment
        self.log = log
    }

    /// Installs, then keeps the files current until `stop` polls readable.
    /// - Throws: what stopped the start (a missing directory, an unreadable service account, a
    ///   file that could not be written). Later failures are logged and retried.
    public func run(stop: FileDescriptor) throws(InstallError) {
        var installation = try prepare()
        // Watching starts before the first write, so a change made while it runs is not missed.
        let watcher = DirectoryWatcher(directories: installation.watchedDirectories, stop: stop)
        try installation.refreshAll()
        log(watcher.isNotified ? "watching \(installation.watchedDirectories.joined(separator: " and ")) for changes"
                               : "inotify unavailable; checking for changes every second")
        while watcher.wait(timeout: Self.recheckInterval) != .stop {
            do {
                if options.isOn(.skipConfigWatch) { try installation.refreshCredentials() } else { try installation.refreshAll() }
            } catch {
                log("error: \(error); keeping what is there and trying again on the next change")
            }
        }
        log("stopping")
        if options.isOn(.cleanupConfigOnExit) { installation.cleanUp() }
    }

    /// Checks the flags' paths and the service account, then copies the binary: a node is
    /// only touched once everything needed is there.
    func prepare() throws(InstallError) -> Installation {
        let installation = Installation(options: options, environment: environment, log: log)
        let paths = installation.paths
        try requireDirectory(paths.confDir, flag: .cniConfDir)
        if let source = paths.copiedConfigSource {
            guard Files.kind(of: source) == .regular else { throw .missing(what: "--multus-conf-file", path: source, reason: "no such file") }
        } else {
            try requireDirectory(paths.autoconfigDir, flag: .multusAutoconfigDir)
        }
        _ = try ServiceAccount.read(directory: paths.serviceAccountDir, environment: environment)
        if !options.isOn(.skipMultusBinaryCopy) { try copyBinary(to: paths.binDir) }
        try InstallFiles.ensureDirectory(paths.privateDir, mode: 0o700)
        return installation
    }

    private func requireDirectory(_ path: String, flag: InstallFlag) throws(InstallError) {
        guard Files.kind(of: path) == .directory else {
            throw .missing(what: "--\(flag.rawValue)", path: path, reason: Files.exists(path) ? "not a directory" : "no such directory")
        }
    }

    /// Copies the binary atomically: a node never runs a half-written plugin, and replacing
    /// one that is running cannot fail with ETXTBSY.
    private func copyBinary(to binDir: String) throws(InstallError) {
        try requireDirectory(binDir, flag: .cniBinDir)
        let source = options.text(.multusBinFile)
        guard Files.kind(of: source) == .regular else { throw .missing(what: "--multus-bin-file", path: source, reason: "no such file") }
        let target = InstallPaths.join(binDir, "multus")
        if Files.areSameFile(source, target) { return }
        try InstallFiles.copy(source, to: target, mode: 0o755)
        log("copied \(source) to \(target)")
    }

    /// Blocks SIGTERM and SIGINT and returns a descriptor that polls readable when one arrives,
    /// for `run(stop:)`. Called by `main` before anything else, so no thread has them unblocked.
    public static func terminationSignals() throws(InstallError) -> FileDescriptor {
        do { return try Signals.terminationDescriptor() } catch { throw .file(error, path: "signalfd") }
    }
}
