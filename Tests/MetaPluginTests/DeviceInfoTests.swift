import CNI
import Glibc
import KubeClient
@testable import MetaPlugin
import Testing
import TestSupport

private let sriov = "intel.com/sriov_netdevice"
private let checkpointPath = testdata("devices/kubelet_internal_checkpoint")

private func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

/// A device source answering from a table, counting the lookups.
private final class TableSource: DeviceSource, @unchecked Sendable {
    let table: [String: [String]]
    let failure: DeviceInfoError?
    private(set) var lookups: [PodIdentity] = []

    init(_ table: [String: [String]], failure: DeviceInfoError? = nil) {
        self.table = table
        self.failure = failure
    }

    func devices(of pod: PodIdentity) throws(DeviceInfoError) -> PodDevices {
        lookups.append(pod)
        if let failure { throw failure }
        var devices = PodDevices(reporter: "the table")
        for (name, ids) in table { devices.append(unit: ids.map { DeviceGrant(id: $0, origin: .checkpoint(path: "table")) }, to: name) }
        return devices
    }
}

private func pod(uid: String) -> PodIdentity { PodIdentity(name: "web", namespace: "default", uid: uid) }

extension DeviceAllocator {
    /// The next device's ID for a network named after the resource.
    fileprivate mutating func nextID(_ resourceName: String) throws(DeviceAllocationError) -> String {
        try next(resourceName: resourceName, for: "default/\(resourceName)").id
    }
}

/// One checkpoint lookup and the IDs it must give, in the checkpoint's order.
struct CheckpointCase: Sendable, CustomTestStringConvertible {
    var name: String
    var file: String
    var podUID: String
    var resource: String
    var expected: [String]
    var testDescription: String { name }
}

/// A checkpoint that must be refused, and what the error must say.
struct MalformedCheckpointCase: Sendable, CustomTestStringConvertible {
    var name: String
    var contents: String
    var problemContains: [String]
    var testDescription: String { name }
}

/// A device-info document and what Multus makes of it (nil: it fails to decode, for `problem`).
struct DecodeCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: String
    var expected: String?
    var problem = ""
    var testDescription: String { name }
}

/// Everything in this file, so `swift test --filter DeviceInfoTests` runs it all.
@Suite("Device info") struct DeviceInfoTests {}

extension DeviceInfoTests {
    @Suite("Kubelet checkpoint and device allocation")
    struct Checkpoint {
        static let lookups: [CheckpointCase] = [
            .init(name: "both containers' devices, containers in file order", file: "kubelet_internal_checkpoint", podUID: "uid-web-sriov",
                  resource: sriov, expected: ["0000:03:02.1", "0000:03:02.0"]),
            .init(name: "another resource of the same pod", file: "kubelet_internal_checkpoint", podUID: "uid-web-sriov",
                  resource: "nvidia.com/gpu", expected: ["GPU-7f3c"]),
            .init(name: "another pod's device of the same resource", file: "kubelet_internal_checkpoint", podUID: "uid-db",
                  resource: sriov, expected: ["0000:03:02.2"]),
            .init(name: "one container's devices on several NUMA nodes: sorted together", file: "kubelet_internal_checkpoint", podUID: "uid-numa",
                  resource: "example.com/nic", expected: ["nic-a", "nic-b", "nic-c"]),
            .init(name: "unknown pod", file: "kubelet_internal_checkpoint", podUID: "uid-nobody", resource: sriov, expected: []),
            .init(name: "resource the pod does not have", file: "kubelet_internal_checkpoint", podUID: "uid-db",
                  resource: "nvidia.com/gpu", expected: []),
            .init(name: "pre-1.20 format (plain list), one container's: sorted", file: "kubelet_internal_checkpoint.v1.19", podUID: "uid-web-sriov",
                  resource: sriov, expected: ["0000:03:02.0", "0000:03:02.1"]),
            .init(name: "pre-1.20 format, another pod", file: "kubelet_internal_checkpoint.v1.19", podUID: "uid-db",
                  resource: sriov, expected: ["0000:03:02.2"]),
            .init(name: "missing file: no devices", file: "no-such-checkpoint", podUID: "uid-web-sriov", resource: sriov, expected: []),
        ]

