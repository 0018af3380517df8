import CNI
import CNIExec
import KubeClient
import System

/// Decides which networks one pod gets, in order: the main network, then `defaultNetworks`,
/// then what the pod asks for in its `k8s.v1.cni.cncf.io/networks` annotation.
///
/// Mirrors Multus's GetDefaultNetworks + TryLoadPodDelegates: the pod's
/// `v1.multus-cni.io/default-network` annotation replaces the main network; `clusterNetwork` and
/// `defaultNetworks` name a NAD in `multusNamespace`, a config in `confDir` (tried in that order),
/// or, containing '/', a file or directory.
struct NetworkResolver {
    let config: MultusConfig
    let files: NetworkFiles
    /// nil without Kubernetes (no kubeconfig, or no pod named in CNI_ARGS).
    let api: (any KubeAPI)?
    var devices = DevicePaths.live
    var containerID = ""
    /// Where a NAD that cannot be read is reported (`NoNetworkFound`); nil where no event belongs (DEL).
    var events: EventRecorder? = nil
    /// Where each network's device and its source are noted.
    var diagnostics: Diagnostics? = nil
    /// What keeps a NAD from running a meta-plugin.
    let metaPluginGuard: MetaPluginGuard
    /// Whether a network of a resource without a device left fails the plan.
    var deviceNeed = DeviceNeed.required

    enum DeviceNeed {
        /// ADD: the delegate cannot work without its device.
        case required
        /// DEL without a cache: tear down what can be, with whatever device is still known.
        case bestEffort
    }

    static let defaultNetworkAnnotation = "v1.multus-cni.io/default-network"

    /// How to treat a network that cannot be resolved (a NAD deleted, the API away).
    enum Resolution {
        /// ADD: the first such network fails the call, before anything is attached.
        case allOrNothing
        /// DEL without any record: skip it, and tear down every other network.
        case bestEffort
    }

    /// The plan for `pod` (nil: no Kubernetes, the config alone decides).
    func plan(for pod: Pod?, mainIfName: InterfaceName) throws(MetaError) -> AttachmentPlan {
        var attachments: [Attachment] = []
        // One allocator for the pod: each network of a resource gets the next device, in order.
        var allocator = deviceAllocator(for: pod)
        for (position, resolved) in try resolve(for: pod, .allOrNothing).enumerated() {
            attachments.append(try attachment(try resolved.get(), position: position, mainIfName: mainIfName, allocator: &allocator))
        }
        return try AttachmentPlan(validating: attachments)
    }

    /// For a DEL that has no record at all: every network that can still be resolved, each on the
    /// interface its position gives it, and why each of the others was skipped.
    func teardownPlan(for pod: Pod?, mainIfName: InterfaceName) -> (attachments: [Attachment], skipped: [MetaError]) {
        let resolved: [Result<ResolvedNetwork, MetaError>]
        do { resolved = try resolve(for: pod, .bestEffort) } catch { return ([], [error]) }
        var allocator = deviceAllocator(for: pod)
        var attachments: [Attachment] = []
        var skipped: [MetaError] = []
        for (position, network) in resolved.enumerated() {
            do throws(MetaError) {
                attachments.append(try attachment(try network.get(), position: position, mainIfName: mainIfName, allocator: &allocator))
            } catch {
                skipped.append(error)
            }
        }
        return (attachments, skipped)
    }

    /// One allocator for the pod: each network of a resource gets the next device, in order, from
    /// the kubelet's pod-resources API or its checkpoint and the pod's DRA claims (asked once,
    /// when first needed).
    private func deviceAllocator(for pod: Pod?) -> DeviceAllocator? {
        let source = PodDeviceSources(node: NodeDevices(devices), cluster: api.map { ClusterDRA(api: $0, diagnostics: diagnostics) },
                                      diagnostics: diagnostics)
        return pod.map { DeviceAllocator(source: source, pod: PodIdentity($0)) }
    }

