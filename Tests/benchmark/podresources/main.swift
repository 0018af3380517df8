// Times the pod-resources call ADD makes (Tests/benchmark/podresources.sh runs it against the
// grpcio test server): `podresources-bench SOCKET POD NAMESPACE ROUNDS`. Prints the median, 90th
// percentile and minimum of each kind of call, in microseconds, and what a node without the
// socket pays instead (the look for it).
import CNI
import Glibc
import PodResources

let arguments = CommandLine.arguments
guard arguments.count == 5, let rounds = Int(arguments[4]), rounds > 0 else {
    print("usage: podresources-bench SOCKET POD NAMESPACE ROUNDS")
    exit(2)
}
let client = PodResourcesClient(socket: arguments[1])
let absent = PodResourcesClient(socket: arguments[1] + ".absent")

/// Microseconds per call of `body`, `rounds` times.
func time(_ body: () throws -> Void) rethrows -> [Double] {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
    }
    return samples.sorted()
}

func report(_ name: String, _ samples: [Double]) {
    let median = samples[samples.count / 2], p90 = samples[samples.count * 9 / 10]
    print("\(name): median \(Int(median)) us, p90 \(Int(p90)) us, min \(Int(samples[0])) us (\(samples.count) calls)")
}

do {
    _ = try client.podResources(pod: try PodName(arguments[2]), namespace: try Namespace(arguments[3]))  // warm the server
    report("Get (the call ADD makes)", try time { _ = try client.podResources(pod: try PodName(arguments[2]), namespace: try Namespace(arguments[3])) })
    report("List (a kubelet without Get)", try time { _ = try client.list() })
    report("no socket (the look before the checkpoint)", time { _ = absent.socketExists })
} catch {
    print("podresources-bench: \(error)")
    exit(1)
}
