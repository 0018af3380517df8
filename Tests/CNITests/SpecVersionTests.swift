import CNI
import Testing
import TestSupport

@Suite("SpecVersion")
struct SpecVersionTests {
    static let valid: [(text: String, version: SpecVersion)] = [
        ("0.1.0", .v0_1_0), ("0.3.1", .v0_3_1), ("1.1.0", .v1_1_0), ("10.20.30", SpecVersion(10, 20, 30)),
        // Leading zeros are read as numbers (as libcni's strconv.Atoi-based ParseVersion does).
        ("01.0.0", .v1_0_0), ("0.04.00", .v0_4_0),
    ]

    @Test(arguments: valid)
    func parsesThreeNumbers(text: String, version: SpecVersion) {
        #expect(SpecVersion(text) == version)
    }

    @Test(arguments: [
        "", "1", "1.0", "1.0.0.0", "a.b.c", "1..0", ".1.0", "1.0.", "1.0.x", "v1.0.0", "1.0.0-rc1",
        " 1.0.0", "1.0.0 ", "+1.0.0", "1.+0.0", "-1.0.0", "1.-2.0", "0x1.0.0", "١.٠.٠", "99999999999999999999.0.0",
    ])
    func rejectsAnythingElse(_ text: String) {
        #expect(SpecVersion(text) == nil)
    }

    /// The code rejects a '+' sign explicitly and negative numbers through `>= 0`, but "-0" is 0.
    @Test(arguments: ["-0.1.0", "0.-0.0", "1.0.-0"])
    func rejectsMinusZero(_ text: String) {
        #expect(SpecVersion(text) == nil)
    }

    @Test(arguments: SpecVersion.all)
    func descriptionRoundTrips(_ version: SpecVersion) {
        #expect(SpecVersion(version.description) == version)
        #expect(version.isSupported)
    }

    @Test func orderingIsNumeric() {
        #expect(SpecVersion.all == SpecVersion.all.sorted())
        #expect(zip(SpecVersion.all, SpecVersion.all.dropFirst()).allSatisfy { $0 < $1 })
        #expect(SpecVersion(0, 10, 0) > SpecVersion(0, 9, 0))
        #expect(SpecVersion(1, 0, 0) > SpecVersion(0, 99, 99))
        #expect(SpecVersion(0, 3, 1) > .v0_3_0)
        #expect(!(SpecVersion.v1_0_0 < .v1_0_0))
    }

    @Test func allAndLatest() {
        #expect(SpecVersion.all.map(\.description) == ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
        #expect(SpecVersion.latest == .v1_1_0)
        #expect(SpecVersion.all.last == .latest)
        #expect(!SpecVersion(0, 2, 5).isSupported)
        #expect(!SpecVersion(2, 0, 0).isSupported)
    }

    @Test func fromConfigField() {
        #expect(SpecVersion.fromConfigField(nil) == .v0_1_0)
        #expect(SpecVersion.fromConfigField("") == .v0_1_0)
        #expect(SpecVersion.fromConfigField("1.0.0") == .v1_0_0)
        #expect(SpecVersion.fromConfigField("9.9.9") == SpecVersion(9, 9, 9))
        #expect(SpecVersion.fromConfigField("bogus") == nil)
    }

    static let capabilities: [(SpecVersion, ResultFormat, check: Bool, statusAndGC: Bool, prevResult: Bool)] = [
        (.v0_1_0, .legacy, false, false, false),
        (.v0_2_0, .legacy, false, false, false),
        (.v0_3_0, .interfacesWithIPVersion, false, false, true),
        (.v0_3_1, .interfacesWithIPVersion, false, false, true),
        (.v0_4_0, .interfacesWithIPVersion, true, false, true),
        (.v1_0_0, .current, true, false, true),
        (.v1_1_0, .current, true, true, true),
    ]

    @Test(arguments: capabilities)
    func perVersionFeatures(_ version: SpecVersion, format: ResultFormat, check: Bool, statusAndGC: Bool, prevResult: Bool) {
        #expect(version.resultFormat == format)
        #expect(version.supportsCheck == check)
        #expect(version.supportsStatusAndGC == statusAndGC)
        #expect(version.supportsPrevResult == prevResult)
    }

    @Test func capabilityTableCoversAll() {
        #expect(Self.capabilities.map(\.0) == SpecVersion.all)
    }
}
