import Glibc

/// This process's boundary, for `main` alone: its environment, stdin, stdout and stderr, and its
/// exit. Everything else takes what main read as values, so tests never touch the process.
public enum CurrentProcess {
    /// The environment as `NAME=value` pairs (the first `=` splits; a later duplicate wins).
    public static func environment() -> [String: String] {
        var environment: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                environment[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            cursor += 1
        }
        return environment
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
