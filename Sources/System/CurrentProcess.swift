import Glibc

/// This process's boundary, for `main` alone: its environment, stdin, stdout and stderr, and its
/// exit. Everything else takes what main read as values, so tests never touch the process.
public enum CurrentProcess {
    /// The environment as `NAME=value` pairs (the first `=` splits; a later duplicate wins).
    /// Split as bytes and sized once: a runtime's environment can hold dozens of variables, and
    /// walking each as a String by Character was most of a short call's own work.
    public static func environment() -> [String: String] {
        var count = 0
        while environ[count] != nil { count += 1 }
        var environment = [String: String](minimumCapacity: count)
        for index in 0..<count {
            guard let entry = environ[index] else { break }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            environment[String(decoding: UnsafeBufferPointer(rebasing: bytes[..<eq]), as: UTF8.self)] =
                String(decoding: UnsafeBufferPointer(rebasing: bytes[(eq + 1)...]), as: UTF8.self)
        }
        return environment
    }

    /// One variable, without reading the rest of the environment; the last of duplicates, as in
    /// `environment()` (getenv would give the first).
    public static func variable(_ name: String) -> String? {
        (name + "=").withCString { prefix -> String? in
            let length = strlen(prefix)
            var found: UnsafeMutablePointer<CChar>?
            var cursor = environ
            while let entry = cursor.pointee {
                if strncmp(entry, prefix, length) == 0 { found = entry + length }
                cursor += 1
            }
            return found.map { String(cString: $0) }
        }
    }

    /// All of stdin, or nothing when stdin is a terminal: a person who ran the binary by hand
    /// must not be left waiting on it. Reading stops once more than `limit` bytes have arrived
    /// (no config is that large; what was read is returned, and fails to parse); nothing comes
    /// back from a stdin that cannot be read.
    public static func readStandardInput(limit: Int) -> [UInt8] {
        let input = FileDescriptor.standardInput
        if input.isTerminal { return [] }
        return (try? input.readToEnd(maximum: limit)) ?? []
    }

    /// Writes `text` whole to stdout or stderr; a closed stream is ignored (there is no one to
    /// tell).
    public static func write(_ text: String, to stream: FileDescriptor) {
        try? stream.writeAll(Array(text.utf8))
    }

    public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }

    /// The running executable's path (/proc/self/exe), if it can be read.
    public static var executablePath: String? { Files.readLink("/proc/self/exe") }
}
