import CNI

/// Every flag `multus install` takes: Multus's `thin_entrypoint` flags under the same names,
/// defaults and meaning (so a Multus DaemonSet keeps its `args` when only the image changes),
/// plus `--service-account-dir` and `--dra-device-status`.
public enum InstallFlag: String, CaseIterable, Sendable {
    case cniBinDir = "cni-bin-dir"
    case cniConfDir = "cni-conf-dir"
    case cniVersion = "cni-version"
    case multusConfFile = "multus-conf-file"
    case multusBinFile = "multus-bin-file"
    case skipMultusBinaryCopy = "skip-multus-binary-copy"
    case multusCNIConfDir = "multus-cni-conf-dir"
    case multusKubeconfigFileHost = "multus-kubeconfig-file-host"
    case multusMasterCNIFileName = "multus-master-cni-file-name"
    case multusAutoconfigDir = "multus-autoconfig-dir"
    case namespaceIsolation = "namespace-isolation"
    case globalNamespaces = "global-namespaces"
    case multusLogToStderr = "multus-log-to-stderr"
    case multusLogLevel = "multus-log-level"
    case multusLogFile = "multus-log-file"
    case overrideNetworkName = "override-network-name"
    case cleanupConfigOnExit = "cleanup-config-on-exit"
    case skipConfigWatch = "skip-config-watch"
    case renameConfFile = "rename-conf-file"
    case readinessIndicatorFile = "readiness-indicator-file"
    case additionalBinDir = "additional-bin-dir"
    case skipTLSVerify = "skip-tls-verify"
    case forceCNIVersion = "force-cni-version"
    case serviceAccountDir = "service-account-dir"
    case draDeviceStatus = "dra-device-status"

    /// The value when the flag is not given. `multus-bin-file`'s is this executable, filled in
    /// by `InstallOptions.parse`.
    public var defaultValue: FlagValue {
        switch self {
        case .cniBinDir: .text("/host/opt/cni/bin")
        case .cniConfDir, .multusAutoconfigDir: .text("/host/etc/cni/net.d")
        case .multusConfFile: .text("auto")
        case .multusCNIConfDir: .text("/host/etc/cni/multus/net.d")
        case .multusKubeconfigFileHost: .text("/etc/cni/net.d/multus.d/multus.kubeconfig")
        case .serviceAccountDir: .text("/var/run/secrets/kubernetes.io/serviceaccount")
        case .cniVersion, .multusBinFile, .multusMasterCNIFileName, .globalNamespaces, .multusLogLevel, .multusLogFile,
             .readinessIndicatorFile, .additionalBinDir: .text("")
        case .multusLogToStderr: .toggle(true)
        case .skipMultusBinaryCopy, .namespaceIsolation, .overrideNetworkName, .cleanupConfigOnExit, .skipConfigWatch,
             .renameConfFile, .skipTLSVerify, .forceCNIVersion, .draDeviceStatus: .toggle(false)
        }
    }

    public var help: String {
        switch self {
        case .cniBinDir: "the host's CNI binary directory, as mounted in the container"
        case .cniConfDir: "the host's CNI config directory, as mounted; the generated config and multus.d/ go here"
        case .cniVersion: "cniVersion of the generated config; must match the primary's (default: the primary's)"
        case .multusConfFile: "\"auto\" to generate the config around the primary, or a config file to copy as is"
        case .multusBinFile: "the multus binary to copy (default: this executable)"
        case .skipMultusBinaryCopy: "do not copy the binary"
        case .multusCNIConfDir: "multus's own config directory, created if missing"
        case .multusKubeconfigFileHost: "the kubeconfig's path as the host sees it, written into the config"
        case .multusMasterCNIFileName: "the primary config's file name in the autoconfig dir (default: the first in lexical order)"
        case .multusAutoconfigDir: "where the primary config is looked for"
        case .namespaceIsolation: "pods may only use NetworkAttachmentDefinitions of their own namespace"
        case .globalNamespaces: "comma-separated namespaces whose NADs every pod may use under namespace isolation"
        case .multusLogToStderr: "written as logToStderr (false only when given false)"
        case .multusLogLevel: "written as logLevel: debug, verbose, error or panic"
        case .multusLogFile: "written as logFile"
        case .overrideNetworkName: "name the generated network after the primary instead of multus-cni-network"
        case .cleanupConfigOnExit: "on SIGTERM, remove the config, kubeconfig and token written"
        case .skipConfigWatch: "do not regenerate the config when the primary changes (the token is still kept fresh)"
        case .renameConfFile: "rename the primary to <name>.old once the config is written (put back on cleanup)"
        case .readinessIndicatorFile: "written as readinessindicatorfile"
        case .additionalBinDir: "written as binDir: searched for delegate plugins before CNI_PATH"
        case .skipTLSVerify: "the kubeconfig skips verifying the API server's certificate"
        case .forceCNIVersion: "set the primary's cniVersion to --cni-version instead of refusing a mismatch"
        case .serviceAccountDir: "the pod's service account: token, ca.crt, namespace"
        case .draDeviceStatus: "written as draDeviceStatus: report attached DRA devices in their ResourceClaims' status.devices (needs the optional role in deploy/rbac.yml)"
        }
    }
}

