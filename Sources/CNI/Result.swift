/// A plugin's result in the spec's most expressive form (1.1.0). Every version parses into it and
/// serializes out of it, so conversions go through one hub instead of a converter per pair.
public struct CNIResult: Sendable, Hashable {
    /// The version the result was read in, or will be written as.
    public var cniVersion: SpecVersion
    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var routes: [Route]
    public var dns: DNS

    public init(cniVersion: SpecVersion, interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.cniVersion = cniVersion
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    public struct Interface: Sendable, Hashable {
        public var name: String
        public var mac: String?
        public var sandbox: String?
        // 1.1.0 additions.
        public var mtu: Int?
        public var socketPath: String?
        public var pciID: String?

        public init(name: String, mac: String? = nil, sandbox: String? = nil, mtu: Int? = nil, socketPath: String? = nil, pciID: String? = nil) {
            self.name = name
            self.mac = mac
            self.sandbox = sandbox
            self.mtu = mtu
            self.socketPath = socketPath
            self.pciID = pciID
        }
    }

    /// An IP config's or a route's gateway. The spec says it is an IP address, but a result has
    /// never been refused for one that is not (only `address` and `dst` are checked): its text
    /// goes on to network-status and the cache as the plugin wrote it, and still does.
    public enum Gateway: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        case address(IPAddress)
        /// Text that is not an IP address, kept verbatim.
        case unparsed(String)

        public init(_ text: String) { self = IPAddress(text).map { .address($0) } ?? .unparsed(text) }
        public init(stringLiteral text: String) { self.init(text) }

        /// The text as the plugin wrote it.
        public var text: String {
            switch self {
            case .address(let address): address.text
            case .unparsed(let text): text
            }
        }

        public var address: IPAddress? { if case .address(let address) = self { address } else { nil } }
        public var description: String { text }
    }

    public struct IPConfig: Sendable, Hashable {
        /// The interface's address with its prefix length ("10.1.0.5/16"), as the plugin wrote it.
        public var address: IPPrefix
        public var gateway: Gateway?
        /// Index into `interfaces`.
        public var interface: Int?
        public var family: IPFamily { address.family }

        public init(address: IPPrefix, gateway: Gateway? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public struct Route: Sendable, Hashable {
        public var dst: IPPrefix
        public var gw: Gateway?
        // 1.1.0 additions.
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?
        public var family: IPFamily { dst.family }

        public init(dst: IPPrefix, gw: Gateway? = nil, mtu: Int? = nil, advmss: Int? = nil, priority: Int? = nil, table: Int? = nil, scope: Int? = nil) {
            self.dst = dst
            self.gw = gw
            self.mtu = mtu
            self.advmss = advmss
            self.priority = priority
            self.table = table
            self.scope = scope
        }
    }

    public struct DNS: Sendable, Hashable {
        public var nameservers: [String] = []
        public var domain: String?
        public var search: [String] = []
        public var options: [String] = []

        public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers
            self.domain = domain
            self.search = search
            self.options = options
        }

        public var isEmpty: Bool { nameservers.isEmpty && (domain ?? "").isEmpty && search.isEmpty && options.isEmpty }
    }
}

// MARK: - Conversion

extension CNIResult {
    /// This result as another version would carry it.
    ///
    /// Upward conversion is lossless. Downward drops what the older layout has no field for
    /// (1.1.0's interface and route attributes; for 0.2.0, interfaces and all but the first
    /// address of each family, as libcni does). A result with no IP address cannot be written as
    /// 0.1.0/0.2.0, whose layout requires one: that is an error, not an empty result.
    /// - Throws: `SpecError.unconvertible`.
    public func converted(to version: SpecVersion) throws(SpecError) -> CNIResult {
        var copy = self
        copy.cniVersion = version
        if version < .v1_1_0 {
            copy.interfaces = interfaces.map { Interface(name: $0.name, mac: $0.mac, sandbox: $0.sandbox) }
            copy.routes = routes.map { Route(dst: $0.dst, gw: $0.gw) }
        }
        if version.resultFormat == .legacy {
            let first4 = ips.first { $0.family == .v4 }
            let first6 = ips.first { $0.family == .v6 }
            guard first4 != nil || first6 != nil else {
                throw .unconvertible(from: cniVersion, to: version, reason: "the result has no IP address, and \(version) results need one in ip4 or ip6")
            }
            copy.interfaces = []
            copy.ips = [first4, first6].compactMap { $0.map { IPConfig(address: $0.address, gateway: $0.gateway) } }
            copy.routes = copy.routes.filter { route in route.family == .v4 ? first4 != nil : first6 != nil }
        }
        return copy
    }
}

// MARK: - Reading

extension CNIResult {
    /// Parses a result document. The document's own `cniVersion` decides the layout; `fallback`
    /// (the config's version) applies when it has none, as libcni's fixupResultVersion does.
    /// - Throws: `SpecError` naming the field that is wrong.
    public static func parse(_ bytes: [UInt8], fallbackVersion: SpecVersion) throws(SpecError) -> CNIResult {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw .syntax(error) }
        return try CNIResult(json: value, fallbackVersion: fallbackVersion)
    }

