import CNI
import Doctor
import Testing

@Suite("doctor output")
struct ReportTests {
    static let checks: [Check] = [
        .ok("config.file", "/etc/cni/net.d/00-multus.conf is the first config: the runtime calls multus"),
        .error("kubernetes.rbac", String(repeating: "system:serviceaccount:kube-system:multus may not: update pods/status (write network-status); ", count: 4)
                + "/a/path/without/any/spaces/that/is/much/longer/than/one/line/of/the/table/can/hold/at/all/ever/really",
               fix: "add to the ClusterRole bound to system:serviceaccount:kube-system:multus: {apiGroups: [\"\"], resources: [\"pods/status\"], verbs: [\"update\"]}"),
        .warning("node.a-check-name-longer-than-its-column", "short", fix: "Authorization: Bearer abc.def.ghi"),
    ]

    @Test func theTableFits100Columns() {
        let table = Report.table(Self.checks)
        for line in table.split(separator: "\n") { #expect(line.count <= 100, "\(line.count): \(line)") }
        for check in Self.checks { #expect(table.contains(String(check.name.prefix(20)))) }
        #expect(table.contains("fix: add to the ClusterRole"))
        #expect(table.hasSuffix("3 checks: 1 ok, 1 warning, 1 error"))
    }

    @Test func jsonHasTheSameChecks() throws {
        let parsed = try #require(try JSONValue.parse(Array(Report.json(Self.checks).utf8)).arrayValue)
        #expect(parsed.count == Self.checks.count)
        for (json, check) in zip(parsed, Self.checks) {
            #expect(json.objectValue?.keys == ["name", "verdict", "detail", "fix"])
            #expect(json.objectValue?["name"]?.stringValue == check.name)
            #expect(json.objectValue?["verdict"]?.stringValue == check.verdict.rawValue)
            #expect(json.objectValue?["detail"]?.stringValue == check.detail)
        }
    }

    /// The output is pasted into tickets: a credential never is.
    @Test func everythingPrintedIsRedacted() {
        for output in [Report.table(Self.checks), Report.json(Self.checks)] {
            #expect(!output.contains("abc.def.ghi"))
            #expect(output.contains("[redacted]"))
        }
    }

    @Test func exitCodeIsOneOnlyWithAnError() {
        #expect(Doctor.exitCode(Self.checks) == 1)
        #expect(Doctor.exitCode(Self.checks.filter { $0.verdict != .error }) == 0)
        #expect(Doctor.exitCode([]) == 0)
    }

    @Test(arguments: [
        (["--conf-dir", "/x", "--json"], "/x", true),
        (["--conf-dir=/y"], "/y", false),
        ([], "/etc/cni/net.d", false),
    ])
    func flags(_ arguments: [String], confDir: String, json: Bool) throws {
        let options = try DoctorOptions.parse(arguments)
        #expect(options.confDir == confDir)
        #expect((options.output == .json) == json)
    }

    @Test func badFlagsAndHelp() {
        #expect(throws: DoctorOptions.ParseError.helpRequested) { try DoctorOptions.parse(["--help"]) }
        #expect(throws: DoctorOptions.ParseError.self) { try DoctorOptions.parse(["--bogus"]) }
        #expect(throws: DoctorOptions.ParseError.self) { try DoctorOptions.parse(["--namespace", "Not_A_Namespace"]) }
        #expect(Doctor.main(arguments: ["--bogus"], environment: [:]).exitCode == 2)
        #expect(Doctor.main(arguments: ["--help"], environment: [:]).exitCode == 0)
    }
}