    /// Every network of the pod in order (the main network, `defaultNetworks` outside
    /// `systemNamespaces`, the annotation's), or why it cannot be had. `.allOrNothing` throws the
    /// first failure instead.
    private func resolve(for pod: Pod?, _ mode: Resolution) throws(MetaError) -> [Result<ResolvedNetwork, MetaError>] {
        func attempt(_ resolve: () throws(MetaError) -> ResolvedNetwork) throws(MetaError) -> Result<ResolvedNetwork, MetaError> {
            do { return .success(try resolve()) } catch {
                guard mode == .bestEffort else { throw error }
                return .failure(error)
            }
        }
        var networks: [Result<ResolvedNetwork, MetaError>] = []
        if let clusterNetwork = config.clusterNetwork {
            networks.append(try attempt { () throws(MetaError) in try reference(clusterNetwork, key: "clusterNetwork") })
            if !isSystemNamespace(pod) {
                for (i, name) in config.defaultNetworks.enumerated() {
                    networks.append(try attempt { () throws(MetaError) in try reference(name, key: "defaultNetworks[\(i)]") })
                }
            }
        } else {
            for (i, network) in config.delegates.enumerated() {
                networks.append(.success(ResolvedNetwork(network: network, source: "delegates[\(i)] of the multus config", statusName: network.name)))
            }
        }
        guard let pod else { return networks + (try auxiliaryChain(mode).map { [$0] } ?? []) }
        if let override = pod.metadata.annotations[Self.defaultNetworkAnnotation], !override.trimmingWhitespace.isEmpty {
            let replacement = try attempt { () throws(MetaError) in try defaultNetworkOverride(override, pod: pod) }
            if networks.isEmpty { networks = [replacement] } else { networks[0] = replacement }
        }
        if let text = pod.metadata.annotations[NetworkSelection.annotation], !text.trimmingWhitespace.isEmpty {
            let source = "annotation \(NetworkSelection.annotation) of pod \(pod.metadata.namespace)/\(pod.metadata.name)"
            switch Result(catching: { () throws(NetworkSelectionError) in try NetworkSelection.parse(text, podNamespace: try Self.namespace(of: pod)) }) {
            case .success(let elements):
                for element in elements {
                    networks.append(try attempt { () throws(MetaError) in try annotatedNetwork(element, pod: pod, source: source) })
                }
            case .failure(let error):
                networks.append(try attempt { () throws(MetaError) in throw .invalidConfig(error.description, source: source) })
            }
        }
        return networks + (try auxiliaryChain(mode).map { [$0] } ?? [])
    }

    /// `auxiliaryCNIChainName`, as Multus v4.2.1+ runs it: the `*.conf` plugins of
    /// `<directory of the cluster network's file>/<name>/`, in lexical order, as one more network
    /// named `<name>`. Nothing when that subdirectory is missing or empty. Multus chains them
    /// behind a `passthru` helper plugin for their empty first result; we hand them one directly,
    /// so no helper binary is needed on the node.
    private func auxiliaryChain(_ mode: Resolution) throws(MetaError) -> Result<ResolvedNetwork, MetaError>? {
        guard let name = config.auxiliaryChainName else { return nil }
        do throws(MetaError) {
            guard let clusterNetwork = config.clusterNetwork, clusterNetwork.contains("/") else {
                throw MetaError.invalidConfig("auxiliaryCNIChainName \(Echo.quoted(name)) needs clusterNetwork to be a file path (its plugins live beside it), and it is \(config.clusterNetwork.map { "\(Echo.quoted($0))" } ?? "not set")",
                                              source: "the multus config (stdin)")
            }
            let directory = Files.kind(of: clusterNetwork) == .directory ? clusterNetwork : String(clusterNetwork[..<(clusterNetwork.lastIndex(of: "/") ?? clusterNetwork.startIndex)])
            let source = "auxiliaryCNIChainName: \(Files.join(directory, name))/"
            let list: JSONObject = ["cniVersion": .string(config.cniVersion.description), "name": .string(name), "plugins": [],
                                    "loadOnlyInlinedPlugins": false]
            let withPlugins = try NetworkFiles.withSubdirectoryPlugins(list, beside: Files.join(directory, "\(name).conflist"), required: false)
            guard !(withPlugins["plugins"]?.arrayValue ?? []).isEmpty else { return nil }
            let network: NetworkConfigList
            do { network = try NetworkConfigList(json: .object(withPlugins)) } catch { throw MetaError.spec(error, source: source) }
            return .success(ResolvedNetwork(network: network, source: source, statusName: name, isAuxiliary: true))
        } catch {
            guard mode == .bestEffort else { throw error }
            return .failure(error)
        }
    }