    public init(json: JSONValue, fallbackVersion: SpecVersion, path: String = "") throws(SpecError) {
        let fields = try JSONFields(json, path: path)
        // Absent, null or empty: the config's version (libcni's fixupResultVersion).
        let declared = fields.object["cniVersion"]
        let version = declared == nil || declared == .null || declared == "" ? fallbackVersion : try fields.specVersion()
        switch version.resultFormat {
        case .legacy: try self.init(legacy: fields, version: version)
        case .interfacesWithIPVersion, .current: try self.init(modern: fields, version: version)
        }
    }

    private init(legacy fields: JSONFields, version: SpecVersion) throws(SpecError) {
        self.init(cniVersion: version)
        for (key, family) in [("ip4", IPFamily.v4), ("ip6", IPFamily.v6)] {
            guard let ip = try fields.fields(key) else { continue }
            let address = try Self.address(try ip.requiredString("ip"), family: family, path: ip.path("ip"))
            ips.append(IPConfig(address: address, gateway: try Self.gateway(ip, "gateway")))
            for route in try ip.objects("routes") { routes.append(try Self.route(route)) }
        }
        dns = try Self.dns(fields)
    }

    private init(modern fields: JSONFields, version: SpecVersion) throws(SpecError) {
        self.init(cniVersion: version)
        for interface in try fields.objects("interfaces") {
            interfaces.append(Interface(
                name: try interface.requiredString("name"), mac: try interface.string("mac"), sandbox: try interface.string("sandbox"),
                mtu: try interface.int("mtu"), socketPath: try interface.string("socketPath"), pciID: try interface.string("pciID")))
        }
        for ip in try fields.objects("ips") {
            let text = try ip.requiredString("address")
            guard let address = IPPrefix(text) else {
                throw .invalidField(path: ip.path("address"), reason: "\(Echo.quoted(text)) is not an IP address with a prefix length")
            }
            let index = try ip.int("interface")
            if let index, !interfaces.indices.contains(index) {
                throw .invalidField(path: ip.path("interface"), reason: "index \(index) does not name one of the \(interfaces.count) interfaces")
            }
            ips.append(IPConfig(address: address, gateway: try Self.gateway(ip, "gateway"), interface: index))
        }
        for route in try fields.objects("routes") { routes.append(try Self.route(route)) }
        dns = try Self.dns(fields)
    }

    /// A legacy `ip4.ip`/`ip6.ip`: an address of that family with its prefix length.
    private static func address(_ text: String, family: IPFamily, path: String) throws(SpecError) -> IPPrefix {
        guard let address = IPPrefix(text), address.family == family else {
            throw .invalidField(path: path, reason: "\(Echo.quoted(text)) is not an IPv\(family.versionString) address with a prefix length")
        }
        return address
    }

    /// A gateway is taken as written, address or not (see `Gateway`); only a non-string is refused.
    private static func gateway(_ fields: JSONFields, _ key: String) throws(SpecError) -> Gateway? {
        try fields.string(key).map { Gateway($0) }
    }

