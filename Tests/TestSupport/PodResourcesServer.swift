// A kubelet pod-resources API for tests: Tests/podresources/server.py (grpcio, a real gRPC
// implementation) run as a child process on a unix socket, with the pods it reports from JSON.
import CNI
import Glibc
import Synchronization

/// A running `Tests/podresources/server.py`. It exits when its stdin closes, so it never outlives
/// this object or a crashed test process.
public final class PodResourcesServer: @unchecked Sendable {
    /// How the server answers `Get`.
    public enum GetMode: String, Sendable {
        case serve
        /// Not in the service: grpcio answers UNIMPLEMENTED, as a kubelet before 1.27.
        case unimplemented
        /// UNKNOWN "PodResources API Get method disabled", as a kubelet with the gate off.
        case disabled
    }

    /// Where the Python packages Tests/scripts/setup.sh installs live.
    public static let pythonPackages = "/usr/local/lib/swift-multus/python"

    public let socket: String
    private let directory: TemporaryDirectory
    private let channel: Mutex<ControlChannel>

    /// Starts a server reporting `pods` (a JSON array of PodResources in the proto's JSON mapping:
    /// `name`, `namespace`, `containers[].devices[].resourceName/deviceIds`,
    /// `containers[].dynamicResources[].claimName/claimResources[].cdiDevices[].name`).
    /// - Throws: `TestAPIServerError` when python3 or its gRPC packages are missing (run
    ///   Tests/scripts/setup.sh) or the server does not start within 20 seconds.
    /// Instead of gRPC, a plain socket that reads each request, then:
    public enum Fault: String, Sendable {
        /// closes the connection unanswered (a kubelet dying mid-call);
        case hangUp = "hang-up"
        /// answers in HTTP/1.1 (not a gRPC server at all).
        case http1
    }

    /// `exhausted`: the first that many calls are refused with RESOURCE_EXHAUSTED, as the
    /// kubelet's rate limiter refuses calls over 100 a second.
    public init(pods: JSONValue = [], get: GetMode = .serve, delay: Duration? = nil, fault: Fault? = nil,
                exhausted: Int = 0) throws(TestAPIServerError) {
        signal(SIGPIPE, SIG_IGN)
        guard let python = TestAPIServer.python else { throw TestAPIServerError("python3 not found") }
        do {
            directory = try TemporaryDirectory(prefix: "swift-multus-podres")
            _ = try directory.file("pods.json", contents: pods.serializedBytes())
        } catch { throw TestAPIServerError("\(error)") }
        socket = directory.pathOf("kubelet.sock")
        var arguments = [python, packageRoot() + "/Tests/podresources/server.py", "--socket", socket,
                         "--pods", directory.pathOf("pods.json"), "--get", get.rawValue]
        if let fault { arguments += ["--fault", fault.rawValue] }
        if exhausted > 0 { arguments += ["--exhausted", "\(exhausted)"] }
        if let delay { arguments += ["--delay", "\(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)"] }
        let environment = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1",
                           "PYTHONPATH=\(Self.pythonPackages)"]
        let logPath = directory.pathOf("server.log")
        var control = try ControlChannel.spawn(arguments, environment: environment, logPath: logPath)
        do throws(TestAPIServerError) {
            _ = try control.readLine(timeout: .seconds(20))
        } catch {
            control.terminate()
            let log = readWholeFile(logPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
            directory.remove()
            throw TestAPIServerError("pod-resources server did not start: \(error.message) (run Tests/scripts/setup.sh); its stderr:\n\(log)")
        }
        channel = Mutex(control)
    }

    deinit { stop() }

    /// The methods called so far (`Get`, `List`), in order.
    public func calls() throws(TestAPIServerError) -> [String] {
        let reply = try channel.withLock { (control) throws(TestAPIServerError) -> [UInt8] in
            try control.writeLine(Array("calls".utf8))
            return try control.readLine(timeout: .seconds(20))
        }
        guard let answer = (try? JSONValue.parse(reply))?.objectValue, case .array(let methods)? = answer["result"] else {
            throw TestAPIServerError("unreadable reply \"\(String(decoding: reply, as: UTF8.self))\"")
        }
        return methods.compactMap(\.stringValue)
    }

    /// Stops the server and removes its directory. Idempotent.
    public func stop() {
        let wasRunning = channel.withLock { (control: inout ControlChannel) -> Bool in
            guard control.pid > 0 else { return false }
            control.terminate()
            return true
        }
        if wasRunning { directory.remove() }
    }
}

/// Leaves a unix socket file at `path` that nothing listens on: a kubelet that is restarting.
public func bindWithoutListening(_ path: String) throws(FixtureError) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError(call: "socket", path: path, errno: errno) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
    }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard result == 0 else { throw FixtureError(call: "bind", path: path, errno: errno) }
}
