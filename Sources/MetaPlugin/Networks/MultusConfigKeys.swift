import CNI

extension MultusConfig {
    /// The config's keys, in the order docs/configuration.md's reference lists them (a test holds
    /// the two together); `multus --help` prints them.
    public static let documentedKeys = [
        "cniVersion", "name", "type", "delegates", "clusterNetwork", "defaultNetworks", "confDir", "cniDir", "binDir",
        "runtimeConfig", "capabilities", "prevResult", "readinessindicatorfile", "readinessindicatortimeout", "resultMode",
        "delegateTimeout", "attachConcurrency", "kubeconfig", "multusNamespace", "systemNamespaces", "namespaceIsolation",
        "globalNamespaces", "logFile", "logLevel", "logToStderr", "logOptions", "events", "draDeviceStatus",
        "auxiliaryCNIChainName",
    ]

    /// Keys a config may also carry: what libcni adds to every plugin's config (`args`,
    /// `cniVersions`), and Multus's `retryDeleteOnError`, accepted without effect (a failed DEL
    /// always keeps what failed for the next one).
    public static let acceptedKeys = ["args", "cniVersions", "retryDeleteOnError"]

    /// Every key the plugin knows. It ignores any other, so `multus doctor` names them: a misspelt
    /// key fails silently otherwise.
    public static let knownKeys = Set(documentedKeys + acceptedKeys)
}