    /// The attachment one resolved network becomes at `position` in the pod's list.
    private func attachment(_ resolved: ResolvedNetwork, position: Int, mainIfName: InterfaceName, allocator: inout DeviceAllocator?) throws(MetaError) -> Attachment {
        guard !resolved.network.name.isEmpty else {
            throw .invalidConfig("a delegate network needs a \"name\" (plugins key their state, such as IPAM leases, on it)", source: resolved.source)
        }
        let role: Attachment.Role = resolved.isAuxiliary ? .auxiliary : position == 0 ? .main : .secondary
        let ifName = if role == .main { mainIfName } else if let requested = resolved.element?.interfaceRequest { requested } else {
            try Self.secondaryIfName(position, source: resolved.source)
        }
        var capabilities = role == .main ? config.runtimeConfig : JSONObject()
        if let element = resolved.element { capabilities = Self.capabilityArgs(element, over: capabilities) }
        var network = resolved.network
        var device: AttachedDevice?
        if let resourceName = resolved.resourceName, let grant = try nextDevice(&allocator, resourceName, for: resolved, ifName: ifName) {
            // As Multus: deviceID and pciBusID in the config; for secondaries also the
            // deviceID and CNIDeviceInfoFile capabilities.
            let deviceID = grant.id
            let infoFile = DeviceInfo.cniFilePath(baseDirectory: devices.infoDirectory, networkName: resolved.statusName,
                                                  containerID: containerID, ifName: ifName.text)
            device = AttachedDevice(resourceName: resourceName, deviceID: deviceID, infoFile: infoFile, dra: grant.draDevice)
            network = DeviceInfo.injectingDeviceID(deviceID, into: network)
            if role == .secondary {
                capabilities["deviceID"] = .string(deviceID)
                capabilities["CNIDeviceInfoFile"] = .string(infoFile)
            }
        }
        return Attachment(network: network, ifName: ifName, role: role, capabilityArgs: capabilities,
                          source: resolved.source, statusName: resolved.statusName,
                          extraArgs: resolved.element.map(Self.extraArgs) ?? CNIArgs(), device: device,
                          defaultGateways: resolved.element?.defaultRoute ?? [])
    }

    /// `net<position>`, Multus's name for a secondary that requests none.
    private static func secondaryIfName(_ position: Int, source: String) throws(MetaError) -> InterfaceName {
        do { return try InterfaceName("net\(position)") } catch { throw .invalidConfig("interface name for position \(position): \(error.reason)", source: source) }
    }

    /// The network's device, noted with its source; nil without a pod, or when DEL finds none.
    private func nextDevice(_ allocator: inout DeviceAllocator?, _ resourceName: String, for resolved: ResolvedNetwork,
                            ifName: InterfaceName) throws(MetaError) -> DeviceGrant? {
        guard allocator != nil else { return nil }
        do throws(DeviceAllocationError) {
            guard let grant = try allocator?.next(resourceName: resourceName, for: resolved.statusName) else { return nil }
            diagnostics?.note("network \(resolved.statusName) (interface \(ifName)): device \(grant.id) of \(resourceName) (\(grant.origin))")
            return grant
        } catch {
            let problem = error.isShortage ? "\(error)" : "devices of resource \(resourceName): \(error)"
            guard deviceNeed == .required else {
                diagnostics?.note("network \(resolved.statusName) (interface \(ifName)) is torn down without a device: \(problem)")
                return nil
            }
            if case .source(let cause) = error, cause.isTransient { throw .unavailable(problem, source: resolved.source) }
            throw .invalidConfig(problem, source: resolved.source)
        }
    }

    /// The pod's namespace as the API returned it (or as the runtime named it, for a pod the API
    /// does not know): a namespace the API server accepted passes the rule, so this never fails there.
    private static func namespace(of pod: Pod) throws(NetworkSelectionError) -> Namespace {
        do { return try Namespace(pod.metadata.namespace) } catch { throw NetworkSelectionError(reason: "the pod's namespace \(error.reason)") }
    }

