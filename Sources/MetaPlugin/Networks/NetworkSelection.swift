import CNI

/// One requested attachment from the pod's networks annotation.
public struct NetworkSelectionElement: Sendable, Hashable {
    /// The NAD's name (a DNS-1123 subdomain, checked by the parser).
    public var name: NetworkName
    /// Resolved: the element's namespace, else the pod's.
    public var namespace: Namespace
    /// `"interface"` (or the legacy `"interfaceRequest"`), or `@ifname` in the comma form.
    public var interfaceRequest: InterfaceName?
    /// As given: addresses or CIDRs (Multus accepts both), validated.
    public var ips: [String]
    /// Validated as Go's `net.ParseMAC` does.
    public var mac: String?
    /// `"default-route"` gateway IPs, validated. nil when the key is absent or null. An empty
    /// list is not the same as nil: in Multus any element that carries the key, even with no
    /// gateway, switches on default-route filtering for every network of the pod.
    public var defaultRoute: [IPAddress]?
    /// Kept verbatim (an array).
    public var portMappings: JSONValue?
    /// Kept verbatim (an object).
    public var bandwidth: JSONValue?
    /// `"cni-args"`, kept verbatim.
    public var cniArgs: JSONObject?
    /// `"infiniband-guid"`, validated as Multus does (Go's `net.ParseMAC`).
    public var infinibandGUID: String?
    /// `"deviceID"`.
    public var deviceID: String?
    /// 0-based index in the annotation, for messages.
    public var position: Int

    public init(
        name: NetworkName, namespace: Namespace, interfaceRequest: InterfaceName? = nil, ips: [String] = [], mac: String? = nil,
        defaultRoute: [IPAddress]? = nil, portMappings: JSONValue? = nil, bandwidth: JSONValue? = nil,
        cniArgs: JSONObject? = nil, infinibandGUID: String? = nil, deviceID: String? = nil, position: Int
    ) {
        self.name = name
        self.namespace = namespace
        self.interfaceRequest = interfaceRequest
        self.ips = ips
        self.mac = mac
        self.defaultRoute = defaultRoute
        self.portMappings = portMappings
        self.bandwidth = bandwidth
        self.cniArgs = cniArgs
        self.infinibandGUID = infinibandGUID
        self.deviceID = deviceID
        self.position = position
    }

    /// `namespace/name[@interface]`, for messages.
    public var label: String {
        "\(namespace)/\(name)" + (interfaceRequest.map { "@\($0)" } ?? "")
    }
}

/// What is wrong with a networks annotation, and where.
public struct NetworkSelectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which element (0-based); nil when the annotation as a whole is wrong.
    public var position: Int?
    /// The element's text (comma form) or name (JSON form) when known, cut to a readable length.
    public var element: String?
    public var reason: String

    public init(position: Int? = nil, element: String? = nil, reason: String) {
        self.position = position
        self.element = element.map { Echo.clipped($0) }
        self.reason = reason
    }

    /// `element 2 ("blue/macvlan@eth1"): interface name "eth1 x" contains '/', ':' or whitespace`.
    public var description: String {
        switch (position, element) {
        case let (position?, element?): "element \(position) (\(NetworkSelection.quoted(element))): \(reason)"
        case let (position?, nil): "element \(position): \(reason)"
        case (nil, _): reason
        }
    }
}

/// The pod annotation `k8s.v1.cni.cncf.io/networks`: which extra networks a pod asks for.
///
/// Mirrors Multus's `parsePodNetworkAnnotation` and `parsePodNetworkObjectName`
/// (pkg/k8sclient/k8sclient.go), with these differences, all of them refusing at parse time
/// what Multus refuses later (a failed lookup, the kernel) or crashes on:
/// - Namespaces must be DNS-1123 labels (at most 63 characters) and names DNS-1123 subdomains
///   (at most 253), in both forms: the names Kubernetes can store. Multus checks only the comma
///   form, against the label pattern for both and with no length limit, so it refuses a dotted
///   name there that its JSON form accepts; we accept it in both.
/// - An empty name is an error; so is an empty comma item (`a,,b`, `a,`), which Multus turns
///   into an element with an empty name that fails at the NetworkAttachmentDefinition lookup.
/// - Interface names follow the kernel's rule (`InterfaceName`) in both forms. Multus checks the
///   comma form only, and lets ':' through, which the kernel refuses; it lets a NUL through in the
///   JSON form, which Go then refuses at exec.
/// - `null` list elements (a nil-pointer panic in Multus), `null` or empty `default-route`
///   entries (nil IPs in Multus) and `null` port mappings are refused.
/// - Two elements asking for the same interface are refused; Multus lets the second delegate fail.
public enum NetworkSelection {
    public static let annotation = "k8s.v1.cni.cncf.io/networks"

