import Installer
import Testing

@Suite("multus install: flags")
struct InstallFlagsTests {
    @Test("defaults are thin_entrypoint's; the binary defaults to this executable")
    func defaults() throws {
        let options = try InstallOptions.parse([], executable: "/multus")
        #expect(options.text(.cniBinDir) == "/host/opt/cni/bin")
        #expect(options.text(.cniConfDir) == "/host/etc/cni/net.d")
        #expect(options.text(.multusAutoconfigDir) == "/host/etc/cni/net.d")
        #expect(options.text(.multusConfFile) == "auto")
        #expect(options.text(.multusKubeconfigFileHost) == "/etc/cni/net.d/multus.d/multus.kubeconfig")
        #expect(options.text(.multusBinFile) == "/multus")
        #expect(options.text(.serviceAccountDir) == "/var/run/secrets/kubernetes.io/serviceaccount")
        #expect(options.isOn(.multusLogToStderr))
        #expect(!options.isOn(.cleanupConfigOnExit) && !options.isOn(.renameConfFile) && !options.isOn(.namespaceIsolation))
        #expect(!options.isOn(.draDeviceStatus), "device status is opt-in")
        #expect(options.generatesConfig)
    }

    @Test("pflag's forms: --name=value, --name value, a bare toggle, --toggle=false", arguments: [
        (["--cni-conf-dir=/a"], InstallFlag.cniConfDir, FlagValue.text("/a")),
        (["--cni-conf-dir", "/b"], .cniConfDir, .text("/b")),
        (["--global-namespaces="], .globalNamespaces, .text("")),
        (["--namespace-isolation"], .namespaceIsolation, .toggle(true)),
        (["--namespace-isolation=true"], .namespaceIsolation, .toggle(true)),
        (["--multus-log-to-stderr=false"], .multusLogToStderr, .toggle(false)),
        (["--multus-log-to-stderr=F"], .multusLogToStderr, .toggle(false)),
        (["--cleanup-config-on-exit=1"], .cleanupConfigOnExit, .toggle(true)),
        (["--dra-device-status"], .draDeviceStatus, .toggle(true)),
        (["--multus-conf-file=/tmp/70-multus.conf"], .multusConfFile, .text("/tmp/70-multus.conf")),
        (["--cni-version=0.3.1", "--cni-version=1.0.0"], .cniVersion, .text("1.0.0")),
    ])
    func forms(arguments: [String], flag: InstallFlag, expected: FlagValue) throws {
        let options = try InstallOptions.parse(arguments, executable: "/multus")
        switch expected {
        case .text(let text): #expect(options.text(flag) == text)
        case .toggle(let on): #expect(options.isOn(flag) == on)
        }
    }

    @Test("refused command lines name the flag", arguments: [
        (["--nope"], InstallError.usage(flag: "--nope", reason: "unknown flag")),
        (["extra"], .usage(flag: "extra", reason: "unexpected argument; flags are written --name=value")),
        (["-x"], .usage(flag: "-x", reason: "unexpected argument; flags are written --name=value")),
        (["--cni-bin-dir"], .usage(flag: "--cni-bin-dir", reason: "needs a value")),
        (["--cni-conf-dir="], .usage(flag: "--cni-conf-dir", reason: "must not be empty")),
        (["--skip-tls-verify=yes"], .usage(flag: "--skip-tls-verify", reason: "\"yes\" is not true or false")),
        (["--multus-kubeconfig-file-host=multus.d/k"], .usage(flag: "--multus-kubeconfig-file-host", reason: "must be an absolute path on the host")),
        (["--force-cni-version"], .usage(flag: "--force-cni-version", reason: "needs --cni-version")),
        (["--multus-master-cni-file-name=../x.conf"], .usage(flag: "--multus-master-cni-file-name", reason: "\"../x.conf\" must be a file name in --multus-autoconfig-dir, not a path")),
        (["--help"], .helpRequested),
        (["-h"], .helpRequested),
    ])
    func refused(arguments: [String], expected: InstallError) {
        #expect(throws: expected) { try InstallOptions.parse(arguments, executable: "/multus") }
    }

    @Test("the usage text lists every flag")
    func usageListsEveryFlag() {
        let usage = InstallOptions.usage
        #expect(InstallFlag.allCases.count == 25)
        for flag in InstallFlag.allCases { #expect(usage.contains("--\(flag.rawValue) "), "\(flag.rawValue)") }
    }
}