    func isSystemNamespace(_ pod: Pod?) -> Bool {
        guard let pod else { return false }
        return config.systemNamespaces.contains(pod.metadata.namespace)
    }

    /// `v1.multus-cni.io/default-network`: one network, looked up in `multusNamespace` unless it names one.
    private func defaultNetworkOverride(_ text: String, pod: Pod) throws(MetaError) -> ResolvedNetwork {
        let source = "annotation \(Self.defaultNetworkAnnotation) of pod \(pod.metadata.namespace)/\(pod.metadata.name)"
        let elements: [NetworkSelectionElement]
        do { elements = try NetworkSelection.parse(text, podNamespace: config.multusNamespace) } catch {
            throw .invalidConfig(error.description, source: source)
        }
        guard elements.count == 1, let element = elements.first else {
            throw .invalidConfig("names \(elements.count) networks; the default network must be exactly one", source: source)
        }
        try requireIsolation(element, pod: pod, source: source)
        return try nad(element, requestedBy: source)
    }

    /// One of the pod's own networks, checked against namespace isolation.
    private func annotatedNetwork(_ element: NetworkSelectionElement, pod: Pod, source: String) throws(MetaError) -> ResolvedNetwork {
        try requireIsolation(element, pod: pod, source: source)
        return try nad(element, requestedBy: source)
    }

    /// `namespaceIsolation`, for every way a pod names a NAD (the networks annotation and the
    /// default-network override): only its own namespace and `globalNamespaces`. Multus checks
    /// the annotation alone, so a pod could take another team's NAD as its default network. An
    /// override without a namespace means `multusNamespace`, which is therefore allowed only if
    /// listed in `globalNamespaces` (or the pod lives there).
    private func requireIsolation(_ element: NetworkSelectionElement, pod: Pod, source: String) throws(MetaError) {
        guard config.namespaceIsolation, element.namespace.text != pod.metadata.namespace, !config.globalNamespaces.contains(element.namespace.text) else { return }
        throw .invalidConfig(
            "network \(element.namespace)/\(element.name) is in another namespace, and namespaceIsolation allows only the pod's own namespace and globalNamespaces (\(config.globalNamespaces.joined(separator: ", ")))",
            source: source)
    }

    /// `clusterNetwork`/`defaultNetworks[i]`: a path, else a NAD in `multusNamespace`, else a name in `confDir`.
    private func reference(_ reference: String, key: String) throws(MetaError) -> ResolvedNetwork {
        if reference.contains("/") {
            let loaded = try files.load(reference, key: key)
            return ResolvedNetwork(network: loaded.network, source: loaded.source, statusName: loaded.network.name)
        }
        // A name Kubernetes could not store is no NAD: it never goes into an API path.
        if let api, NameRules.dns1123SubdomainProblem(reference, what: key) == nil, let name = try? NetworkName(reference),
           let definition = try definition(name, api: api, key: key) {
            return try network(from: definition, element: nil, requestedBy: key)
        }
        let loaded = try files.findByName(reference, key: key)
        return ResolvedNetwork(network: loaded.network, source: loaded.source, statusName: loaded.network.name)
    }

    /// The NAD `name` in `multusNamespace`; nil when there is none (then confDir is tried, as Multus does).
    private func definition(_ name: NetworkName, api: any KubeAPI, key: String) throws(MetaError) -> NetworkAttachmentDefinition? {
        do {
            return try api.networkAttachmentDefinitionFromCache(namespace: config.multusNamespace, name: name)
        } catch where error.isNotFound {
            return nil
        } catch {
            throw .kube(error, context: "\(key) \(Echo.quoted(name.text)) in namespace \(config.multusNamespace)")
        }
    }

