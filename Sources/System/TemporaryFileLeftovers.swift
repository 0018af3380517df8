extension TemporaryFile {
    /// The leftover temporary files `sweep` would remove from `directory` now, without removing
    /// them: what `multus doctor` reports (it never writes the node).
    public static func leftovers(in directory: String, olderThan age: Duration = leftoverAge) -> [String] {
        guard let names = try? Files.list(directory) else { return [] }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let now = WallClockTime.now()
        return names.filter { name in
            let ours = isTemporaryName(name) || legacyTarget(of: name).map { names.contains($0) } == true
            guard ours, let status = try? Files.linkStatus(prefix + name), status.kind == .regular else { return false }
            return Duration.seconds(now.seconds - status.modified.seconds) >= age
        }.sorted()
    }
}
