import CNI
import KubeClient

/// ADD's reads of the pod and its NADs go to the API server's watch cache (`resourceVersion=0`),
/// which answers from memory with no etcd read; a quorum read follows only when the cached answer
/// cannot be trusted. Multus's thin plugin makes every read a quorum read; its thick daemon reads
/// informer caches, which lag in the same way, and re-reads the API only after they miss.
///
/// Why a cached answer is enough otherwise: a pod whose UID is the runtime's was created before
/// the kubelet ran it, and the cache holds it at least as created, with the networks annotation
/// its creator gave it; one bound to a node holds what the scheduler and the claim controller
/// wrote before the binding. What the cache can lack is what happened in the last moments before the
/// read; each case that matters is noticed (`StaleRead`) and read again from storage. The
/// network-status write stays conditional on the resourceVersion read, so a stale pod can never
/// overwrite a newer one: the server answers 409, and `NetworkStatusWriter` re-reads from storage.
struct PodRead {
    let api: any KubeAPI
    let reference: PodReference
    /// The pod's annotations as the kubelet handed them to the runtime (see `runtimeAnnotations`),
    /// when the runtime passed them.
    let runtimeAnnotations: [String: String]?
    /// Told why a cached answer was not trusted, before storage is read.
    var onFallback: (StaleRead) -> Void = { _ in }

    /// The annotations that choose a pod's networks: the ones a stale copy would get wrong.
    static let networkAnnotations = [NetworkSelection.annotation, NetworkResolver.defaultNetworkAnnotation]

    /// The capability under which CRI-O and containerd pass a pod's annotations in runtimeConfig,
    /// to a plugin whose config declares it (`"capabilities": {"io.kubernetes.cri.pod-annotations": true}`).
    static let podAnnotationsCapability = "io.kubernetes.cri.pod-annotations"

    /// The annotations under `podAnnotationsCapability` in the runtime's runtimeConfig: only the
    /// string values (an annotation is always one); nil when the runtime passed none.
    static func runtimeAnnotations(_ runtimeConfig: JSONObject) -> [String: String]? {
        guard let object = runtimeConfig[podAnnotationsCapability]?.objectValue else { return nil }
        var annotations: [String: String] = [:]
        for (key, value) in object { if let text = value.stringValue { annotations[key] = text } }
        return annotations
    }

    /// The pod from the watch cache, or from storage when the cache's answer is not to be
    /// trusted. A 404 from storage is the caller's to handle (a static pod with no mirror yet).
    func read() throws(KubeError) -> Pod {
        let cached: Pod
        do {
            cached = try api.pod(namespace: reference.namespace, name: reference.name, consistency: .cached)
        } catch where error.isNotFound {
            return try quorum(.notInCache)
        }
        guard let stale = staleness(of: cached) else { return cached }
        return try quorum(stale)
    }

    private func quorum(_ reason: StaleRead) throws(KubeError) -> Pod {
        onFallback(reason)
        return try api.pod(namespace: reference.namespace, name: reference.name, consistency: .quorum)
    }

    /// Why `cached` may not be the pod the runtime runs as it is now; nil when it is.
    ///
    /// A static pod's mirror never has the runtime's UID (the kubelet derives that one from the
    /// manifest), so its UID says nothing; its annotations are still compared.
    func staleness(of cached: Pod) -> StaleRead? {
        if let uid = reference.uid?.text, !cached.isStatic, !cached.metadata.uid.isEmpty, cached.metadata.uid != uid {
            return .otherUID(cached.metadata.uid)
        }
        // The kubelet runs only a bound pod, and what DRA reads from the pod (its claims'
        // statuses, the extended-resource claim) is written before the binding.
        if cached.nodeName.isEmpty { return .notBound }
        guard let runtimeAnnotations else { return nil }
        for key in Self.networkAnnotations where runtimeAnnotations[key] != cached.metadata.annotations[key] {
            return .annotationBehind(key)
        }
        return nil
    }
}

/// Why a pod read from the watch cache was read again from storage.
enum StaleRead: Equatable, CustomStringConvertible {
    /// The cache answered 404: the pod may be newer than the cache.
    case notInCache
    /// The cached pod has another UID: the cache may still hold a pod deleted and recreated under
    /// the name (or, if storage agrees, the runtime asks for a pod that is gone).
    case otherUID(String)
    /// The cached pod has no `spec.nodeName`: it is as it was before the scheduler bound it.
    case notBound
    /// The runtime passed the pod's annotations, and this one differs from the cached pod's.
    case annotationBehind(String)

    var description: String {
        switch self {
        case .notInCache: "the watch cache has no such pod"
        case .otherUID(let uid): "the watch cache has the pod with UID \(Echo.quoted(uid)), not the runtime's"
        case .notBound: "the watch cache has the pod before it was bound to a node"
        case .annotationBehind(let key): "the watch cache's pod differs from the runtime's in annotation \(key)"
        }
    }
}

extension KubeAPI {
    /// The NAD from the watch cache, or from storage when the cache has none: it may have been
    /// created moments ago. A NAD changed moments ago may be read as it was, as from Multus's
    /// informer: a NAD's config is read when a pod starts, and nothing ties the two in time.
    func networkAttachmentDefinitionFromCache(namespace: Namespace, name: NetworkName) throws(KubeError) -> NetworkAttachmentDefinition {
        do {
            return try networkAttachmentDefinition(namespace: namespace, name: name, consistency: .cached)
        } catch where error.isNotFound {
            return try networkAttachmentDefinition(namespace: namespace, name: name, consistency: .quorum)
        }
    }
}
