import CYAML

/// One YAML node as libyaml's document loader reads it, with where it starts in the text.
///
/// Scalars keep their text: whether `123` is a number or `true` a boolean is up to the reader of
/// a field (`bool`), as when sigs.k8s.io/yaml decodes a kubeconfig into typed fields. Plain
/// `null`, `~` and empty values are `.null`. Aliases are expanded (within `Limits.maxNodes`) and
/// `<<` merge keys are applied, explicit keys winning, so readers never see either.
public indirect enum YAMLNode: Sendable, Hashable {
    case scalar(String, Mark)
    case null(Mark)
    case sequence([YAMLNode], Mark)
    case mapping([Entry], Mark)

    /// A 1-based position in the text, for error messages.
    public struct Mark: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var column: Int

        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }

        public var description: String { "line \(line)" }
    }

    /// One key and its value in a mapping (a struct rather than a tuple, so nodes are Hashable).
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: YAMLNode

        public init(key: String, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// Bounds that keep hostile input from exhausting memory or the stack.
    public struct Limits: Sendable, Hashable {
        /// Largest input accepted, in bytes.
        public var maxBytes: Int
        /// Deepest nesting of sequences and mappings.
        public var maxDepth: Int
        /// Most nodes, counted both as written and after alias expansion (a "billion laughs"
        /// document stops here).
        public var maxNodes: Int
        /// Most anchors, and most aliases, in the document.
        public var maxAliases: Int

        public init(maxBytes: Int = 4 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000, maxAliases: Int = 1_000) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxNodes = maxNodes
            self.maxAliases = maxAliases
        }

        public static let `default` = Limits()
    }

    /// Parses the first document in `bytes` (UTF-8, or UTF-16 with a BOM). An empty document is
    /// `.null`.
    ///
    /// - Throws: `YAMLError` whose reason starts with the line: libyaml's own words for syntax
    ///   errors, or which limit was exceeded.
    public static func parse(_ bytes: [UInt8], limits: Limits = .default) throws(YAMLError) -> YAMLNode {
        guard bytes.count <= limits.maxBytes else {
            throw YAMLError(reason: "larger than \(limits.maxBytes) bytes")
        }
        guard !bytes.isEmpty else { return .null(Mark(line: 1, column: 1)) }
        let result: Result<YAMLNode, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return .success(.null(Mark(line: 1, column: 1))) }
            return Loader.load(base, count: buffer.count, limits: limits)
        }
        return try result.get()
    }

    /// Parses `text` (see `parse(_:limits:)`).
    public static func parse(_ text: String, limits: Limits = .default) throws(YAMLError) -> YAMLNode {
        try parse(Array(text.utf8), limits: limits)
    }

    // MARK: Reading

    /// Where this node starts.
    public var mark: Mark {
        switch self {
        case .scalar(_, let mark), .null(let mark), .sequence(_, let mark), .mapping(_, let mark): mark
        }
    }

    /// The text of a scalar; nil for null, sequences and mappings.
    public var scalar: String? {
        if case .scalar(let text, _) = self { text } else { nil }
    }

    public var isNull: Bool {
        if case .null = self { true } else { false }
    }

    /// The items of a sequence.
    public var elements: [YAMLNode]? {
        if case .sequence(let items, _) = self { items } else { nil }
    }

    /// The entries of a mapping, in document order.
    public var entries: [Entry]? {
        if case .mapping(let entries, _) = self { entries } else { nil }
    }

    /// The value of `key` in a mapping (the last one if the key repeats, as go-yaml decodes);
    /// nil when absent or when this is not a mapping.
    public subscript(key: String) -> YAMLNode? {
        entries?.last(where: { $0.key == key })?.value
    }

    /// Item `index` of a sequence; nil when out of range or not a sequence.
    public subscript(index: Int) -> YAMLNode? {
        guard let items = elements, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// The scalar text at `key`; nil when absent, null or not a scalar.
    public func string(_ key: String) -> String? { self[key]?.scalar }

    /// A YAML 1.1 boolean as go-yaml (and so client-go) reads one: true/false, yes/no, on/off,
    /// y/n in their usual capitalisations. Quoted spellings are accepted too. Nil otherwise.
    public var bool: Bool? {
        switch scalar {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON": true
        case "false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF": false
        default: nil
        }
    }

    /// The boolean at `key` (see `bool`).
    public func bool(_ key: String) -> Bool? { self[key]?.bool }

    /// What this node is, for error messages: "a string", "null", "a list", "a mapping".
    public var kind: String {
        switch self {
        case .scalar: "a string"
        case .null: "null"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

// MARK: - libyaml

/// Runs libyaml's loader over a buffer and turns its node graph into `YAMLNode`s. libyaml's
/// structures live on the heap for the whole call and are freed before it returns.
private struct Loader {
    let document: UnsafeMutablePointer<yaml_document_t>
    let limits: YAMLNode.Limits
    var nodeCount = 0

    static func load(_ base: UnsafePointer<UInt8>, count: Int, limits: YAMLNode.Limits) -> Result<YAMLNode, YAMLError> {
        let bytes = UnsafeBufferPointer(start: base, count: count)
        // libyaml's scanner rechecks every open flow level on each token, and its loader looks
        // each alias up among all anchors: both quadratic. A first pass over the events stops a
        // hostile document before the loader spends minutes on it.
        let checked: Result<Void, YAMLError> = withParser(bytes) { parser in
            preflight(parser, bytes, limits: limits).map { .failure($0) } ?? .success(())
        }
        if case .failure(let error) = checked { return .failure(error) }

        return withParser(bytes) { parser in
            let document = UnsafeMutablePointer<yaml_document_t>.allocate(capacity: 1)
            document.initialize(to: yaml_document_t())
            defer { document.deallocate() }
            // On failure yaml_parser_load has already freed the partial document.
            guard yaml_parser_load(parser, document) != 0 else {
                return .failure(YAMLError(reason: syntaxError(parser.pointee, bytes)))
            }
            defer { yaml_document_delete(document) }

            guard let root = yaml_document_get_root_node(document) else { return .success(.null(YAMLNode.Mark(line: 1, column: 1))) }
            var loader = Loader(document: document, limits: limits)
            do throws(YAMLError) {
                return .success(try loader.convert(root, depth: 0))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Runs `body` with a parser reading `bytes`, freed afterwards. The parser lives on the heap
    /// so that it never moves while libyaml holds pointers into it.
    static func withParser<T>(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeMutablePointer<yaml_parser_t>) -> Result<T, YAMLError>
    ) -> Result<T, YAMLError> {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) != 0, let base = bytes.baseAddress else {
            return .failure(YAMLError(reason: "cannot start the YAML parser (out of memory)"))
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base, bytes.count)
        return body(parser)
    }

    /// Walks the first document's events, checking nesting depth, node count and anchors and
    /// aliases against `limits`, and reporting syntax errors; nil when the document is fine.
    static func preflight(
        _ parser: UnsafeMutablePointer<yaml_parser_t>, _ bytes: UnsafeBufferPointer<UInt8>, limits: YAMLNode.Limits
    ) -> YAMLError? {
        func failure(_ event: yaml_event_t, _ reason: String) -> YAMLError {
            YAMLError(reason: "\(mark(event.start_mark)): \(reason)")
        }
        var event = yaml_event_t()
        var depth = 0
        var nodes = 0
        var anchors = 0
        var aliases = 0
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else {
                return YAMLError(reason: syntaxError(parser.pointee, bytes))
            }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                depth += 1
                nodes += 1
                let anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                if anchor != nil { anchors += 1 }
                guard depth <= limits.maxDepth else { return failure(event, "nested deeper than \(limits.maxDepth) levels") }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                depth -= 1
            case YAML_SCALAR_EVENT:
                nodes += 1
                if event.data.scalar.anchor != nil { anchors += 1 }
            case YAML_ALIAS_EVENT:
                aliases += 1
            case YAML_DOCUMENT_END_EVENT, YAML_STREAM_END_EVENT:
                return nil
            default:
                break
            }
            guard nodes <= limits.maxNodes else { return failure(event, "more than \(limits.maxNodes) nodes") }
            guard anchors <= limits.maxAliases, aliases <= limits.maxAliases else {
                return failure(event, "more than \(limits.maxAliases) anchors or aliases")
            }
        }
    }

    /// libyaml's description of why it stopped, starting with the line.
    static func syntaxError(_ parser: yaml_parser_t, _ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return "out of memory while parsing"
        case YAML_READER_ERROR:
            // Encoding problems carry a byte offset rather than a mark.
            let offset = min(parser.problem_offset, bytes.count)
            let line = 1 + bytes[..<offset].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            let value = parser.problem_value >= 0 ? " (#\(String(parser.problem_value, radix: 16, uppercase: true)) at byte \(offset))" : ""
            return "line \(line): \(problem)\(value)"
        default:
            let at = mark(parser.problem_mark)
            var reason = "line \(at.line), column \(at.column): \(problem)"
            if let context = parser.context.map({ String(cString: $0) }) {
                reason += " (\(context) at line \(mark(parser.context_mark).line))"
            }
            return reason
        }
    }

    static func mark(_ mark: yaml_mark_t) -> YAMLNode.Mark {
        YAMLNode.Mark(line: mark.line + 1, column: mark.column + 1)
    }

    func failure(_ mark: YAMLNode.Mark, _ reason: String) -> YAMLError {
        YAMLError(reason: "\(mark): \(reason)")
    }

    func node(_ id: Int32) -> UnsafeMutablePointer<yaml_node_t>? { yaml_document_get_node(document, id) }

    mutating func convert(_ node: UnsafeMutablePointer<yaml_node_t>, depth: Int) throws(YAMLError) -> YAMLNode {
        let mark = Self.mark(node.pointee.start_mark)
        nodeCount += 1
        guard nodeCount <= limits.maxNodes else {
            throw failure(mark, "more than \(limits.maxNodes) nodes after expanding aliases")
        }
        switch node.pointee.type {
        case YAML_SCALAR_NODE:
            return scalar(node.pointee, mark)
        case YAML_SEQUENCE_NODE:
            guard depth < limits.maxDepth else { throw failure(mark, "nested deeper than \(limits.maxDepth) levels") }
            var items: [YAMLNode] = []
            var item = node.pointee.data.sequence.items.start
            while let current = item, current < node.pointee.data.sequence.items.top {
                guard let child = self.node(current.pointee) else { throw failure(mark, "dangling node reference") }
                items.append(try convert(child, depth: depth + 1))
                item = current + 1
            }
            return .sequence(items, mark)
        case YAML_MAPPING_NODE:
            guard depth < limits.maxDepth else { throw failure(mark, "nested deeper than \(limits.maxDepth) levels") }
            return try mapping(node.pointee, mark, depth: depth)
        default:
            throw failure(mark, "unexpected node type")
        }
    }

    func scalar(_ node: yaml_node_t, _ mark: YAMLNode.Mark) -> YAMLNode {
        let data = node.data.scalar
        let text = data.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self) } ?? ""
        let tag = node.tag.map { String(cString: $0) } ?? YAML_DEFAULT_SCALAR_TAG
        if tag == YAML_NULL_TAG { return .null(mark) }
        if data.style == YAML_PLAIN_SCALAR_STYLE, tag == YAML_DEFAULT_SCALAR_TAG, ["", "~", "null", "Null", "NULL"].contains(text) {
            return .null(mark)
        }
        return .scalar(text, mark)
    }

    mutating func mapping(_ node: yaml_node_t, _ mark: YAMLNode.Mark, depth: Int) throws(YAMLError) -> YAMLNode {
        var explicit: [YAMLNode.Entry] = []
        var merged: [YAMLNode.Entry] = []
        var pair = node.data.mapping.pairs.start
        while let current = pair, current < node.data.mapping.pairs.top {
            pair = current + 1
            guard let keyNode = self.node(current.pointee.key), let valueNode = self.node(current.pointee.value) else {
                throw failure(mark, "dangling node reference")
            }
            let keyMark = Self.mark(keyNode.pointee.start_mark)
            guard keyNode.pointee.type == YAML_SCALAR_NODE else {
                throw failure(keyMark, "mapping keys must be plain strings, not \(keyNode.pointee.type == YAML_SEQUENCE_NODE ? "a list" : "a mapping")")
            }
            let keyData = keyNode.pointee.data.scalar
            let key = keyData.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: keyData.length), as: UTF8.self) } ?? ""
            let value = try convert(valueNode, depth: depth + 1)
            if key == "<<" && keyData.style == YAML_PLAIN_SCALAR_STYLE {
                merged += try mergeSources(value)
            } else {
                explicit.append(YAMLNode.Entry(key: key, value: value))
            }
        }
        // YAML merge keys: explicit keys win, and among merged maps the first one listed wins.
        var seen = Set(explicit.map(\.key))
        for entry in merged where seen.insert(entry.key).inserted {
            explicit.append(entry)
        }
        return .mapping(explicit, mark)
    }

    /// The entries a `<<` value brings in: one mapping, or a list of mappings.
    func mergeSources(_ value: YAMLNode) throws(YAMLError) -> [YAMLNode.Entry] {
        switch value {
        case .mapping(let entries, _):
            return entries
        case .sequence(let items, _):
            var entries: [YAMLNode.Entry] = []
            for item in items {
                guard let more = item.entries else { throw failure(item.mark, "a << merge list may hold only mappings, not \(item.kind)") }
                entries += more
            }
            return entries
        default:
            throw failure(value.mark, "a << merge key needs a mapping or a list of mappings, not \(value.kind)")
        }
    }
}

extension YAMLNode {
    /// `text` as a YAML double-quoted scalar, for the kubeconfigs we write: any path, name or URL
    /// reads back exactly, whatever YAML would otherwise make of it.
    public static func doubleQuoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
