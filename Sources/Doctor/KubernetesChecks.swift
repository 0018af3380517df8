import CNI
import KubeClient
import MetaPlugin
import System

/// What the Kubernetes group found that the plugin group needs: the NADs it could list.
struct ClusterFindings: Sendable {
    var nads: [NetworkAttachmentDefinition] = []
    /// Whether the API answered at all (later groups skip what needs it otherwise).
    var reachable = false
}

/// Group 2: the kubeconfig, the token, the server, RBAC (by SelfSubjectAccessReview), the CRD.
/// Every call goes through a fresh client with the doctor's deadline, so one check that hangs
/// costs at most that deadline.
struct KubernetesChecks {
    let config: MultusConfig
    let seams: DoctorSeams
    let namespace: Namespace?

    func run(_ found: inout FoundConfig) -> (checks: [Check], findings: ClusterFindings) {
        var checks: [Check] = []
        var findings = ClusterFindings()
        guard let path = config.kubeconfig else {
            checks.append(.ok("kubernetes.kubeconfig", "the config names no kubeconfig: no API calls (delegates only)"))
            return (checks, findings)
        }
        let kubeconfig: Kubeconfig
        do { kubeconfig = try Kubeconfig.load(path: path) } catch {
            checks.append(kubeconfigFailure(path, error))
            return (checks, findings)
        }
        checks.append(.ok("kubernetes.kubeconfig", "\(path): server \(kubeconfig.server), authenticating with \(kubeconfig.credentials)"))
        let tokenCheck = token(kubeconfig)
        checks.append(tokenCheck.check)
        guard tokenCheck.check.verdict != .error else { return (checks, findings) }

        let server = serverCheck(kubeconfig)
        checks.append(server)
        guard server.verdict == .ok else { return (checks, findings) }
        findings.reachable = true
        checks.append(rbac(kubeconfig, claims: tokenCheck.claims))
        checks.append(served(kubeconfig, groupVersion: "k8s.cni.cncf.io/v1", resource: "network-attachment-definitions", name: "kubernetes.nad-crd",
                             missing: .error, fix: "install the NetworkAttachmentDefinition CRD (deploy/ in this repository, or Multus's)"))
        if config.draDeviceStatus {
            checks.append(served(kubeconfig, groupVersion: "resource.k8s.io/v1", resource: "resourceclaims", name: "kubernetes.dra-api",
                                 missing: .error, fix: "draDeviceStatus needs Kubernetes 1.34+ (resource.k8s.io/v1); turn it off on older clusters"))
            checks.append(nodeNameClaim(tokenCheck.claims))
            if let node = tokenCheck.claims?.nodeName {
                let dra = DeviceStatusChecks(seams: seams, kubeconfig: kubeconfig, node: node, who: tokenCheck.claims?.subject ?? "the kubeconfig's user")
                checks += [dra.driverGrants(), dra.refusals()]
            }
        }
        let (nadCheck, nads) = listNADs(kubeconfig)
        checks.append(nadCheck)
        findings.nads = nads
        checks += clusterNetworkNADs(&found, nads: nads)
        return (checks, findings)
    }

    private func kubeconfigFailure(_ path: String, _ error: KubeError) -> Check {
        if case .token(let file, let reason) = error {
            return .error("kubernetes.token", "token file \(file) is not usable: \(reason); STATUS reports the plugin not available (code 50)",
                          fix: "multus install renews the token file; check that the DaemonSet runs on this node")
        }
        return .error("kubernetes.kubeconfig", error.description, fix: "multus install writes it; check the path in the config's kubeconfig key")
    }

    private func token(_ kubeconfig: Kubeconfig) -> (check: Check, claims: TokenClaims?) {
        let now = seams.now()
        do {
            guard let (_, claims) = try kubeconfig.credentials.currentToken(now: now) else {
                return (.ok("kubernetes.token", "no bearer token (\(kubeconfig.credentials))"), nil)
            }
            guard let claims else { return (.ok("kubernetes.token", "a token that is not a JWT: its expiry is not known here"), nil) }
            guard let expires = claims.expires else { return (.ok("kubernetes.token", "a JWT without exp: it does not expire"), claims) }
            let left = expires - now
            let detail = "JWT\(claims.subject.map { " for \($0)" } ?? ""), expires at \(WallClockTime(seconds: expires).rfc3339) (in \(Self.span(left)))"
            if left < 10 * 60 {
                return (.warning("kubernetes.token", detail, fix: "multus install renews it before expiry; check that the DaemonSet runs"), claims)
            }
            return (.ok("kubernetes.token", detail), claims)
        } catch {
            let place: String
            let reason: String
            if case .token(let file, let why) = error { (place, reason) = ("token file \(file)", why) } else { (place, reason) = ("the token", error.description) }
            return (.error("kubernetes.token", "\(place) is not usable: \(reason); STATUS reports the plugin not available (code 50)",
                           fix: "multus install renews the token file; check that the DaemonSet runs on this node"), nil)
        }
    }

    static func span(_ seconds: Int64) -> String {
        if seconds < 0 { return "the past" }
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        if seconds < 172_800 { return "\(seconds / 3600) h" }
        return "\(seconds / 86_400) days"
    }