    /// Parses both forms: a JSON list of selection elements, or the comma form
    /// `[namespace/]name[@interface], ...`. As in Multus, text containing `[`, `{` or `"` is read
    /// as JSON; other text is the comma form, each item and each part trimmed of whitespace.
    /// Empty text means no networks.
    ///
    /// Throws the first problem found, naming the element and what is wrong with it.
    public static func parse(_ text: String, podNamespace: Namespace) throws(NetworkSelectionError) -> [NetworkSelectionElement] {
        if text.isEmpty { return [] }
        let looksLikeJSON = text.utf8.contains { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "\"") }
        let elements = looksLikeJSON
            ? try parseJSONForm(text, podNamespace: podNamespace)
            : try parseCommaForm(text, podNamespace: podNamespace)
        try requireDistinctInterfaces(elements)
        return elements
    }

    // MARK: - Comma form

    private static let commaFormShape = "expected [namespace/]name[@interface]"

    /// Mirrors `parsePodNetworkObjectName`: one '/' and one '@' at most, parts trimmed.
    private static func parseCommaForm(_ text: String, podNamespace: Namespace) throws(NetworkSelectionError) -> [NetworkSelectionElement] {
        var elements: [NetworkSelectionElement] = []
        for (position, rawItem) in split(text[...], at: ",").enumerated() {
            let item = trimmed(rawItem)
            func failure(_ reason: String) -> NetworkSelectionError {
                NetworkSelectionError(position: position, element: item, reason: reason)
            }
            guard !item.isEmpty else {
                throw NetworkSelectionError(position: position, reason: "empty item (a doubled or trailing comma?)")
            }
            let slashParts = split(item[...], at: "/")
            guard slashParts.count <= 2 else { throw failure("more than one '/'; \(commaFormShape)") }
            let namespace = slashParts.count == 2 ? trimmed(slashParts[0]) : ""
            let atParts = split(slashParts[slashParts.count - 1], at: "@")
            guard atParts.count <= 2 else { throw failure("more than one '@'; \(commaFormShape)") }
            let name = trimmed(atParts[0])
            let interface = atParts.count == 2 ? trimmed(atParts[1]) : ""

            guard !name.isEmpty else { throw failure("no network name; \(commaFormShape)") }
            if !namespace.isEmpty, let problem = namespaceProblem(namespace) { throw failure(problem) }
            if let problem = nameProblem(name) { throw failure(problem) }
            let interfaceName = interface.isEmpty ? nil : try interfaceName(interface, failure)
            elements.append(NetworkSelectionElement(
                name: try named(name, NetworkName.init, failure), namespace: namespace.isEmpty ? podNamespace : try named(namespace, Namespace.init, failure),
                interfaceRequest: interfaceName, position: position))
        }
        return elements
    }

    /// Go's `strings.Split` on an ASCII separator: by bytes, so that a combining mark after the
    /// separator does not hide it (as splitting by `Character` would).
    private static func split(_ text: Substring, at separator: Unicode.Scalar) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: separator), omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// Go's `strings.TrimSpace`: Unicode White_Space at both ends.
    private static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(Substring(scalars[first...last]))
    }

    // MARK: - JSON form

    private static func parseJSONForm(_ text: String, podNamespace: Namespace) throws(NetworkSelectionError) -> [NetworkSelectionElement] {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            let startsAsList = trimmed(text[...]).hasPrefix("[")
            let hint = startsAsList ? "" : " (read as JSON because it contains '[', '{' or '\"')"
            // The parser may quote a key; keep the message short whatever the input.
            throw NetworkSelectionError(reason: Echo.clipped("\(error)") + hint)
        }
        guard let list = document.arrayValue else {
            throw NetworkSelectionError(reason: "must be a JSON list of network selection objects, found \(document.kindName)")
        }
        var elements: [NetworkSelectionElement] = []
        for (position, value) in list.enumerated() {
            elements.append(try element(value, position: position, podNamespace: podNamespace))
        }
        return elements
    }

    /// Mirrors Go's decoding of one `NetworkSelectionElement`, then Multus's checks on it.
    private static func element(_ value: JSONValue, position: Int, podNamespace: Namespace) throws(NetworkSelectionError) -> NetworkSelectionElement {
        guard let object = value.objectValue else {
            throw NetworkSelectionError(position: position, reason: "must be an object, found \(value.kindName)")
        }
        var reader = GoFields(object: object, position: position)
        guard let name = try reader.string("name") else { throw reader.failure("\"name\" is missing or empty") }
        reader.label = name
        if let problem = nameProblem(name) { throw reader.failure(problem) }

        let namespace = try reader.string("namespace")
        if let namespace, let problem = namespaceProblem(namespace) { throw reader.failure(problem) }

        // Multus: the legacy key counts only when "interface" is empty.
        let legacyInterface = try reader.string("interfaceRequest")
        let interface = try (reader.string("interface") ?? legacyInterface).map { (text) throws(NetworkSelectionError) in
            try interfaceName(text, reader.failure)
        }

        let ips = try reader.strings("ips") ?? []
        for (i, ip) in ips.enumerated() {
            let valid = ip.contains("/") ? IPPrefix(ip) != nil : IPAddress(ip) != nil
            if !valid { throw reader.failure("ips[\(i)] \(quoted(ip)) is not an IP address or CIDR") }
        }

        let mac = try reader.string("mac")
        if let mac, !isHardwareAddress(mac) { throw reader.failure("mac \(quoted(mac)) is not a MAC address") }

        let guid = try reader.string("infiniband-guid")
        if let guid, !isHardwareAddress(guid) {
            throw reader.failure("infiniband-guid \(quoted(guid)) is not a valid GUID (expected hex bytes separated by ':', '-' or '.')")
        }

        let defaultRoute = try reader.strings("default-route")?.enumerated().map { (i, text) throws(NetworkSelectionError) in
            guard let gateway = IPAddress(text) else { throw reader.failure("default-route[\(i)] \(quoted(text)) is not an IP address") }
            return gateway
        }

        let portMappings = try reader.array("portMappings")
        for (i, entry) in (portMappings ?? []).enumerated() {
            try reader.requireStruct(entry, path: "portMappings[\(i)]", portMapFields)
        }
        let bandwidth = try reader.object("bandwidth")
        if let bandwidth { try reader.requireStruct(.object(bandwidth), path: "bandwidth", bandwidthFields) }

        let failure = { (reason: String) in reader.failure(reason) }
        return NetworkSelectionElement(
            name: try named(name, NetworkName.init, failure), namespace: try namespace.map { (text) throws(NetworkSelectionError) in try named(text, Namespace.init, failure) } ?? podNamespace,
            interfaceRequest: interface, ips: ips, mac: mac,
            defaultRoute: defaultRoute, portMappings: portMappings.map(JSONValue.array),
            bandwidth: bandwidth.map(JSONValue.object), cniArgs: try reader.object("cni-args"),
            infinibandGUID: guid, deviceID: try reader.string("deviceID"), position: position)
    }

    /// Multus's `PortMapEntry` and `BandwidthEntry`: Go would refuse other kinds for these keys.
    private static let portMapFields: [(String, GoFields.Kind)] =
        [("hostPort", .integer), ("containerPort", .integer), ("protocol", .string), ("hostIP", .string)]
    private static let bandwidthFields: [(String, GoFields.Kind)] =
        [("ingressRate", .integer), ("ingressBurst", .integer), ("egressRate", .integer), ("egressBurst", .integer)]

    // MARK: - Across elements

    private static func requireDistinctInterfaces(_ elements: [NetworkSelectionElement]) throws(NetworkSelectionError) {
        var firstRequest: [InterfaceName: NetworkSelectionElement] = [:]
        for element in elements {
            guard let interface = element.interfaceRequest else { continue }
            if let first = firstRequest[interface] {
                throw NetworkSelectionError(
                    position: element.position, element: element.label,
                    reason: "interface \(quoted(interface.text)) is also requested by element \(first.position) (\(quoted(first.label)))")
            }
            firstRequest[interface] = element
        }
    }

    // MARK: - Validation rules

    /// A Kubernetes namespace: a DNS-1123 label.
    static func namespaceProblem(_ namespace: String) -> String? { NameRules.dns1123LabelProblem(namespace, what: "namespace") }

    /// A NetworkAttachmentDefinition name: a DNS-1123 subdomain, as for any custom resource.
    static func nameProblem(_ name: String) -> String? { NameRules.dns1123SubdomainProblem(name, what: "network name") }

    /// `text` as its type, once the rule above passed: a rule of the type's own cannot differ silently.
    private static func named<Name>(_ text: String, _ make: (String) throws(NameError) -> Name,
                                    _ failure: (String) -> NetworkSelectionError) throws(NetworkSelectionError) -> Name {
        do { return try make(text) } catch { throw failure(error.reason) }
    }

    /// The kernel's rule (`InterfaceName`): a NUL, a '/' or a name over 15 bytes never reaches CNI_IFNAME.
    private static func interfaceName(_ interface: String, _ failure: (String) -> NetworkSelectionError) throws(NetworkSelectionError) -> InterfaceName {
        do { return try InterfaceName(interface) } catch { throw failure("interface name \(error.reason)") }
    }

    /// What Go's `net.ParseMAC` accepts: 6, 8 or 20 bytes as two-digit hex groups separated by
    /// ':' or '-' (one separator throughout), or four-digit groups separated by '.'.
    static func isHardwareAddress(_ text: String) -> Bool {
        let s = Array(text.utf8)
        func hex(_ c: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(c)
        }
        /// Two hex digits at `i`, then `separator` unless the text ends there.
        func group(at i: Int, separator: UInt8) -> Bool {
            hex(s[i]) && hex(s[i + 1]) && (i + 2 == s.count || s[i + 2] == separator)
        }
        guard s.count >= 14 else { return false }
        let sizes: Set = [6, 8, 20]
        if s[2] == UInt8(ascii: ":") || s[2] == UInt8(ascii: "-") {
            guard (s.count + 1) % 3 == 0, sizes.contains((s.count + 1) / 3) else { return false }
            return stride(from: 0, to: s.count, by: 3).allSatisfy { group(at: $0, separator: s[2]) }
        }
        if s[4] == UInt8(ascii: ".") {
            guard (s.count + 1) % 5 == 0, sizes.contains(2 * (s.count + 1) / 5) else { return false }
            return stride(from: 0, to: s.count, by: 5).allSatisfy { hex(s[$0]) && hex(s[$0 + 1]) && group(at: $0 + 2, separator: s[4]) }
        }
        return false
    }

    // MARK: - Messages

    /// Input in messages is quoted as everywhere else (`Echo`): escaped, and bounded.
    static func quoted(_ text: String) -> String { Echo.quoted(text) }
}