    private static func route(_ fields: JSONFields) throws(SpecError) -> Route {
        let text = try fields.requiredString("dst")
        guard let dst = IPPrefix(text) else {
            throw .invalidField(path: fields.path("dst"), reason: "\(Echo.quoted(text)) is not a network in CIDR form")
        }
        return Route(
            dst: dst, gw: try gateway(fields, "gw"), mtu: try fields.int("mtu"), advmss: try fields.int("advmss"),
            priority: try fields.int("priority"), table: try fields.int("table"), scope: try fields.int("scope"))
    }

    private static func dns(_ fields: JSONFields) throws(SpecError) -> DNS {
        guard let dns = try fields.fields("dns") else { return DNS() }
        return DNS(nameservers: try dns.strings("nameservers"), domain: try dns.string("domain"), search: try dns.strings("search"), options: try dns.strings("options"))
    }
}

// MARK: - Writing

extension CNIResult {
    /// The result in its own version's layout. Fields the layout lacks are not written, so
    /// convert first (`converted(to:)`) to change versions.
    public var json: JSONValue {
        var object = JSONObject()
        object["cniVersion"] = .string(cniVersion.description)
        switch cniVersion.resultFormat {
        case .legacy:
            for (key, family) in [("ip4", IPFamily.v4), ("ip6", IPFamily.v6)] {
                guard let ip = ips.first(where: { $0.family == family }) else { continue }
                var entry = JSONObject()
                entry["ip"] = .string(ip.address.text)
                if let gw = ip.gateway { entry["gateway"] = .string(gw.text) }
                let familyRoutes = routes.filter { $0.family == family }
                if !familyRoutes.isEmpty { entry["routes"] = .array(familyRoutes.map(routeJSON)) }
                object[key] = .object(entry)
            }
        case .interfacesWithIPVersion, .current:
            if !interfaces.isEmpty { object["interfaces"] = .array(interfaces.map(interfaceJSON)) }
            if !ips.isEmpty { object["ips"] = .array(ips.map(ipJSON)) }
            if !routes.isEmpty { object["routes"] = .array(routes.map(routeJSON)) }
        }
        object["dns"] = dns.json
        return .object(object)
    }

    public func serialized() -> String { json.serialized() }

    private var carriesAttributes: Bool { cniVersion >= .v1_1_0 }

    private func interfaceJSON(_ i: Interface) -> JSONValue {
        var o = JSONObject()
        o["name"] = .string(i.name)
        if let v = i.mac { o["mac"] = .string(v) }
        if carriesAttributes, let v = i.mtu { o["mtu"] = JSONValue(v) }
        if let v = i.sandbox { o["sandbox"] = .string(v) }
        if carriesAttributes, let v = i.socketPath { o["socketPath"] = .string(v) }
        if carriesAttributes, let v = i.pciID { o["pciID"] = .string(v) }
        return .object(o)
    }

    private func ipJSON(_ ip: IPConfig) -> JSONValue {
        var o = JSONObject()
        if cniVersion.resultFormat == .interfacesWithIPVersion { o["version"] = .string(ip.family.versionString) }
        if let i = ip.interface { o["interface"] = JSONValue(i) }
        o["address"] = .string(ip.address.text)
        if let gw = ip.gateway { o["gateway"] = .string(gw.text) }
        return .object(o)
    }

    private func routeJSON(_ r: Route) -> JSONValue {
        var o = JSONObject()
        o["dst"] = .string(r.dst.text)
        if let gw = r.gw { o["gw"] = .string(gw.text) }
        if carriesAttributes {
            for (key, value) in [("mtu", r.mtu), ("advmss", r.advmss), ("priority", r.priority), ("table", r.table), ("scope", r.scope)] {
                if let value { o[key] = JSONValue(value) }
            }
        }
        return .object(o)
    }
}

extension CNIResult.DNS {
    /// The `dns` object of a result (and of network-status): only the fields that are set.
    public var json: JSONValue {
        var o = JSONObject()
        if !nameservers.isEmpty { o["nameservers"] = .array(nameservers.map { .string($0) }) }
        if let domain, !domain.isEmpty { o["domain"] = .string(domain) }
        if !search.isEmpty { o["search"] = .array(search.map { .string($0) }) }
        if !options.isEmpty { o["options"] = .array(options.map { .string($0) }) }
        return .object(o)
    }
}