    private func serverCheck(_ kubeconfig: Kubeconfig) -> Check {
        let api = seams.connect(kubeconfig)
        let started = ContinuousClock.now
        do {
            let version = try api.serverVersion()
            return .ok("kubernetes.server", "\(kubeconfig.server) answers /version: \(version.gitVersion) in \((ContinuousClock.now - started).doctorText)")
        } catch {
            return .error("kubernetes.server", "GET /version: \(error.description) (after \((ContinuousClock.now - started).doctorText), deadline \(seams.deadline.doctorText))",
                          fix: "check the kubeconfig's server, that this node reaches it (firewall, DNS), and that kube-apiserver runs")
        }
    }

    /// The verbs of `PluginPermission.all` the config needs, each asked of the API server.
    private func rbac(_ kubeconfig: Kubeconfig, claims: TokenClaims?) -> Check {
        let api = seams.connect(kubeconfig)
        var missing: [(PluginPermission, Verdict)] = []
        var asked = 0
        let wanted = PluginPermission.all.filter { $0.need != .draDeviceStatus || config.draDeviceStatus }
        for permission in wanted {
            do {
                asked += 1
                if try !api.review(permission.question).allowed {
                    missing.append((permission, permission.need == .dra ? .warning : .error))
                }
            } catch {
                return .error("kubernetes.rbac", "SelfSubjectAccessReview failed: \(error.description)",
                              fix: "any authenticated user may create one (system:basic-user); check the server and the token")
            }
        }
        let who = claims?.subject ?? "the kubeconfig's user"
        guard !missing.isEmpty else { return .ok("kubernetes.rbac", "\(who) may make all \(asked) calls the plugin makes (SelfSubjectAccessReview)") }
        let verdict: Verdict = missing.contains { $0.1 == .error } ? .error : .warning
        let detail = "\(who) may not: " + missing.map { "\($0.0.question) (\($0.0.call))" }.joined(separator: "; ")
        let fix = "add to the ClusterRole bound to \(who): " + missing.map(\.0.rule).joined(separator: ", ")
            + (missing.contains { $0.0.need == .draDeviceStatus } ? " (deploy/rbac.yml's optional ClusterRole)" : "")
        return Check("kubernetes.rbac", verdict, detail, fix: fix)
    }

    private func served(_ kubeconfig: Kubeconfig, groupVersion: String, resource: String, name: String, missing: Verdict, fix: String) -> Check {
        do {
            let resources = try seams.connect(kubeconfig).servedResources(groupVersion: groupVersion)
            guard resources.contains(resource) else { return Check(name, missing, "\(groupVersion) does not list \(resource)", fix: fix) }
            return .ok(name, "\(groupVersion) serves \(resource)")
        } catch where error.isNotServed {
            return Check(name, missing, "the server does not serve \(groupVersion)", fix: fix)
        } catch {
            return .error(name, "discovery of \(groupVersion) failed: \(error.description)", fix: "check the server and the token")
        }
    }

    private func nodeNameClaim(_ claims: TokenClaims?) -> Check {
        if let node = claims?.nodeName { return .ok("kubernetes.node-claim", "the token is bound to node \(node) (associated-node verbs apply)") }
        return .warning("kubernetes.node-claim", "the token names no node (kubernetes.io.node.name): from Kubernetes 1.36 a status.devices write then needs arbitrary-node:patch",
                        fix: "use the pod's projected service account token (multus install copies it), or grant arbitrary-node:patch on resourceclaims/driver")
    }

    private func listNADs(_ kubeconfig: Kubeconfig) -> (Check, [NetworkAttachmentDefinition]) {
        let scope = namespace.map { "namespace \($0)" } ?? "all namespaces"
        do {
            let nads = try seams.connect(kubeconfig).networkAttachmentDefinitions(namespace: namespace)
            return (.ok("kubernetes.nads", "\(nads.count) NAD\(nads.count == 1 ? "" : "s") in \(scope)"), nads)
        } catch where error.isForbidden {
            return (.warning("kubernetes.nads", "the role may not list NADs in \(scope): their plugins are not checked",
                             fix: "pass --namespace NS for a namespace it may list, or run with a kubeconfig that may"), [])
        } catch {
            return (.error("kubernetes.nads", "listing NADs in \(scope) failed: \(error.description)", fix: "check the server and the token"), [])
        }
    }

    /// `clusterNetwork`/`defaultNetworks` that were no file: NADs in multusNamespace.
    private func clusterNetworkNADs(_ found: inout FoundConfig, nads: [NetworkAttachmentDefinition]) -> [Check] {
        var checks: [Check] = []
        for (key, reference) in found.unresolved {
            let parts = reference.split(separator: "/", maxSplits: 1).map(String.init)
            let (ns, name) = parts.count == 2 ? (parts[0], parts[1]) : (config.multusNamespace.text, reference)
            if let nad = nads.first(where: { $0.metadata.namespace == ns && $0.metadata.name == name }) {
                checks.append(.ok("config.\(key)", "\(Echo.quoted(reference)) is NAD \(ns)/\(name)"))
                found.plugins += PluginChecks.uses(of: nad)
            } else {
                checks.append(.error("config.\(key)", "\(Echo.quoted(reference)) is neither a config in \(config.confDir) nor a NAD in \(ns)",
                                     fix: "create it, or correct \(key)"))
            }
        }
        return checks
    }
}
