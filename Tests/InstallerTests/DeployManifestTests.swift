import Installer
import KubeClient
import Testing
import TestSupport
import YAML

/// deploy/ as shipped: the DaemonSet runs `multus install` with flags it accepts, mounting what
/// those flags point at; the ClusterRole grants the plugin's six permissions and no more.
@Suite("deploy/ manifests")
struct DeployManifestTests {
    func manifest(_ name: String) throws -> YAMLNode {
        try YAMLNode.parse(try readFile(testdata("../deploy/\(name)")))
    }

    @Test("the DaemonSet's command and args parse as install flags, and its mounts are the dirs they name")
    func daemonSetArguments() throws {
        let container = try #require(try manifest("daemonset.yml")["spec"]?["template"]?["spec"]?["containers"]?[0])
        #expect(container["command"]?.elements?.compactMap(\.scalar) == ["/multus", "install"])
        let args = container["args"]?.elements?.compactMap(\.scalar) ?? []
        #expect(args.count == 6)
        let options = try InstallOptions.parse(args, executable: "/multus")
        let mounts = container["volumeMounts"]?.elements?.compactMap { $0.string("mountPath") } ?? []
        #expect(mounts == ["/host/etc/cni/net.d", "/host/opt/cni/bin"])
        #expect(mounts.contains(options.text(.cniConfDir)) && mounts.contains(options.text(.cniBinDir)) && mounts.contains(options.text(.multusAutoconfigDir)))
        #expect(options.generatesConfig && options.isOn(.cleanupConfigOnExit))
    }

    @Test("the ClusterRole: pods get, pods/status update, NADs get, events create, resourceclaims get, resourceslices list")
    func clusterRole() throws {
        let documents = String(decoding: try readFile(testdata("../deploy/rbac.yml")), as: UTF8.self).split(separator: "\n---\n")
        let role = try #require(try documents.map { try YAMLNode.parse(String($0)) }.first { $0.string("kind") == "ClusterRole" })
        let rules = (role["rules"]?.elements ?? []).map { rule in
            [rule["apiGroups"], rule["resources"], rule["verbs"]].map { $0?.elements?.compactMap(\.scalar).joined(separator: ",") ?? "" }.joined(separator: " ")
        }
        #expect(rules == [" pods get", " pods/status update", "k8s.cni.cncf.io network-attachment-definitions get", " events create",
                          "resource.k8s.io resourceclaims get", "resource.k8s.io resourceslices list"])
    }

    /// Only for draDeviceStatus; the integration tests run under exactly these rules, read from the file.
    @Test("the optional ClusterRole for draDeviceStatus: patch resourceclaims/status and associated-node:patch resourceclaims/driver of named drivers, bound to the service account")
    func deviceStatusRole() throws {
        let documents = try String(decoding: try readFile(testdata("../deploy/rbac.yml")), as: UTF8.self).split(separator: "\n---\n").map { try YAMLNode.parse(String($0)) }
        let role = try #require(documents.first { $0.string("kind") == "ClusterRole" && $0["metadata"]?.string("name") == "multus-dra-device-status" })
        let rules = (role["rules"]?.elements ?? []).map { rule in
            [rule["apiGroups"], rule["resources"], rule["verbs"], rule["resourceNames"]].map { $0?.elements?.compactMap(\.scalar).joined(separator: ",") ?? "" }
                .joined(separator: " ")
        }
        #expect(rules == ["resource.k8s.io resourceclaims/status patch ", "resource.k8s.io resourceclaims/driver associated-node:patch sriovnetwork.k8snetworkplumbingwg.io"])
        let binding = try #require(documents.first { $0.string("kind") == "ClusterRoleBinding" && $0["metadata"]?.string("name") == "multus-dra-device-status" })
        #expect(binding["roleRef"]?.string("name") == "multus-dra-device-status")
        #expect(binding["subjects"]?[0]?.string("name") == "multus" && binding["subjects"]?[0]?.string("namespace") == "kube-system")
    }
}