/// A flag's value: text, or on/off.
public enum FlagValue: Sendable, Hashable {
    case text(String)
    case toggle(Bool)
}

/// The parsed command line of `multus install`.
public struct InstallOptions: Sendable {
    private var values: [InstallFlag: FlagValue]

    /// The text of a text flag ("" for a toggle, which never happens by construction).
    public func text(_ flag: InstallFlag) -> String {
        if case .text(let text)? = values[flag] { return text }
        if case .text(let text) = flag.defaultValue { return text }
        return ""
    }

    public func isOn(_ flag: InstallFlag) -> Bool {
        if case .toggle(let on)? = values[flag] { return on }
        if case .toggle(let on) = flag.defaultValue { return on }
        return false
    }

    /// Whether the config is generated around the primary (`--multus-conf-file=auto`).
    public var generatesConfig: Bool { text(.multusConfFile) == "auto" }

    /// The log levels Multus's plugin knows, as its entrypoint accepts them.
    public static let logLevels = ["debug", "verbose", "error", "panic"]

    /// Parses `arguments` (after `install`) as pflag does: `--name=value`, `--name value` for text
    /// flags, `--name` or `--name=false` for toggles.
    /// - Throws: `InstallError.usage` naming the flag; `.helpRequested` for `--help`/`-h`.
    public static func parse(_ arguments: [String], executable: String) throws(InstallError) -> InstallOptions {
        var options = InstallOptions(values: [.multusBinFile: .text(executable)])
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "--help" || argument == "-h" { throw .helpRequested }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw .usage(flag: argument, reason: "unexpected argument; flags are written --name=value")
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            guard let flag = InstallFlag(rawValue: name) else { throw .usage(flag: "--\(name)", reason: "unknown flag") }
            switch flag.defaultValue {
            case .toggle:
                guard let on = inline.map(parseBool) ?? true else {
                    throw .usage(flag: "--\(name)", reason: "\(Echo.quoted(inline ?? "")) is not true or false")
                }
                options.values[flag] = .toggle(on)
            case .text:
                guard let value = inline ?? remaining.popFirst() else { throw .usage(flag: "--\(name)", reason: "needs a value") }
                options.values[flag] = .text(value)
            }
        }
        try options.validate()
        return options
    }

    /// Go's strconv.ParseBool, which pflag uses.
    private static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    private func validate() throws(InstallError) {
        for flag in [InstallFlag.cniBinDir, .cniConfDir, .multusConfFile, .multusKubeconfigFileHost, .multusAutoconfigDir, .serviceAccountDir]
        where text(flag).isEmpty {
            throw .usage(flag: "--\(flag.rawValue)", reason: "must not be empty")
        }
        if !isOn(.skipMultusBinaryCopy) && text(.multusBinFile).isEmpty {
            throw .usage(flag: "--\(InstallFlag.multusBinFile.rawValue)", reason: "must not be empty")
        }
        if !text(.multusKubeconfigFileHost).hasPrefix("/") {
            throw .usage(flag: "--\(InstallFlag.multusKubeconfigFileHost.rawValue)", reason: "must be an absolute path on the host")
        }
        let level = text(.multusLogLevel).lowercased()
        if !level.isEmpty && !Self.logLevels.contains(level) {
            throw .usage(flag: "--\(InstallFlag.multusLogLevel.rawValue)",
                         reason: "\(Echo.quoted(text(.multusLogLevel))) is not one of \(Self.logLevels.joined(separator: ", "))")
        }
        let version = text(.cniVersion)
        if !version.isEmpty, SpecVersion.fromConfigField(version)?.isSupported != true {
            throw .usage(flag: "--\(InstallFlag.cniVersion.rawValue)", reason: "\(Echo.quoted(version)) is not a CNI version this plugin supports")
        }
        if isOn(.forceCNIVersion) && version.isEmpty {
            throw .usage(flag: "--\(InstallFlag.forceCNIVersion.rawValue)", reason: "needs --cni-version")
        }
        let master = text(.multusMasterCNIFileName)
        if master.contains("/") {
            throw .usage(flag: "--\(InstallFlag.multusMasterCNIFileName.rawValue)", reason: "\(Echo.quoted(master)) must be a file name in --multus-autoconfig-dir, not a path")
        }
    }

    /// The usage text: every flag with its default.
    public static var usage: String {
        var lines = ["usage: multus install [--flag=value ...]", "",
                     "Copies multus into the host's CNI bin dir, writes its kubeconfig and its config around the",
                     "node's primary CNI config, keeps them current, and waits for SIGTERM. Flags:"]
        for flag in InstallFlag.allCases {
            let shown: String
            switch flag.defaultValue {
            case .text(let text): shown = flag == .multusBinFile ? "this executable" : (text.isEmpty ? "\"\"" : text)
            case .toggle(let on): shown = on ? "true" : "false"
            }
            lines.append("  --\(flag.rawValue)  \(flag.help) (default \(shown))")
        }
        return lines.joined(separator: "\n")
    }
}