        @Test(arguments: lookups)
        func deviceIDs(_ c: CheckpointCase) throws {
            let checkpoint = KubeletCheckpoint(path: testdata("devices/\(c.file)"))
            #expect(try checkpoint.deviceIDs(podUID: c.podUID, resourceName: c.resource) == c.expected)
        }

        @Test func defaultPathIsTheKubelets() {
            #expect(KubeletCheckpoint().path == "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint")
        }

        @Test func entriesKeepContainerNames() throws {
            let entries = try KubeletCheckpoint(path: checkpointPath).entries()
            #expect(entries.map(\.containerName) == ["web", "web", "db", "sidecar", "router"])
            #expect(entries.first == .init(podUID: "uid-web-sriov", containerName: "web", resourceName: sriov, deviceIDs: ["0000:03:02.1"]))
        }

        @Test func truncatedFixtureNamesTheFile() {
            let path = testdata("devices/kubelet_internal_checkpoint.truncated")
            let error = #expect(throws: DeviceInfoError.self) {
                try KubeletCheckpoint(path: path).deviceIDs(podUID: "uid-web-sriov", resourceName: sriov)
            }
            #expect(error?.path == path)
            #expect(error?.problem.contains("not valid JSON") == true)
            #expect(error?.description.hasPrefix(path + ": ") == true)
        }

        static let malformed: [MalformedCheckpointCase] = [
            .init(name: "not JSON", contents: "checkpoint", problemContains: ["not valid JSON"]),
            .init(name: "a list at the root", contents: "[]", problemContains: ["must be an object"]),
            .init(name: "Data not an object", contents: #"{"Data":[]}"#, problemContains: ["Data", "must be an object"]),
            .init(name: "PodDeviceEntries not a list", contents: #"{"Data":{"PodDeviceEntries":{}}}"#,
                  problemContains: ["Data.PodDeviceEntries", "must be an array"]),
            .init(name: "PodUID not a string", contents: #"{"Data":{"PodDeviceEntries":[{"PodUID":7}]}}"#,
                  problemContains: ["Data.PodDeviceEntries[0].PodUID", "must be a string"]),
            .init(name: "DeviceIDs a string", contents: #"{"Data":{"PodDeviceEntries":[{"PodUID":"u","DeviceIDs":"0000:03:02.0"}]}}"#,
                  problemContains: ["Data.PodDeviceEntries[0].DeviceIDs", "an object or an array"]),
            .init(name: "NUMA node not an integer", contents: #"{"Data":{"PodDeviceEntries":[{"PodUID":"u","DeviceIDs":{"numa0":["a"]}}]}}"#,
                  problemContains: ["DeviceIDs.numa0", "not an integer"]),
            .init(name: "a device ID not a string", contents: #"{"Data":{"PodDeviceEntries":[{"PodUID":"u","DeviceIDs":{"0":[1]}}]}}"#,
                  problemContains: ["DeviceIDs.0[0]", "must be a string"]),
            .init(name: "old-format device ID not a string", contents: #"{"Data":{"PodDeviceEntries":[{"PodUID":"u","DeviceIDs":[null]}]}}"#,
                  problemContains: ["DeviceIDs[0]", "must be a string"]),
        ]

        @Test(arguments: malformed)
        func malformedCheckpointNamesTheFile(_ c: MalformedCheckpointCase) throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            let path = try directory.file("kubelet_internal_checkpoint", contents: Array(c.contents.utf8))
            let error = #expect(throws: DeviceInfoError.self) {
                try KubeletCheckpoint(path: path).deviceIDs(podUID: "uid-web-sriov", resourceName: sriov)
            }
            #expect(error?.path == path)
            for fragment in c.problemContains { #expect(error?.problem.contains(fragment) == true, "\(error?.problem ?? "")") }
        }

