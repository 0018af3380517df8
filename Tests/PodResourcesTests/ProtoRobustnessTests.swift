// Truncated, corrupted and random pod-resources messages: every one decodes or fails with a
// ProtoError naming the offset; none crashes.
@testable import PodResources
import Testing
import TestSupport

@Suite struct ProtoRobustnessTests {
    /// Only the prefixes that end on a top-level field boundary are whole messages.
    @Test func everyTruncationDecodesOnlyAtFieldBoundaries() throws {
        let bytes = try golden("list-response-plain.bin")
        let firstPodLength = PodResourcesEncoding.listResponse([goldenPods[0]]).count
        var decoded: [Int: [PodResources]] = [:]
        var failures = 0
        for length in 0...bytes.count {
            do { decoded[length] = try decodeListResponse(Array(bytes.prefix(length))) } catch { failures += 1 }
        }
        #expect(decoded == [0: [], firstPodLength: [goldenPods[0]], bytes.count: goldenPods])
        #expect(failures == bytes.count + 1 - 3)
    }

    @Test(arguments: [
        ([0x0a], "varint runs past the end"),        // field 1, no length
        ([0x0a, 0x05, 0x01], "length 5 runs past"),  // length past the end
        ([0x0b], "wire type 3"),                     // a group start
        ([0x00, 0x00], "field number 0"),
        ([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], "longer than 64 bits"),
        ([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], "64 bits"),
        ([0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28], "not valid UTF-8"),  // pod name with a bad sequence
        ([0x09, 1, 2, 3], "fixed-width"),            // fixed64 cut short
    ] as [([UInt8], String)])
    func malformedMessagesNameTheProblem(bytes: [UInt8], problem: String) {
        #expect {
            _ = try decodeListResponse(bytes)
        } throws: { error in
            (error as? ProtoError)?.description.contains(problem) == true
        }
    }

    /// A field the kubelet adds later, of any wire type, is skipped; so is a known field number
    /// with another wire type, as the reference runtimes treat it.
    @Test func unknownFieldsAreSkipped() throws {
        let pod = PodResourcesEncoding.listResponse([PodResources(name: "a", namespace: "b")])
        let extra: [UInt8] = [0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5d, 1, 2, 3, 4, 0x62, 0x01, 0x00, 0x08, 0x01]
        #expect(try decodeListResponse(extra + pod + extra) == [PodResources(name: "a", namespace: "b")])
    }

    /// Random pods survive encode and decode unchanged; random damage to them never crashes and
    /// yields both outcomes.
    @Test func seededRandomRoundTripsAndMutations() {
        let seed: UInt64 = 0x5eed_0015
        var random = SeededGenerator(seed: seed)
        var roundTripped = 0, decodedAfterDamage = 0, rejectedAfterDamage = 0
        for _ in 0..<2_000 {
            let pods = (0..<random.below(4)).map { _ in random.pod() }
            let bytes = PodResourcesEncoding.listResponse(pods)
            if (try? decodeListResponse(bytes)) == pods { roundTripped += 1 }
            var damaged = bytes
            for _ in 0..<(1 + random.below(4)) where !damaged.isEmpty {
                damaged[random.below(damaged.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.below(3) == 0 { damaged = Array(damaged.prefix(random.below(damaged.count + 1))) }
            do { _ = try decodeListResponse(damaged); decodedAfterDamage += 1 } catch { rejectedAfterDamage += 1 }
        }
        #expect(roundTripped == 2_000, "seed \(seed)")
        #expect(decodedAfterDamage + rejectedAfterDamage == 2_000, "seed \(seed)")
        #expect(decodedAfterDamage > 100, "seed \(seed)")
        #expect(rejectedAfterDamage > 100, "seed \(seed)")
    }
}

extension SeededGenerator {
    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }

    mutating func text() -> String {
        let alphabet = Array("abc-./=:0123456789é")
        return String((0..<below(12)).map { _ in alphabet[below(alphabet.count)] })
    }

    mutating func pod() -> PodResources {
        PodResources(name: text(), namespace: text(), containers: (0..<below(3)).map { _ in
            ContainerResources(
                name: text(),
                devices: (0..<below(3)).map { _ in ContainerDevices(resourceName: text(), deviceIDs: (0..<below(4)).map { _ in text() }) },
                dynamicResources: (0..<below(2)).map { _ in
                    DynamicResource(claimName: text(), claimNamespace: text(), claimResources: (0..<below(3)).map { _ in
                        ClaimResource(cdiDevices: (0..<below(3)).map { _ in text() }, driverName: text(), poolName: text(), deviceName: text())
                    })
                })
        })
    }
}
