import KubeClient
import Testing
import TestSupport

/// The verbs the doctor asks about are the ones docs/kubernetes.md's RBAC table states: one row
/// per `PluginPermission.all` entry, with its call, verb and resource.
@Suite("the plugin's verbs: code and docs")
struct PermissionTableTests {
    static func rbacRows() throws -> [String] {
        let text = String(decoding: try readFile(testdata("../docs/kubernetes.md")), as: UTF8.self)
        let section = try #require(text.split(separator: "\n## ").first { $0.hasPrefix("RBAC: what the plugin needs") })
        return section.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("| ") && !$0.hasPrefix("| call ") && !$0.hasPrefix("| anything else") }
            .map { $0.replacing("`", with: "") }
    }

    @Test(arguments: PluginPermission.all)
    func eachVerbHasItsRow(_ permission: PluginPermission) throws {
        let resource = permission.question.resource + (permission.question.subresource.isEmpty ? "" : "/" + permission.question.subresource)
        let rows = try Self.rbacRows().filter { $0.contains(permission.call) }
        #expect(rows.count == 1, "\(permission.call): \(rows)")
        #expect(rows.first?.contains("| \(permission.question.verb) (\(resource)") == true, "\(rows)")
    }

    @Test func noRowWithoutAVerb() throws {
        #expect(try Self.rbacRows().count == PluginPermission.all.count)
    }
}