        @Test func emptyDocumentsHaveNoDevices() throws {
            for contents in [#"{}"#, #"{"Data":{}}"#, #"{"Data":{"PodDeviceEntries":null},"Checksum":0}"#,
                             #"{"Data":{"PodDeviceEntries":[{"PodUID":"uid-web-sriov","ResourceName":"intel.com/sriov_netdevice"}]}}"#] {
                #expect(try KubeletCheckpoint.parse(Array(contents.utf8), path: "x").flatMap(\.deviceIDs) == [], "\(contents)")
            }
        }

        @Test func podWithoutUIDIsAnError() {
            let error = #expect(throws: DeviceInfoError.self) {
                try KubeletCheckpoint(path: checkpointPath).deviceIDs(podUID: "", resourceName: sriov)
            }
            #expect(error?.path == checkpointPath)
            #expect(error?.problem.contains("without a UID") == true)
        }

        @Test func unreadableCheckpointIsAnError() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            // A directory where the file should be: it exists, but cannot be read as a file.
            let path = try directory.directory("kubelet_internal_checkpoint")
            let error = #expect(throws: DeviceInfoError.self) {
                try KubeletCheckpoint(path: path).deviceIDs(podUID: "uid-web-sriov", resourceName: sriov)
            }
            #expect(error?.path == path)
        }

        // MARK: Allocation

        /// Multus v4.3.1: container by container (.1 is web's, .0 sidecar's), not sorted pod-wide
        /// as v4.3.0 did (which gave the first network sidecar's .0).
        @Test func delegatesOfOneResourceGetTheDevicesContainerByContainer() throws {
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: checkpointPath), pod: pod(uid: "uid-web-sriov"))
            #expect(try allocator.nextID(sriov) == "0000:03:02.1")
            #expect(try allocator.nextID("nvidia.com/gpu") == "GPU-7f3c")
            #expect(try allocator.nextID(sriov) == "0000:03:02.0")
            #expect(throws: DeviceAllocationError.self) { try allocator.nextID(sriov) }
            #expect(throws: DeviceAllocationError.self) { try allocator.nextID("nvidia.com/gpu") }
        }

        /// The current file gives web and sidecar one VF each; the 1.19 one gives web both.
        @Test(arguments: [("kubelet_internal_checkpoint", ["0000:03:02.1", "0000:03:02.0"]),
                          ("kubelet_internal_checkpoint.v1.19", ["0000:03:02.0", "0000:03:02.1"])])
        func bothFormatsAllocate(_ file: String, _ expected: [String]) throws {
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: testdata("devices/\(file)")), pod: pod(uid: "uid-web-sriov"))
            let first = try allocator.next(resourceName: sriov, for: "default/sriov-a")
            let second = try allocator.next(resourceName: sriov, for: "default/sriov-b")
            let origin = DeviceOrigin.checkpoint(path: testdata("devices/\(file)"))
            #expect([first, second] == expected.map { DeviceGrant(id: $0, origin: origin) })
        }

        /// The file's container order is a Go map's; the pod's spec is the kubelet's order.
        @Test func containersFollowThePodsSpecWhereKnown() throws {
            var identity = pod(uid: "uid-web-sriov")
            identity.containers = ["sidecar", "web", "never-started"]
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: checkpointPath), pod: identity)
            #expect(try (0..<2).map { _ in try allocator.nextID(sriov) } == ["0000:03:02.0", "0000:03:02.1"])
        }

        @Test func numaDevicesAreSortedToo() throws {
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: checkpointPath), pod: pod(uid: "uid-numa"))
            let handedOut = try (0..<3).map { _ in try allocator.nextID("example.com/nic") }
            #expect(handedOut == ["nic-a", "nic-b", "nic-c"])
        }

        /// The error names the network, the resource and what the source reported.
        @Test func aNetworkWithoutADeviceLeftFails() throws {
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: checkpointPath), pod: pod(uid: "uid-web-sriov"))
            _ = try allocator.next(resourceName: sriov, for: "default/sriov-a")
            _ = try allocator.next(resourceName: sriov, for: "default/sriov-b")
            let error = #expect(throws: DeviceAllocationError.self) { try allocator.next(resourceName: sriov, for: "default/sriov-c") }
            #expect(error?.description == "no device of resource \(sriov) is left for network default/sriov-c: the kubelet's checkpoint \(checkpointPath) "
                + "reports 2 (0000:03:02.1, 0000:03:02.0), all taken by earlier networks (default/sriov-a, default/sriov-b)")
        }

        @Test func aResourceThePodDoesNotHaveNamesWhatItHas() throws {
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: checkpointPath), pod: pod(uid: "uid-web-sriov"))
            let error = #expect(throws: DeviceAllocationError.self) { try allocator.next(resourceName: "intel.com/typo", for: "default/x") }
            #expect(error?.description == "no device of resource intel.com/typo is left for network default/x: the kubelet's checkpoint \(checkpointPath) "
                + "reports no device of intel.com/typo for this pod (it reports \(sriov), nvidia.com/gpu)")
        }

        @Test(arguments: ["uid-nobody", "absent-file"])
        func aPodWithNoDevicesAtAllSaysSo(_ case: String) throws {
            let path = `case` == "absent-file" ? testdata("devices/absent") : checkpointPath
            var allocator = DeviceAllocator(source: KubeletCheckpoint(path: path), pod: pod(uid: `case` == "absent-file" ? "uid-web-sriov" : `case`))
            let error = #expect(throws: DeviceAllocationError.self) { try allocator.next(resourceName: sriov, for: "default/x") }
            #expect(error?.description == "no device of resource \(sriov) is left for network default/x: the kubelet's checkpoint \(path) "
                + "reports no device of \(sriov) for this pod (nor of anything else)")
        }

        @Test func sourceIsReadLazilyOnce() throws {
            let source = TableSource([sriov: ["b", "a"], "gpu": ["g"]])
            var allocator = DeviceAllocator(source: source, pod: pod(uid: "uid"))
            #expect(source.lookups.isEmpty)
            #expect(try allocator.nextID(sriov) == "a")
            #expect(try allocator.nextID(sriov) == "b")
            #expect(try allocator.nextID("gpu") == "g")
            #expect(source.lookups == [pod(uid: "uid")])
        }

        @Test func sortWithinAUnitIsByteWiseAsGoSortStrings() {
            var devices = PodDevices(reporter: "x")
            devices.append(unit: ["b", "B", "a", "0000:0a:00.0", "0000:03:00.0", "é", "z"].map { DeviceGrant(id: $0, origin: .checkpoint(path: "x")) }, to: "r")
            #expect(devices.grants["r"]?.map(\.id) == ["0000:03:00.0", "0000:0a:00.0", "B", "a", "b", "z", "é"])
        }

        /// Units follow each other unsorted; an ID a unit repeats (a shared claim) is listed once.
        @Test func unitsAppendInOrderAndAnIDIsListedOnce() {
            var devices = PodDevices(reporter: "x")
            let grant = { (id: String) in DeviceGrant(id: id, origin: .checkpoint(path: "x")) }
            devices.append(unit: [grant("c"), grant("d")], to: "r")
            devices.append(unit: [grant("b"), grant("a"), grant("c")], to: "r")
            devices.append([(name: "s", grant: grant("2")), (name: "r", grant: grant("0")), (name: "s", grant: grant("1"))])
            #expect(devices.grants["r"]?.map(\.id) == ["c", "d", "a", "b", "0"])
            #expect(devices.grants["s"]?.map(\.id) == ["1", "2"])
        }

        /// A failing source is asked once; every network after gets the same failure.
        @Test func sourceFailureIsKeptAndAskedOnce() throws {
            let failure = DeviceInfoError(path: "/var/lib/kubelet/pod-resources/kubelet.sock", problem: "boom")
            let source = TableSource([:], failure: failure)
            var allocator = DeviceAllocator(source: source, pod: pod(uid: "uid"))
            #expect(throws: DeviceAllocationError.source(failure)) { try allocator.nextID(sriov) }
            #expect(throws: DeviceAllocationError.source(failure)) { try allocator.nextID(sriov) }
            #expect(source.lookups.count == 1)
        }
    }

    @Suite("Device-info files")
    struct Files {
        struct PathCase: Sendable, CustomTestStringConvertible {
            var name: String
            var base: String
            var network: String
            var containerID: String
            var ifName: String
            var expected: String
            var testDescription: String { name }
        }

        static let paths: [PathCase] = [
            .init(name: "NAD: namespace/name, the slash made a dash", base: DeviceInfo.baseDirectory, network: "default/sriov-net",
                  containerID: "3f2a9c", ifName: "net1", expected: "/var/run/k8s.cni.cncf.io/devinfo/cni/default-sriov-net-3f2a9c_net1"),
            .init(name: "config name", base: DeviceInfo.baseDirectory, network: "sriov-net", containerID: "3f2a9c", ifName: "eth0",
                  expected: "/var/run/k8s.cni.cncf.io/devinfo/cni/sriov-net-3f2a9c_eth0"),
            .init(name: "every slash, also in container ID and interface", base: "/tmp/devinfo", network: "a/b/c", containerID: "x/y",
                  ifName: "n/1", expected: "/tmp/devinfo/cni/a-b-c-x-y_n-1"),
            .init(name: "trailing slash on the base", base: "/tmp/devinfo//", network: "ns/n", containerID: "c", ifName: "net1",
                  expected: "/tmp/devinfo/cni/ns-n-c_net1"),
        ]

        @Test(arguments: paths)
        func cniFilePath(_ c: PathCase) {
            #expect(DeviceInfo.cniFilePath(baseDirectory: c.base, networkName: c.network, containerID: c.containerID, ifName: c.ifName) == c.expected)
        }

        @Test func cniFilePathDefaultsToTheStandardBase() {
            #expect(DeviceInfo.cniFilePath(networkName: "ns/n", containerID: "c", ifName: "net1")
                    == "/var/run/k8s.cni.cncf.io/devinfo/cni/ns-n-c_net1")
        }

        @Test func devicePluginFilePath() {
            #expect(DeviceInfo.devicePluginFilePath(resourceName: sriov, deviceID: "0000:03:02.0")
                    == "/var/run/k8s.cni.cncf.io/devinfo/dp/intel.com-sriov_netdevice-0000:03:02.0-device.json")
            #expect(DeviceInfo.devicePluginFilePath(baseDirectory: "/b/", resourceName: "r/x", deviceID: "d/1") == "/b/dp/r-x-d-1-device.json")
        }

        /// A base directory with the device plugin's file for 0000:03:02.0 in `dp/`.
        private func baseWithDevicePluginFile(_ directory: TemporaryDirectory) throws -> String {
            let base = try directory.directory("devinfo")
            try makeDirectories(base + "/dp")
            let dpPath = DeviceInfo.devicePluginFilePath(baseDirectory: base, resourceName: sriov, deviceID: "0000:03:02.0")
            try writeFile(dpPath, try readFile(testdata("devices/dp-device-info.json")))
            return base
        }

        @Test func ensureCNIFileCopiesTheDevicePluginFile() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            let base = try baseWithDevicePluginFile(directory)
            let cniPath = DeviceInfo.cniFilePath(baseDirectory: base, networkName: "default/sriov-net", containerID: "c1", ifName: "net1")
            let outcome = try DeviceInfo.ensureCNIFile(at: cniPath, resourceName: sriov, deviceID: "0000:03:02.0", baseDirectory: base)
            #expect(outcome == .copied(from: "\(base)/dp/intel.com-sriov_netdevice-0000:03:02.0-device.json"))
            // The copy is the file as Multus decodes it: the schema's fields only, in its order.
            let expected = try json(#"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:03:02.0","rdma-device":"mlx5_3","pf-pci-address":"0000:03:00.0"}}"#)
            #expect(try JSONValue.parse(try readFile(cniPath)) == expected)
            #expect(try JSONValue.parse(try readFile(cniPath)).serialized() == expected.serialized())
            var info = stat()
            #expect(stat(cniPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o444)
            #expect(DeviceInfo.read(cniPath) == expected)
        }

        @Test func ensureCNIFileWithoutDevicePluginFileWritesNothing() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            let base = directory.pathOf("devinfo")
            let cniPath = DeviceInfo.cniFilePath(baseDirectory: base, networkName: "default/sriov-net", containerID: "c1", ifName: "net1")
            let outcome = try DeviceInfo.ensureCNIFile(at: cniPath, resourceName: sriov, deviceID: "0000:03:02.1", baseDirectory: base)
            #expect(outcome == .noDevicePluginFile("\(base)/dp/intel.com-sriov_netdevice-0000:03:02.1-device.json"))
            #expect(!fileExists(cniPath))
            #expect(!fileExists(base))
            #expect(DeviceInfo.read(cniPath) == nil)
        }

        @Test func ensureCNIFileLeavesAnExistingFile() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            let base = try baseWithDevicePluginFile(directory)
            try makeDirectories(base + "/cni")
            let cniPath = DeviceInfo.cniFilePath(baseDirectory: base, networkName: "sriov-net", containerID: "c1", ifName: "net1")
            let mine = #"{"type":"vhost-user","version":"1.1.0","vhost-user":{"mode":"server","path":"/var/run/vhu/sock"}}"#
            try writeFile(cniPath, Array(mine.utf8))
            let outcome = try DeviceInfo.ensureCNIFile(at: cniPath, resourceName: sriov, deviceID: "0000:03:02.0", baseDirectory: base)
            #expect(outcome == .alreadyPresent)
            #expect(String(decoding: try readFile(cniPath), as: UTF8.self) == mine)
            #expect(DeviceInfo.read(cniPath) == (try json(mine)))
        }

        @Test(arguments: [("not json", "not valid JSON"), (#"{"type":"pci","pci":"0000:03:02.0"}"#, "field pci: must be an object")])
        func ensureCNIFileRefusesAMalformedDevicePluginFile(_ contents: String, _ problem: String) throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            let base = try directory.directory("devinfo")
            try makeDirectories(base + "/dp")
            let dpPath = DeviceInfo.devicePluginFilePath(baseDirectory: base, resourceName: sriov, deviceID: "0000:03:02.0")
            try writeFile(dpPath, Array(contents.utf8))
            let cniPath = DeviceInfo.cniFilePath(baseDirectory: base, networkName: "n", containerID: "c", ifName: "net1")
            let error = #expect(throws: DeviceInfoError.self) {
                try DeviceInfo.ensureCNIFile(at: cniPath, resourceName: sriov, deviceID: "0000:03:02.0", baseDirectory: base)
            }
            #expect(error?.path == dpPath)
            #expect(error?.problem.contains(problem) == true, "\(error?.problem ?? "")")
            #expect(!fileExists(cniPath))
        }

        @Test func removeDeletesTheFileAndToleratesItsAbsence() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            let path = try directory.file("ns-net-c_net1", contents: Array(#"{"type":"pci"}"#.utf8), mode: 0o444)
            DeviceInfo.remove(path)
            #expect(!fileExists(path))
            DeviceInfo.remove(path)
            DeviceInfo.remove(directory.pathOf("never-there/x"))
        }

        @Test func readOfMissingOrMalformedFileIsNil() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-tests")
            defer { directory.remove() }
            #expect(DeviceInfo.read(directory.pathOf("missing")) == nil)
            let broken = try directory.file("broken", contents: Array(#"{"type":"pci""#.utf8))
            #expect(DeviceInfo.read(broken) == nil)
            let wrongType = try directory.file("wrong", contents: Array(#"{"type":1}"#.utf8))
            #expect(DeviceInfo.read(wrongType) == nil)
        }

        static let decodeCases: [DecodeCase] = [
            .init(name: "the spec's example", input: #"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:03:00.1"}}"#,
                  expected: #"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:03:00.1"}}"#),
            .init(name: "schema order, unknown keys dropped",
                  input: #"{"x":1,"pci":{"representor-device":"r","pci-address":"a","y":[]},"version":"1.1.0","type":"pci"}"#,
                  expected: #"{"type":"pci","version":"1.1.0","pci":{"pci-address":"a","representor-device":"r"}}"#),
            .init(name: "every section",
                  input: #"{"type":"t","memif":{"mode":"ip","role":"master","path":"/m"},"vhost-user":{"path":"/s","mode":"client"},"vdpa":{"driver":"vhost","parent-device":"p","path":"/dev/vhost-vdpa-0","pci-address":"a","pf-pci-address":"pf","representor-device":"r"},"pci":{"vhost-net":"/dev/vhost-net","rdma-device":"mlx5_0","pf-pci-address":"pf"}}"#,
                  expected: #"{"type":"t","pci":{"vhost-net":"/dev/vhost-net","rdma-device":"mlx5_0","pf-pci-address":"pf"},"vdpa":{"parent-device":"p","driver":"vhost","path":"/dev/vhost-vdpa-0","pci-address":"a","pf-pci-address":"pf","representor-device":"r"},"vhost-user":{"mode":"client","path":"/s"},"memif":{"role":"master","path":"/m","mode":"ip"}}"#),
            .init(name: "empty strings are left out, an empty section stays",
                  input: #"{"type":"","version":"1.1.0","pci":{"pci-address":""}}"#, expected: #"{"version":"1.1.0","pci":{}}"#),
            .init(name: "null fields: strings kept, sections cleared",
                  input: #"{"type":"pci","version":null,"pci":{"pci-address":"a"},"vdpa":null}"#, expected: #"{"type":"pci","pci":{"pci-address":"a"}}"#),
            .init(name: "keys match ignoring case", input: #"{"TYPE":"pci","Pci":{"PCI-Address":"a"}}"#,
                  expected: #"{"type":"pci","pci":{"pci-address":"a"}}"#),
            .init(name: "a null document is an empty one", input: "null", expected: "{}"),
            .init(name: "a wrongly typed string fails the document", input: #"{"type":"pci","version":1.1}"#, expected: nil,
                  problem: "device-info field version: must be a string, found a number"),
            .init(name: "a wrongly typed section fails the document", input: #"{"type":"pci","memif":[]}"#, expected: nil,
                  problem: "device-info field memif: must be an object, found an array"),
            .init(name: "a wrongly typed section field fails the document", input: #"{"pci":{"pci-address":true}}"#, expected: nil,
                  problem: "device-info field pci.pci-address: must be a string, found a boolean"),
            .init(name: "a list is not a device-info", input: "[]", expected: nil,
                  problem: "device-info must be an object, found an array"),
        ]

        @Test(arguments: decodeCases)
        func decodeAsMultusDoes(_ c: DecodeCase) throws {
            let input = Array(c.input.utf8)
            guard let expected = c.expected else {
                let error = #expect(throws: DeviceInfoError.self) { try DeviceInfo.decode(input, path: "/f") }
                #expect(error == DeviceInfoError(path: "/f", problem: c.problem))
                return
            }
            #expect(try DeviceInfo.decode(input, path: "/f").serialized() == json(expected).serialized())
        }

        @Test func decodeErrorNamesFileAndField() {
            let error = #expect(throws: DeviceInfoError.self) { try DeviceInfo.decode(Array(#"{"pci":{"pci-address":7}}"#.utf8), path: "/f") }
            #expect(error == DeviceInfoError(path: "/f", problem: "device-info field pci.pci-address: must be a string, found a number"))
        }
    }

    /// KubeVirt (VEP-427) reads a network's PCI address from network-status `device-info`: a
    /// DRA device gets what the SR-IOV device plugin writes for its VFs.
    @Suite("network-status device-info")
    struct ForNetworkStatus {
        @Test(arguments: [("0000:08:00.1", true), ("ffff:ff:1f.7", true), ("0000:08:00.1 ", false), ("0000:08:20.0", false),
                          ("0000:08:00.8", false), ("08:00.1", false), ("0000:08:0g.1", false), ("0000:08:+1.1", false),
                          ("0000:08:00.", false), ("vdpa0", false), ("", false), ("０000:08:00.1", false)])
        func pciAddresses(_ text: String, valid: Bool) {
            #expect(DeviceInfo.isPCIAddress(text) == valid)
        }

        @Test func draDevicesGetAPCIEntryFromTheirDeviceIDWithoutAFile() throws {
            let directory = try TemporaryDirectory(prefix: "devinfo-status")
            defer { directory.remove() }
            let allocation = DeviceAllocation(request: "vf", driver: "sriovnetwork.k8snetworkplumbingwg.io", pool: "node-1", device: "pf0-vf1")
            var dra = AttachedDevice(resourceName: "pool-a", deviceID: "0000:08:00.1", infoFile: directory.path + "/none",
                                     dra: DRADevice(claim: "default/c", allocation: allocation))
            #expect(DeviceInfo.forNetworkStatus(dra) == ["type": "pci", "version": "1.1.0", "pci": ["pci-address": "0000:08:00.1"]])
            var plugin = dra
            plugin.dra = nil
            #expect(DeviceInfo.forNetworkStatus(plugin) == nil, "a device plugin's device without a file: none, as Multus")
            dra.deviceID = "vdpa0"
            #expect(DeviceInfo.forNetworkStatus(dra) == nil, "an ID that is no PCI address: none")
            // A file (the device plugin's copy, or the delegate's own) wins.
            dra.infoFile = directory.path + "/file"
            try writeFile(dra.infoFile, Array(#"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:09:00.1","rdma-device":"mlx5_3"}}"#.utf8))
            #expect(DeviceInfo.forNetworkStatus(dra)?["pci"]?["rdma-device"] == "mlx5_3")
        }
    }

    @Suite("deviceID injection")
    struct Injection {
        @Test func singleConfigGetsItAtTheTopLevel() throws {
            let network = try NetworkConfigList(json: try json(
                #"{"cniVersion":"1.0.0","name":"sriov-net","type":"sriov","vlan":100,"deviceID":"old","ipam":{"type":"host-local","subnet":"10.56.217.0/24"}}"#))
            let injected = DeviceInfo.injectingDeviceID("0000:03:02.0", into: network)
            let expected = try json(
                #"{"cniVersion":"1.0.0","name":"sriov-net","type":"sriov","vlan":100,"deviceID":"0000:03:02.0","ipam":{"type":"host-local","subnet":"10.56.217.0/24"},"pciBusID":"0000:03:02.0"}"#)
            #expect(JSONValue.object(injected.raw) == expected)
            #expect(injected.plugins.map { JSONValue.object($0.raw) } == [expected])
            #expect(injected.isSingleConfig)
            #expect(injected.name == "sriov-net")
        }

        @Test func everyPluginOfAConflistGetsIt() throws {
            let network = try NetworkConfigList(json: try json(
                #"{"cniVersion":"1.0.0","name":"sriov-chain","x-top":true,"plugins":[{"type":"sriov","vlan":100,"spoofchk":"off"},{"type":"tuning","sysctl":{"net.ipv4.conf.IFNAME.arp_notify":"1"}}]}"#))
            let injected = DeviceInfo.injectingDeviceID("0000:03:02.1", into: network)
            let plugins = try json(
                #"[{"type":"sriov","vlan":100,"spoofchk":"off","deviceID":"0000:03:02.1","pciBusID":"0000:03:02.1"},{"type":"tuning","sysctl":{"net.ipv4.conf.IFNAME.arp_notify":"1"},"deviceID":"0000:03:02.1","pciBusID":"0000:03:02.1"}]"#)
            #expect(injected.plugins.map { JSONValue.object($0.raw) } == plugins.arrayValue)
            #expect(injected.raw["plugins"] == plugins)
            // The list itself gets nothing; its other keys stay.
            #expect(injected.raw["deviceID"] == nil)
            #expect(injected.raw["pciBusID"] == nil)
            #expect(injected.raw["x-top"] == .bool(true))
            #expect(injected.plugins.map(\.type) == ["sriov", "tuning"])
        }
    }
}
