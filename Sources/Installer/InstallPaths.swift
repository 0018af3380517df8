/// Where install reads and writes, from the flags. Paths are the container's view (the host's
/// directories mounted under /host), except the two written into files the host reads.
struct InstallPaths: Sendable {
    let confDir: String
    let binDir: String
    /// `<cni-conf-dir>/multus.d`, 0700: the kubeconfig and the token copy.
    let privateDir: String
    let kubeconfig: String
    let token: String
    /// The kubeconfig as the host sees it (`--multus-kubeconfig-file-host`), written into the config.
    let hostKubeconfig: String
    /// The token copy as the host sees it: beside the host's kubeconfig.
    let hostToken: String
    /// Where the primary is looked for (`--multus-autoconfig-dir`).
    let autoconfigDir: String
    let serviceAccountDir: String
    /// `--multus-conf-file` when it names a file to copy; nil for `auto`.
    let copiedConfigSource: String?

    init(_ options: InstallOptions) {
        confDir = options.text(.cniConfDir)
        binDir = options.text(.cniBinDir)
        privateDir = Self.join(confDir, "multus.d")
        kubeconfig = Self.join(privateDir, "multus.kubeconfig")
        token = Self.join(privateDir, "token")
        hostKubeconfig = options.text(.multusKubeconfigFileHost)
        hostToken = Self.join(Self.parent(of: hostKubeconfig), "token")
        autoconfigDir = options.text(.multusAutoconfigDir)
        serviceAccountDir = options.text(.serviceAccountDir)
        copiedConfigSource = options.generatesConfig ? nil : options.text(.multusConfFile)
    }

    /// The copied config's path in the conf dir: the source's file name, as Multus copies it.
    var copiedConfig: String? { copiedConfigSource.map { Self.join(confDir, Self.fileName(of: $0)) } }

    /// The generated config's possible paths.
    var generatedConfigs: [String] { GeneratedConfig.fileNames.map { Self.join(confDir, $0) } }

    /// Names install writes in the conf dir, which the primary can never be.
    var ownNames: Set<String> {
        var names = Set(GeneratedConfig.fileNames)
        if let copiedConfigSource { names.insert(Self.fileName(of: copiedConfigSource)) }
        return names
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
