// The pod-resources messages against bytes the protobuf runtime wrote (Tests/podresources/golden.py).
@testable import PodResources
import Testing
import TestSupport

/// The pods golden.py encodes, as the decoder must see them (skipped fields gone).
let goldenPods = [
    PodResources(name: "web-sriov", namespace: "default", containers: [
        ContainerResources(name: "app", devices: [
            ContainerDevices(resourceName: "intel.com/sriov", deviceIDs: ["0000:05:00.2", "0000:05:00.1"]),
            ContainerDevices(resourceName: "nvidia.com/gpu", deviceIDs: ["GPU-0"]),
        ], dynamicResources: [
            DynamicResource(claimName: "rdma-claim", claimNamespace: "default", claimResources: [
                ClaimResource(cdiDevices: ["nvidia.com/net=0000:08:00.1", "malformed"], driverName: "net.nvidia.com",
                              poolName: "node-a", deviceName: "vf-1"),
            ]),
        ]),
        ContainerResources(name: "sidecar", devices: [ContainerDevices(resourceName: "intel.com/sriov", deviceIDs: ["0000:05:00.3"])]),
    ]),
    PodResources(name: "other", namespace: "kube-system", containers: [ContainerResources(name: "c")]),
]

func golden(_ name: String) throws -> [UInt8] { try readFile(testdata("podresources/\(name)")) }

@Suite struct ProtoGoldenTests {
    @Test func listResponseWithSkippedFieldsDecodes() throws {
        #expect(try decodeListResponse(golden("list-response.bin")) == goldenPods)
    }

    @Test func plainListResponseDecodesAndEncodesToTheSameBytes() throws {
        let bytes = try golden("list-response-plain.bin")
        #expect(try decodeListResponse(bytes) == goldenPods)
        #expect(PodResourcesEncoding.listResponse(goldenPods) == bytes)
    }

    @Test func getResponseDecodes() throws {
        #expect(try decodeGetResponse(golden("get-response.bin")) == goldenPods[0])
    }

    @Test func emptyGetResponseHasNoPod() throws {
        let bytes = try golden("get-response-empty.bin")
        #expect(bytes == [])
        #expect(try decodeGetResponse(bytes) == nil)
    }

    @Test(arguments: [("get-request.bin", "web-sriov", "default"), ("get-request-long.bin", String(repeating: "p", count: 200), "ns-ü")])
    func getRequestEncodesAsTheRuntimeDoes(file: String, pod: String, namespace: String) throws {
        #expect(encodeGetRequest(pod: pod, namespace: namespace) == (try golden(file)))
    }

    @Test func listRequestIsEmpty() {
        #expect(encodedListRequest == [])
    }

    /// A singular message field sent twice merges (protobuf's rule): names from the last, lists appended.
    @Test func repeatedGetFieldMerges() throws {
        let first = PodResourcesEncoding.getResponse(PodResources(name: "a", namespace: "n", containers: [ContainerResources(name: "x")]))
        let second = PodResourcesEncoding.getResponse(PodResources(name: "b", namespace: "", containers: [ContainerResources(name: "y")]))
        #expect(try decodeGetResponse(first + second)
            == PodResources(name: "b", namespace: "n", containers: [ContainerResources(name: "x"), ContainerResources(name: "y")]))
    }
}
