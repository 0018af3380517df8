/// One front-to-back pass over a message, copying it to `output` only once something in it is
/// replaced.
struct RedactionScanner {
    private let input: UnsafeBufferPointer<UInt8>
    private var output: [UInt8] = []
    /// `input[..<copied]` is accounted for in `output` (copied or replaced).
    private var copied = 0
    private var changed = false
    private var i = 0
    /// Where the current line starts, and whether only indentation (spaces, tabs, a YAML `- `,
    /// an opening quote) came before `i` on it: a key there is a YAML or header key.
    private var lineStart = 0
    private var atLineStart = true

    init(_ input: UnsafeBufferPointer<UInt8>) { self.input = input }

    private static let markers = [Array(Redaction.marker.utf8), Array(Redaction.privateKeyMarker.utf8)]

    /// The redacted text, or nil when nothing was replaced.
    var result: String? {
        guard changed else { return nil }
        var out = output
        out.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied...]))
        return String(decoding: out, as: UTF8.self)
    }

    private var count: Int { input.count }
    private func byte(_ index: Int) -> UInt8? { index < count ? input[index] : nil }

    private mutating func replace(_ range: Range<Int>, with replacement: String) {
        guard !range.isEmpty else { return }
        if !changed { output.reserveCapacity(count + count / 8) }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<range.lowerBound]))
        output.append(contentsOf: replacement.utf8)
        copied = range.upperBound
        changed = true
    }

    /// The length of a marker at `index` that ends a value: text already redacted stays as it
    /// is (redacting is idempotent).
    private func markerLength(at index: Int) -> Int? {
        guard byte(index) == Ascii.openBracket else { return nil }
        for bytes in Self.markers {
            guard index + bytes.count <= count, input[index..<(index + bytes.count)].elementsEqual(bytes) else { continue }
            let next = byte(index + bytes.count)
            if next.map({ Ascii.endsPlainValue($0) || $0 == Ascii.at || $0 == Ascii.backslash }) ?? true { return bytes.count }
        }
        return nil
    }

    mutating func run() {
        while i < count {
            let c = input[i]
            switch c {
            case Ascii.newline, Ascii.carriageReturn:
                i += 1
                lineStart = i
                atLineStart = true
            case Ascii.space, Ascii.tab, Ascii.quote, Ascii.apostrophe, Ascii.backslash:
                i += 1
            case Ascii.dash where startsPrivateKey(at: i):
                privateKey()
            case Ascii.dash where atLineStart && byte(i + 1) == Ascii.space:
                i += 2  // a YAML sequence item: what follows is still at the line's start
            case Ascii.colon where byte(i + 1) == Ascii.slash && byte(i + 2) == Ascii.slash:
                atLineStart = false
                urlAuthority(from: i + 3)
            case _ where Ascii.isWord(c) && (i == 0 || !Ascii.isWord(input[i - 1]) || startsDashes(at: i)):
                word()
            default:
                atLineStart = false
                i += 1
            }
        }
    }

    // MARK: keys and their values

    /// A word at `i`: a key whose value is secret, `Bearer`/`Basic` and a credential, or text.
    private mutating func word() {
        let start = i
        var end = i
        while end < count, Ascii.isWord(input[end]), !(end > start && input[end] == Ascii.dash && startsDashes(at: end)) { end += 1 }
        let keyAtLineStart = atLineStart
        atLineStart = false
        i = end
        if let separator = separatorAfterKey(end), let kind = KeyKind(name: UnsafeBufferPointer(rebasing: input[start..<end])) {
            value(from: separator + 1, kind: kind, separator: input[separator], keyAtLineStart: keyAtLineStart, keyColumn: start - lineStart)
        } else if input[end - 1] | 0x20 == UInt8(ascii: "r") || input[end - 1] | 0x20 == UInt8(ascii: "c"), isScheme(start..<end) {
            credentialAfterScheme()
        }
    }

    /// The `:` or `=` after a key ending at `end`, past a closing quote (however escaped) and
    /// spaces; nil when none follows, or when the colon starts `://`.
    private func separatorAfterKey(_ end: Int) -> Int? {
        var j = end
        while byte(j) == Ascii.backslash { j += 1 }
        if byte(j) == Ascii.quote || (j == end && byte(j) == Ascii.apostrophe) {
            j += 1
        } else if j > end {
            return nil
        }
        while byte(j) == Ascii.space || byte(j) == Ascii.tab { j += 1 }
        guard let c = byte(j), c == Ascii.colon || c == Ascii.equals else { return nil }
        if c == Ascii.colon, byte(j + 1) == Ascii.slash, byte(j + 2) == Ascii.slash { return nil }
        return j
    }

    /// The value of a sensitive key, from just after its separator. A value with a separator
    /// of its own was a key (`token: "password": x`): the value after it goes too.
    private mutating func value(from start: Int, kind: KeyKind, separator: UInt8, keyAtLineStart: Bool, keyColumn: Int) {
        var next: (start: Int, separator: UInt8, atLineStart: Bool)? = (start, separator, keyAtLineStart)
        while let current = next {
            next = nil
            guard let end = oneValue(from: current.start, kind: kind, separator: current.separator, keyAtLineStart: current.atLineStart,
                                     keyColumn: keyColumn),
                  let following = separatorAfterKey(end) else { continue }
            next = (following + 1, input[following], false)
        }
    }

    /// One value; returns its end when it was a string or a word (which a separator may follow).
    private mutating func oneValue(from start: Int, kind: KeyKind, separator: UInt8, keyAtLineStart: Bool, keyColumn: Int) -> Int? {
        var j = start
        while byte(j) == Ascii.space || byte(j) == Ascii.tab { j += 1 }
        i = j
        // A private key is the main loop's, however it was introduced.
        guard let c = byte(j), !startsPrivateKey(at: j) else { return nil }
        if let marker = markerLength(at: j) {
            i = j + marker
            return i
        }
        var quote = j
        while byte(quote) == Ascii.backslash { quote += 1 }
        if byte(quote) == Ascii.quote {
            let level = QuoteLevel(backslashes: quote - j)
            let (content, end) = quotedString(from: j + level.backslashes + 1, level: level)
            redactValue(content, kind: kind)
            i = end
        } else if c == Ascii.apostrophe {
            let (content, end) = singleQuotedString(from: j + 1)
            redactValue(content, kind: kind)
            i = end
        } else if c == Ascii.openBrace || c == Ascii.openBracket {
            let end = compositeEnd(from: j)
            replace(j..<end, with: Redaction.marker)
            i = end
            return nil
        } else if c == Ascii.newline || c == Ascii.carriageReturn || (c == Ascii.hash && j > start) {
            // Nothing on the line (or YAML's ` # comment`): a YAML key's value is the block below.
            if keyAtLineStart && separator == Ascii.colon { yamlBlock(from: j, keyColumn: keyColumn) }
            return nil
        } else if keyAtLineStart && separator == Ascii.colon {
            let end = plainLineValueEnd(from: j)
            redactValue(j..<end, kind: kind)
            i = end
            return nil
        } else {
            let end = plainValueEnd(from: j, kind: kind)
            redactValue(j..<end, kind: kind)
            i = end
        }
        return i
    }

    private mutating func redactValue(_ range: Range<Int>, kind: KeyKind) {
        if kind == .keyMaterial, namesAKey(range) { return }
        replace(range, with: Redaction.marker)
    }

    /// Whether a key-material value is where a key is rather than the key: a path, or a dotted
    /// lower-case name with an optional `/suffix` (a file name, a label or taint key).
    private func namesAKey(_ range: Range<Int>) -> Bool {
        let value = UnsafeBufferPointer(rebasing: input[range])
        if value.first == Ascii.slash || value.starts(with: "./".utf8) || value.starts(with: "../".utf8) || value.starts(with: "~/".utf8) {
            return !value.contains(where: { $0 == Ascii.space || $0 == Ascii.tab })
        }
        let slash = value.firstIndex(of: Ascii.slash) ?? value.endIndex
        let domain = value[..<slash], rest = value[slash...].dropFirst()
        let lowercaseName: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == Ascii.dash || $0 == Ascii.dot }
        guard domain.contains(Ascii.dot), domain.first != Ascii.dot, domain.allSatisfy(lowercaseName) else { return false }
        return rest.allSatisfy { Ascii.isWord($0) || $0 == Ascii.dot }
    }

    /// A plain value in running text: one word, or a scheme and its credential (`Bearer abc`,
    /// and for an Authorization value any scheme: `Token abc`).
    private func plainValueEnd(from start: Int, kind: KeyKind) -> Int {
        var end = start
        while end < count, !Ascii.endsPlainValue(input[end]), !isKeySeparator(at: end),
              !(input[end] == Ascii.dash && startsPrivateKey(at: end)) { end += 1 }
        guard kind == .authorization || isScheme(start..<end), byte(end) == Ascii.space, input[start..<end].allSatisfy(Ascii.isLetter),
              let next = byte(end + 1), !Ascii.endsPlainValue(next) else { return end }
        end += 1
        while end < count, !Ascii.endsPlainValue(input[end]) { end += 1 }
        return end
    }

    /// Where the line ends; a value stops before a private key, whose block is the main loop's.
    /// A colon that ends a word as a YAML key's does (`key: v`), not one inside a value (`a:b`,
    /// `https://`).
    private func isKeySeparator(at index: Int) -> Bool {
        input[index] == Ascii.colon && (byte(index + 1).map { $0 == Ascii.space || $0 == Ascii.tab || $0 == Ascii.newline } ?? true)
    }

    private func lineEnd(from start: Int) -> Int {
        var end = start
        while end < count, input[end] != Ascii.newline, input[end] != Ascii.carriageReturn { end += 1 }
        return end
    }

    /// Where a YAML plain value ends: the end of its line, or a private key, whose block is the
    /// main loop's to take whole.
    private func plainLineValueEnd(from start: Int) -> Int {
        var end = start
        while end < count, input[end] != Ascii.newline, input[end] != Ascii.carriageReturn,
              !(input[end] == Ascii.dash && startsPrivateKey(at: end)) { end += 1 }
        return end
    }

    /// A key with nothing after its colon (`credentials:`) owns the lines indented deeper below
    /// it, and a sequence at its own indentation (`- a`), as YAML reads them: all of them go.
    private mutating func yamlBlock(from start: Int, keyColumn: Int) {
        var end = lineEnd(from: start)
        var blockEnd = start
        while end < count {
            var next = end + 1
            if input[end] == Ascii.carriageReturn, byte(next) == Ascii.newline { next += 1 }
            var indent = next
            while byte(indent) == Ascii.space { indent += 1 }
            let column = indent - next
            let inBlock = column > keyColumn || (column == keyColumn && byte(indent) == Ascii.dash && byte(indent + 1) == Ascii.space)
            guard inBlock, let c = byte(indent), c != Ascii.newline, c != Ascii.carriageReturn else { break }
            end = lineEnd(from: indent)
            blockEnd = end
        }
        guard blockEnd > start else { return }
        replace(start..<blockEnd, with: input[start - 1] == Ascii.colon ? " " + Redaction.marker : Redaction.marker)
        i = blockEnd
    }

    // MARK: strings and composites

    /// The content of a string whose opening quote token ended just before `start`, and the end
    /// of its closing token. Unterminated: to the end of the text.
    private func quotedString(from start: Int, level: QuoteLevel) -> (content: Range<Int>, end: Int) {
        var run = 0
        var j = start
        while j < count {
            let c = input[j]
            if c == Ascii.quote, level.closes(afterBackslashes: run) {
                return (start..<(j - level.backslashes), j + 1)
            }
            run = c == Ascii.backslash ? run + 1 : 0
            j += 1
        }
        return (start..<count, count)
    }

    /// YAML's single-quoted scalar: `''` is a quote inside it.
    private func singleQuotedString(from start: Int) -> (content: Range<Int>, end: Int) {
        var j = start
        while j < count {
            if input[j] == Ascii.apostrophe {
                if byte(j + 1) == Ascii.apostrophe { j += 2; continue }
                return (start..<j, j + 1)
            }
            j += 1
        }
        return (start..<count, count)
    }

    /// Just past the bracket that closes the one at `start`, brackets inside strings not counted
    /// (strings quoted at the level of the first quote met). Unbalanced: the end of the text.
    private func compositeEnd(from start: Int) -> Int {
        var depth = 0
        var level: QuoteLevel?
        var inString = false
        var run = 0
        var j = start
        while j < count {
            let c = input[j]
            if c == Ascii.quote {
                let current = level ?? QuoteLevel(backslashes: run)
                level = current
                if current.closes(afterBackslashes: run) { inString.toggle() }
            } else if !inString {
                if c == Ascii.openBrace || c == Ascii.openBracket { depth += 1 }
                if c == Ascii.closeBrace || c == Ascii.closeBracket {
                    depth -= 1
                    if depth == 0 { return j + 1 }
                }
            }
            run = c == Ascii.backslash ? run + 1 : 0
            j += 1
        }
        return count
    }

    // MARK: schemes, URLs, private keys

    private func isScheme(_ range: Range<Int>) -> Bool {
        var start = range.lowerBound
        while start < range.upperBound, input[start] == Ascii.dash { start += 1 }
        let word = input[start..<range.upperBound].lazy.map { $0 | 0x20 }
        return word.elementsEqual("bearer".utf8) || word.elementsEqual("basic".utf8)
    }

    /// The credential after `Bearer ` or `Basic ` (at `i`, just past the scheme).
    private mutating func credentialAfterScheme() {
        guard byte(i) == Ascii.space else { return }
        var start = i
        while byte(start) == Ascii.space { start += 1 }
        if let marker = markerLength(at: start) {
            i = start + marker
            return
        }
        var end = start
        while end < count, !Ascii.endsPlainValue(input[end]) { end += 1 }
        replace(start..<end, with: Redaction.marker)
        i = end
    }

    /// A URL's authority from `start` (just past `://`): the user info before its last `@`
    /// loses its password, or all of itself when it has none. The host is read on as text.
    private mutating func urlAuthority(from start: Int) {
        var end = start
        var at: Int?
        while end < count, !Ascii.endsAuthority(input[end]), !(input[end] == Ascii.dash && startsPrivateKey(at: end)),
              !(input[end] == Ascii.colon && byte(end + 1) == Ascii.slash && byte(end + 2) == Ascii.slash) {
            if input[end] == Ascii.at { at = end }
            end += 1
        }
        i = start
        guard let at else { return }
        i = at + 1
        let userInfo = start..<at
        let secret = input[userInfo].firstIndex(of: Ascii.colon).map { ($0 + 1)..<at } ?? userInfo
        if markerLength(at: secret.lowerBound) != secret.count { replace(secret, with: Redaction.marker) }
    }

    private func startsDashes(at index: Int) -> Bool {
        index + 5 <= count && input[index..<(index + 5)].allSatisfy { $0 == Ascii.dash }
    }

    private func startsPrivateKey(at index: Int) -> Bool { privateKeyHeaderEnd(at: index) != nil }

    /// Just past `-----BEGIN <label>-----` at `index` when the label says PRIVATE; the label is
    /// looked for within a bounded distance only.
    private func privateKeyHeaderEnd(at index: Int) -> Int? {
        let begin = "-----BEGIN ".utf8
        guard index + begin.count <= count, input[index..<(index + begin.count)].elementsEqual(begin) else { return nil }
        let labelStart = index + begin.count
        let limit = min(count, labelStart + 64)
        var j = labelStart
        while j < limit, input[j] != Ascii.dash, input[j] != Ascii.newline { j += 1 }
        guard startsDashes(at: j), UnsafeBufferPointer(rebasing: input[labelStart..<j]).starts(with: "PRIVATE".utf8)
                || Self.contains(input[labelStart..<j], " PRIVATE") else { return nil }
        return j + 5
    }

    /// A private key block from `i` through the dashes closing its END line (or the end).
    private mutating func privateKey() {
        guard var j = privateKeyHeaderEnd(at: i) else { return }
        let end = "-----END ".utf8
        while j < count {
            if input[j] == Ascii.dash, j + end.count <= count, input[j..<(j + end.count)].elementsEqual(end) {
                j += end.count
                let limit = min(count, j + 64)
                while j < limit, input[j] != Ascii.dash, input[j] != Ascii.newline { j += 1 }
                if startsDashes(at: j) { j += 5 }
                break
            }
            j += 1
        }
        replace(i..<min(j, count), with: Redaction.privateKeyMarker)
        i = min(j, count)
        atLineStart = false
    }

    private static func contains(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard bytes.count >= needle.count else { return false }
        return (bytes.startIndex...(bytes.endIndex - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

/// How deeply a string is quoted inside other strings: `"x"` is level 0, `\"x\"` (a JSON text
/// inside a JSON string, as an error message quotes a config) level 1, `\\\"x\\\"` level 2.
/// At level k a quote token is 2^k - 1 backslashes and a quote; inside the string, a quote
/// preceded by a run of r backslashes closes it when r ≡ 2^k - 1 (mod 2^(k+1)), which is what
/// unescaping k times and then reading one JSON string decides.
struct QuoteLevel {
    let backslashes: Int
    private let modulus: Int

    /// The level whose token is at most `backslashes` backslashes (extra ones are content).
    init(backslashes: Int) {
        var level = 0
        while level < 6, (2 << level) - 1 <= backslashes { level += 1 }
        self.backslashes = (1 << level) - 1
        modulus = 2 << level
    }

    func closes(afterBackslashes run: Int) -> Bool { run % modulus == backslashes }
}

enum Ascii {
    static let tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r"), space = UInt8(ascii: " ")
    static let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\"), slash = UInt8(ascii: "/")
    static let colon = UInt8(ascii: ":"), equals = UInt8(ascii: "="), dash = UInt8(ascii: "-"), dot = UInt8(ascii: "."), at = UInt8(ascii: "@")
    static let hash = UInt8(ascii: "#")
    static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}"), openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")

    static func isLetter(_ c: UInt8) -> Bool { c | 0x20 >= 0x61 && c | 0x20 <= 0x7A }
    /// Bytes of a key name (`client-key_data`, `--token`).
    static func isWord(_ c: UInt8) -> Bool { isLetter(c) || (c >= 0x30 && c <= 0x39) || c == dash || c == UInt8(ascii: "_") }

    /// Where a plain value in running text ends (`a=b;c=d`, `x=1&y=2`, `{k: v, ...}`).
    static func endsPlainValue(_ c: UInt8) -> Bool {
        switch c {
        case space, tab, newline, carriageReturn, quote, apostrophe, UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "&"),
             closeBrace, closeBracket, UInt8(ascii: ")"): true
        default: false
        }
    }

    /// Where a URL's authority ends.
    static func endsAuthority(_ c: UInt8) -> Bool {
        switch c {
        case slash, UInt8(ascii: "?"), hash, space, tab, newline, carriageReturn, quote, apostrophe, backslash, UInt8(ascii: "<"),
             UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ";"): true
        default: false
        }
    }
}
