import CNI
import KubeClient

/// What the API server says about the pod a call is for.
enum PodLookup {
    /// No kubeconfig, or no pod in CNI_ARGS: the config alone decides.
    case notKubernetes
    case found(Pod)
    /// The runtime named a pod the API answers 404 for.
    case unknownToAPI(PodReference)

    /// The pod the plan is made for. An unknown pod stands in with its name and namespace only:
    /// no annotations, so only the config's networks, and no `defaultNetworks` in `systemNamespaces`.
    var podForPlan: Pod? {
        switch self {
        case .notKubernetes: nil
        case .found(let pod): pod
        case .unknownToAPI(let reference): Pod(metadata: ObjectMeta(name: reference.name.text, namespace: reference.namespace.text))
        }
    }

    /// The pod as the API holds it, when it does.
    var apiPod: Pod? { if case .found(let pod) = self { pod } else { nil } }
}
