import CNI
import System

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
    /// How many calls were made: more than one when the kubelet's rate limit was retried.
    public var attempts: Int

    public init(socket: String, problem: Problem, attempts: Int = 1) {
        self.socket = socket
        self.problem = problem
        self.attempts = attempts
    }

    public var description: String { "kubelet pod-resources socket \(socket): \(reason)" }

    /// What went wrong, without the socket.
    public var reason: String {
        let text = switch problem {
        case .absent: "no such socket"
        case .transport(let text): text
        case .timedOut(let deadline): "no answer within \(deadline) (is the kubelet restarting?)"
        case .status(let status): "the kubelet answered \(status)"
        case .malformed(let error): "the answer is not a pod-resources message: \(error)"
        }
        return attempts > 1 ? "\(text) (\(attempts) calls)" : text
    }
}

/// The kubelet's pod-resources API (`v1.PodResourcesLister`), one unary call per connection.
///
/// Mirrors what Multus's pkg/kubeletclient asks of it (List, 16 MiB maximum message), with Get
/// for the one pod first, one deadline for the lookup, and the socket named in every error.
///
/// The kubelet rate-limits the API (100 calls a second, bursts of 10, since Kubernetes 1.28) and
/// refuses a call over the limit with RESOURCE_EXHAUSTED; a node starting many pods at once
/// meets it. Such a call is made again after a pause, doubling from 10 ms (the limiter's refill
/// interval) to at most 160 ms, each pause jittered so that the pods' retries spread out, for as
/// long as the deadline allows. Multus does not retry (its #1545 asks for it).
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
    public var socketExists: Bool { (try? Files.status(socket)) != nil }

    /// What the kubelet allocated to one pod: `Get`, or, where the kubelet does not serve `Get`,
    /// `List` and the pod picked out of it. nil when `List` does not have the pod.
    public func podResources(pod: PodName, namespace: Namespace) throws(PodResourcesError) -> PodResources? {
        do {
            return try get(pod: pod, namespace: namespace)
        } catch where error.getIsNotServed {
            return try list().first { $0.name == pod.text && $0.namespace == namespace.text }
        }
    }

    /// `/v1.PodResourcesLister/Get`, retried within the deadline while rate-limited.
    public func get(pod: PodName, namespace: Namespace) throws(PodResourcesError) -> PodResources {
        let bytes = try call("Get", encodeGetRequest(pod: pod.text, namespace: namespace.text), until: .now + deadline)
        do {
            return try decodeGetResponse(bytes) ?? PodResources(name: pod.text, namespace: namespace.text)
        } catch {
            throw PodResourcesError(socket: socket, problem: .malformed(error))
        }
    }

    /// `/v1.PodResourcesLister/List`: every pod on the node; retried as `get`.
    public func list() throws(PodResourcesError) -> [PodResources] {
        let bytes = try call("List", encodedListRequest, until: .now + deadline)
        do { return try decodeListResponse(bytes) } catch {
            throw PodResourcesError(socket: socket, problem: .malformed(error))
        }
    }

    /// The first pause after RESOURCE_EXHAUSTED, and the longest.
    static let firstPause = Duration.milliseconds(10)
    static let longestPause = Duration.milliseconds(160)

    /// A unary call, made again while the kubelet's rate limit refuses it and the deadline allows.
    private func call(_ method: String, _ message: [UInt8], until: ContinuousClock.Instant) throws(PodResourcesError) -> [UInt8] {
        var pause = Self.firstPause
        var attempts = 1
        while true {
            do {
                return try callOnce(method, message, until: until)
            } catch where error.isRateLimited {
                // Between half and all of the pause: pods refused together come back apart.
                let jittered = pause * Double.random(in: 0.5...1.0)
                guard ContinuousClock.now + jittered < until else {
                    throw PodResourcesError(socket: socket, problem: error.problem, attempts: attempts)
                }
                Clock.sleep(for: jittered)
                pause = min(pause * 2, Self.longestPause)
                attempts += 1
            }
        }
    }

    /// One unary call: the request message out, the response message back.
    private func callOnce(_ method: String, _ message: [UInt8], until: ContinuousClock.Instant) throws(PodResourcesError) -> [UInt8] {
        let remaining = ContinuousClock.now.duration(to: until)
        guard remaining > .zero else { throw PodResourcesError(socket: socket, problem: .timedOut(deadline)) }
        let request = HTTP2Request(path: "/v1.PodResourcesLister/\(method)", headers: [
            ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", GRPCWire.timeoutHeader(remaining)),
            ("user-agent", "swift-multus"),
        ], body: GRPCWire.frame(message))
        let response: HTTP2Response
        do {
            response = try HTTP2Exchange.perform(request, socket: socket, bodyLimit: messageLimit + 5, deadline: until)
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

    /// The kubelet's rate limiter refused the call: RESOURCE_EXHAUSTED ("rejected by rate limit").
    var isRateLimited: Bool {
        if case .status(let status) = problem { status.code == .resourceExhausted } else { false }
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
