import CNI
import Logging

/// How the checks are printed: a table for a person (at most 100 columns, detail and fix
/// wrapped), or JSON for monitoring. Everything is redacted: the output is pasted into tickets.
public enum Report {
    public static let width = 100
    static let verdictWidth = 9
    static let nameWidth = 24

    public static func table(_ checks: [Check]) -> String {
        let textWidth = width - verdictWidth - nameWidth
        var lines: [String] = [pad("VERDICT", verdictWidth) + pad("CHECK", nameWidth) + "DETAIL / FIX"]
        for check in checks {
            let name = wrap(Redaction.redact(check.name), width: nameWidth - 1)
            var text = wrap(Redaction.redact(check.detail), width: textWidth)
            if !check.fix.isEmpty { text += wrap("fix: " + Redaction.redact(check.fix), width: textWidth, hangingIndent: 5) }
            for row in 0..<max(name.count, text.count) {
                let verdict = pad(row == 0 ? check.verdict.rawValue : "", verdictWidth)
                let nameColumn = pad(row < name.count ? name[row] : "", nameWidth)
                lines.append((verdict + nameColumn + (row < text.count ? text[row] : "")).trimmingTrailingSpaces)
            }
        }
        let counts = Verdict.allCases.map { verdict in "\(checks.filter { $0.verdict == verdict }.count) \(verdict.rawValue)" }
        lines.append("\(checks.count) check\(checks.count == 1 ? "" : "s"): " + counts.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    public static func json(_ checks: [Check]) -> String {
        JSONValue.array(checks.map { check in
            ["name": .string(Redaction.redact(check.name)), "verdict": .string(check.verdict.rawValue),
             "detail": .string(Redaction.redact(check.detail)), "fix": .string(Redaction.redact(check.fix))]
        }).serialized()
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Words filled into lines of at most `width` characters; a word longer than a line is cut.
    static func wrap(_ text: String, width: Int, hangingIndent: Int = 0) -> [String] {
        var lines: [String] = []
        var current = ""
        let continuation = String(repeating: " ", count: hangingIndent)
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            var word = word
            while true {
                let prefix = current.isEmpty ? (lines.isEmpty ? "" : continuation) : current + " "
                if prefix.count + word.count <= width {
                    current = prefix + word
                    break
                }
                if !current.isEmpty {
                    lines.append(current)
                    current = ""
                    continue
                }
                let room = max(1, width - prefix.count)
                lines.append(prefix + String(word.prefix(room)))
                word = String(word.dropFirst(room))
                if word.isEmpty { break }
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.isEmpty ? [""] : lines
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