/// One JSON object as Go's `encoding/json` decodes it into a struct: keys match field names
/// case-insensitively, a kind mismatch on any matching key is an error, and `null` leaves a
/// string alone but clears a slice, map or pointer.
private struct GoFields {
    enum Kind { case integer, string }

    let object: JSONObject
    let position: Int
    /// The element's name, once known, for messages.
    var label: String?

    func failure(_ reason: String) -> NetworkSelectionError {
        NetworkSelectionError(position: position, element: label, reason: reason)
    }

    /// Every value whose key matches `field` as Go folds names, in document order.
    func matches(_ field: String, in object: JSONObject? = nil) -> [JSONValue] {
        let folded = GoFields.fold(field)
        return (object ?? self.object).filter { GoFields.fold($0.key) == folded }.map(\.value)
    }

    /// Go's `foldName`: ASCII upper case, and the four non-ASCII letters whose simple case
    /// folding lands on an ASCII one (ſ, K (Kelvin), ı, İ).
    static func fold(_ key: String) -> String {
        String(String.UnicodeScalarView(key.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar.value {
            case 0x61...0x7A: Unicode.Scalar(scalar.value - 0x20)!
            case 0x017F: "S"
            case 0x212A: "K"
            case 0x0131, 0x0130: "I"
            default: scalar
            }
        }))
    }

    private func mismatch(_ path: String, _ expected: String, _ found: JSONValue) -> NetworkSelectionError {
        failure("\(path) must be \(expected), found \(found.kindName)")
    }

    /// The last non-null string; "" counts as absent (Go's zero value).
    func string(_ field: String) throws(NetworkSelectionError) -> String? {
        var result: String?
        for value in matches(field) {
            switch value {
            case .null: continue
            case .string(let s): result = s
            default: throw mismatch(field, "a string", value)
            }
        }
        return result?.isEmpty == false ? result : nil
    }

    /// The last match; `null` means absent.
    private func last(_ field: String, kind: String, _ accept: (JSONValue) -> Bool) throws(NetworkSelectionError) -> JSONValue? {
        let values = matches(field)
        for value in values where value != .null && !accept(value) { throw mismatch(field, kind, value) }
        guard let last = values.last, last != .null else { return nil }
        return last
    }

    func array(_ field: String) throws(NetworkSelectionError) -> [JSONValue]? {
        try last(field, kind: "an array", { $0.arrayValue != nil })?.arrayValue
    }

    func object(_ field: String) throws(NetworkSelectionError) -> JSONObject? {
        try last(field, kind: "an object", { $0.objectValue != nil })?.objectValue
    }

    func strings(_ field: String) throws(NetworkSelectionError) -> [String]? {
        guard let values = try array(field) else { return nil }
        var strings: [String] = []
        for (i, value) in values.enumerated() {
            guard let s = value.stringValue else { throw mismatch("\(field)[\(i)]", "a string", value) }
            strings.append(s)
        }
        return strings
    }

    /// `value` must be an object whose listed fields, where present, have the given kinds.
    func requireStruct(_ value: JSONValue, path: String, _ fields: [(String, Kind)]) throws(NetworkSelectionError) {
        guard let object = value.objectValue else { throw mismatch(path, "an object", value) }
        for (field, kind) in fields {
            for value in matches(field, in: object) where value != .null {
                switch kind {
                case .integer where value.intValue == nil: throw mismatch("\(path).\(field)", "an integer", value)
                case .string where value.stringValue == nil: throw mismatch("\(path).\(field)", "a string", value)
                default: continue
                }
            }
        }
    }
}