    private func nad(_ element: NetworkSelectionElement, requestedBy source: String) throws(MetaError) -> ResolvedNetwork {
        guard let api else {
            throw .invalidConfig("network \(element.namespace)/\(element.name) is requested, but no Kubernetes API is configured (kubeconfig)", source: source)
        }
        let definition: NetworkAttachmentDefinition
        do {
            definition = try api.networkAttachmentDefinitionFromCache(namespace: element.namespace, name: element.name)
        } catch {
            events?.noNetworkFound(namespace: element.namespace, name: element.name, error: error)
            throw .kube(error, context: "network-attachment-definition \(element.namespace)/\(element.name) (requested by \(source))")
        }
        return try network(from: definition, element: element, requestedBy: source)
    }

    /// A NAD's CNI config: `spec.config`, or (empty) the config of the NAD's name in `confDir`;
    /// without `name` it takes the NAD's. The element's `cni-args` go into every plugin's `args.cni`.
    private func network(from definition: NetworkAttachmentDefinition, element: NetworkSelectionElement?, requestedBy: String) throws(MetaError) -> ResolvedNetwork {
        let id = "\(definition.metadata.namespace)/\(definition.metadata.name)"
        let source = "network-attachment-definition \(id)"
        var network: NetworkConfigList
        if definition.config.trimmingWhitespace.isEmpty {
            // The config is then a file in confDir, which the operator wrote: the NAD's author only
            // picks one of the operator's configs by name, so the meta-plugin guard does not apply
            // (a meta-plugin config the operator put there is theirs to run, as `delegates` are).
            // NAD names are DNS-1123 subdomains, but a name is still never allowed to leave confDir.
            let name = definition.metadata.name
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
                throw .invalidConfig("name \(Echo.quoted(name)) cannot name a config in confDir", source: source)
            }
            network = try files.findByName(name, key: "\(source) (empty spec.config)").network
        } else {
            let json: JSONValue
            do { json = try JSONValue.parse(definition.config) } catch { throw .spec(.syntax(error), source: "spec.config of \(source)") }
            if let refusal = metaPluginGuard.refusal(json) { throw .invalidConfig("spec.config: \(refusal)", source: source) }
            do { network = try NetworkConfigList(json: json, path: "spec.config") } catch { throw .spec(error, source: source) }
            if network.name.isEmpty { network = network.renamed(definition.metadata.name) }
        }
        if let cniArgs = element?.cniArgs, !cniArgs.isEmpty {
            network = network.updatingPlugins { Injection.mergingCNIArgs(cniArgs, into: $0) }
        }
        return ResolvedNetwork(network: network, source: source, statusName: id, element: element,
                               resourceName: definition.metadata.annotations[NetworkAttachmentDefinition.resourceNameAnnotation])
    }

    /// Multus's per-network runtimeConfig from the selection element.
    static func capabilityArgs(_ element: NetworkSelectionElement, over base: JSONObject) -> JSONObject {
        var args = base
        if !element.ips.isEmpty { args["ips"] = .array(element.ips.map { .string($0) }) }
        if let mac = element.mac { args["mac"] = .string(mac) }
        if let portMappings = element.portMappings { args["portMappings"] = portMappings }
        if let bandwidth = element.bandwidth { args["bandwidth"] = bandwidth }
        if let guid = element.infinibandGUID { args["infinibandGUID"] = .string(guid) }
        if let deviceID = element.deviceID { args["deviceID"] = .string(deviceID) }
        return args
    }

    /// Multus also hands static requests over CNI_ARGS (`IP=`, `MAC=`), for plugins that read them there.
    static func extraArgs(_ element: NetworkSelectionElement) -> CNIArgs {
        var args = CNIArgs()
        guard element.mac != nil || !element.ips.isEmpty else { return args }
        args["IgnoreUnknown"] = "true"
        if let mac = element.mac { args["MAC"] = mac }
        if !element.ips.isEmpty { args["IP"] = element.ips.joined(separator: ",") }
        return args
    }
}

/// A network found for one attachment, before it gets its interface name.
struct ResolvedNetwork {
    var network: NetworkConfigList
    var source: String
    var statusName: String
    var element: NetworkSelectionElement?
    /// A NAD's `k8s.v1.cni.cncf.io/resourceName`: the device-plugin resource it draws a device from.
    var resourceName: String?
    /// The `auxiliaryCNIChainName` chain rather than a network of the pod's.
    var isAuxiliary = false
}
