import Glibc

/// A pod-resources call that failed. `socket` names the kubelet socket, `problem` what went wrong.
public struct PodResourcesError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        /// No socket file: the node serves no pod-resources API.
        case absent
        /// Connecting, sending or reading failed, or the peer broke HTTP/2 or gRPC framing.
        case transport(String)
        /// Nothing came back before the deadline.
        case timedOut(Duration)
        /// The kubelet answered with a gRPC error status.
        case status(GRPCStatus)
        /// The answer is not a pod-resources message.
        case malformed(ProtoError)
    }

    public var socket: String
    public var problem: Problem

    public init(socket: String, problem: Problem) {
        self.socket = socket
        self.problem = problem
    }

    public var description: String { "kubelet pod-resources socket \(socket): \(reason)" }

    /// What went wrong, without the socket.
    public var reason: String {
        switch problem {
        case .absent: "no such socket"
        case .transport(let text): text
        case .timedOut(let deadline): "no answer within \(deadline) (is the kubelet restarting?)"
        case .status(let status): "the kubelet answered \(status)"
        case .malformed(let error): "the answer is not a pod-resources message: \(error)"
        }
    }
}

/// The kubelet's pod-resources API (`v1.PodResourcesLister`), one unary call per connection.
///
/// Mirrors what Multus's pkg/kubeletclient asks of it (List, 16 MiB maximum message), with Get
/// for the one pod first, a deadline on each call, and the socket named in every error.
public struct PodResourcesClient: Sendable {
    public static let defaultSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"
    /// Multus's maximum receive size.
    public static let defaultMessageLimit = 16 << 20

    public var socket: String
    public var deadline: Duration
    public var messageLimit: Int

    public init(socket: String = PodResourcesClient.defaultSocket, deadline: Duration = .seconds(2),
                messageLimit: Int = PodResourcesClient.defaultMessageLimit) {
        self.socket = socket
        self.deadline = deadline
        self.messageLimit = messageLimit
    }

    /// Whether the socket file is there (Multus's test for using the API rather than the checkpoint).
    public var socketExists: Bool {
        var info = stat()
        return stat(socket, &info) == 0
    }

    /// What the kubelet allocated to one pod: `Get`, or, where the kubelet does not serve `Get`,
    /// `List` and the pod picked out of it. nil when `List` does not have the pod.
    public func podResources(pod: String, namespace: String) throws(PodResourcesError) -> PodResources? {
        do {
            return try get(pod: pod, namespace: namespace)
        } catch where error.getIsNotServed {
            return try list().first { $0.name == pod && $0.namespace == namespace }
        }
    }

    /// `/v1.PodResourcesLister/Get`.
    public func get(pod: String, namespace: String) throws(PodResourcesError) -> PodResources {
        let bytes = try call("Get", encodeGetRequest(pod: pod, namespace: namespace))
        do {
            return try decodeGetResponse(bytes) ?? PodResources(name: pod, namespace: namespace)
        } catch {
            throw PodResourcesError(socket: socket, problem: .malformed(error))
        }
    }

    /// `/v1.PodResourcesLister/List`: every pod on the node.
    public func list() throws(PodResourcesError) -> [PodResources] {
        let bytes = try call("List", encodedListRequest)
        do { return try decodeListResponse(bytes) } catch {
            throw PodResourcesError(socket: socket, problem: .malformed(error))
        }
    }

    /// One unary call: the request message out, the response message back.
    private func call(_ method: String, _ message: [UInt8]) throws(PodResourcesError) -> [UInt8] {
        let request = HTTP2Request(path: "/v1.PodResourcesLister/\(method)", headers: [
            ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", GRPCWire.timeoutHeader(deadline)),
            ("user-agent", "swift-multus"),
        ], body: GRPCWire.frame(message))
        let response: HTTP2Response
        do {
            response = try HTTP2Exchange.perform(request, socket: socket, bodyLimit: messageLimit + 5, deadline: .now + deadline)
        } catch {
            switch error.kind {
            case .absent: throw PodResourcesError(socket: socket, problem: .absent)
            case .timedOut: throw PodResourcesError(socket: socket, problem: .timedOut(deadline))
            case .broken: throw PodResourcesError(socket: socket, problem: .transport("\(method): \(error.problem)"))
            }
        }
        return try responseMessage(response, method: method)
    }

    private func responseMessage(_ response: HTTP2Response, method: String) throws(PodResourcesError) -> [UInt8] {
        guard let status = GRPCWire.status(response.fields) else {
            let http = response.status.map { "HTTP status \($0)" } ?? "no HTTP status"
            throw PodResourcesError(socket: socket, problem: .transport("\(method): the answer has no grpc-status (\(http))"))
        }
        switch status.code {
        case .ok: break
        // The kubelet enforces the grpc-timeout we send; the deadline passed either way.
        case .deadlineExceeded: throw PodResourcesError(socket: socket, problem: .timedOut(deadline))
        default: throw PodResourcesError(socket: socket, problem: .status(status))
        }
        do { return try GRPCWire.unframe(response.body, limit: messageLimit) } catch {
            throw PodResourcesError(socket: socket, problem: .transport("\(method): \(error.problem)"))
        }
    }
}

extension PodResourcesError {
    /// The kubelet is away or busy (restarting, overloaded): worth another try in a moment, as
    /// opposed to an answer that will not change (a malformed message, a refused request).
    public var isTransient: Bool {
        switch problem {
        case .transport, .timedOut: true
        case .status(let status): status.code == .unavailable || status.code == .deadlineExceeded || status.code == .resourceExhausted
        case .absent, .malformed: false
        }
    }

    /// Whether the kubelet answered that it does not serve `Get`: UNIMPLEMENTED from a kubelet
    /// older than 1.27, which has no such method; UNKNOWN with this exact message from one whose
    /// KubeletPodResourcesGet gate is off (alpha in 1.27 to 1.33), which is how that kubelet
    /// words it, having no status code of its own for it.
    var getIsNotServed: Bool {
        guard case .status(let status) = problem else { return false }
        return status.code == .unimplemented || (status.code == .unknown && status.message == "PodResources API Get method disabled")
    }
}
