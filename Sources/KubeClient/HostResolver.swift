// Name resolution without NSS. A static glibc binary's getaddrinfo() dlopen()s the host's
// libnss_*.so for names, which must match the glibc we were built with; we are copied onto
// arbitrary hosts, so we read /etc/hosts and /etc/resolv.conf and speak DNS ourselves.
import CNI
import Glibc

/// An IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable { case v4, v6 }

    public var family: Family
    /// The address in network order: 4 bytes for `.v4`, 16 for `.v6`.
    public var bytes: [UInt8]
    public var port: Int

    public init(family: Family, bytes: [UInt8], port: Int) {
        self.family = family
        self.bytes = bytes
        self.port = port
    }

    /// An IP literal as it appears in a URL host or a config: "10.0.0.1", "fd00::1", "[fd00::1]",
    /// "[10.0.0.1]". Nil for anything else, including IPv6 zone identifiers ("fe80::1%eth0"):
    /// a socket address here carries no scope, so a link-local literal cannot be honoured.
    public init?(literal: String, port: Int) {
        var text = Substring(literal)
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count >= 2 else { return nil }
            text = text.dropFirst().dropLast()
        }
        guard let (family, bytes) = Self.parse(String(text)) else { return nil }
        self.init(family: family, bytes: bytes, port: port)
    }

    /// "10.0.0.1:443", "[fd00::1]:6443".
    public var description: String {
        family == .v4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }

    /// The address alone, as inet_ntop writes it ("10.0.0.1", "fd00::1").
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written: Bool = bytes.withUnsafeBytes { raw in
            guard raw.count == (family == .v4 ? 4 : 16), let base = raw.baseAddress else { return false }
            return inet_ntop(family == .v4 ? AF_INET : AF_INET6, base, &text, socklen_t(text.count)) != nil
        }
        guard written else { return "<invalid address>" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with a filled `sockaddr_in` or `sockaddr_in6` and its length, for connect().
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        let networkPort = UInt16(truncatingIfNeeded: port).bigEndian
        switch family {
        case .v4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = networkPort
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: bytes.prefix(4)) }
            return try withUnsafePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = networkPort
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes.prefix(16)) }
            return try withUnsafePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// inet_pton in both families: the strict dotted quad, or RFC 4291 text.
    static func parse(_ text: String) -> (Family, [UInt8])? {
        var buffer = in6_addr()
        if text.withCString({ inet_pton(AF_INET, $0, &buffer) }) == 1 {
            return (.v4, withUnsafeBytes(of: buffer) { Array($0.prefix(4)) })
        }
        if text.withCString({ inet_pton(AF_INET6, $0, &buffer) }) == 1 {
            return (.v6, withUnsafeBytes(of: buffer) { Array($0.prefix(16)) })
        }
        return nil
    }
}

/// Turns a server's host into addresses to connect to, the way glibc's getaddrinfo() would with
/// `hosts: files dns` in nsswitch.conf, but without NSS.
public struct HostResolver: Sendable {
    public var hostsFile: String = "/etc/hosts"
    public var resolvConf: String = "/etc/resolv.conf"
    /// Overrides the resolv.conf nameservers (tests use 127.0.0.1 on a random port).
    public var nameservers: [SocketAddress]? = nil
    /// The total budget for one `resolve` call, every server and search domain included.
    public var timeout: Duration = .seconds(5)

    public init(
        hostsFile: String = "/etc/hosts", resolvConf: String = "/etc/resolv.conf",
        nameservers: [SocketAddress]? = nil, timeout: Duration = .seconds(5)
    ) {
        self.hostsFile = hostsFile
        self.resolvConf = resolvConf
        self.nameservers = nameservers
        self.timeout = timeout
    }

    /// The addresses of `host` with `port`, IPv4 first, then IPv6.
    ///
    /// IP literals come back as they are. Otherwise the hosts file decides when it names the host
    /// (every matching line, case-insensitively, aliases included). Otherwise DNS: A and AAAA over
    /// UDP to each nameserver in turn (the next one on a timeout, a refused port, SERVFAIL or
    /// REFUSED), over TCP when an answer is truncated. Search domains and `ndots` apply as in
    /// glibc's res_search: a name with at least `ndots` dots is tried as-is first, one with fewer
    /// last, and a trailing dot makes it absolute; NXDOMAIN or an empty answer moves on to the
    /// next candidate. Zone identifiers ("fe80::1%eth0") are rejected.
    ///
    /// - Throws: `KubeError.resolve` naming the host and what each source said.
    public func resolve(_ host: String, port: Int) throws(KubeError) -> [SocketAddress] {
        if let literal = SocketAddress(literal: host, port: port) { return [literal] }
        let deadline = ContinuousClock.now + timeout
        if host.contains(":") || host.contains("%") || host.contains("[") {
            let zone = host.contains("%") ? " (IPv6 zone identifiers are not supported)" : ""
            throw .resolve(host: host, reason: "not a valid IP address\(zone)")
        }
        guard DNSName(host) != nil else {
            throw .resolve(
                host: host, reason: "not a valid host name (empty label, label over 63 bytes or name over 253)")
        }

        let hosts = HostsFile.lookup(host, path: hostsFile)
        if case .found(let found) = hosts {
            return Self.ordered(found.map { SocketAddress(family: $0.family, bytes: $0.bytes, port: port) })
        }
        let configuration = ResolvConf.load(resolvConf)
        guard nameservers?.isEmpty != true else {
            throw .resolve(host: host, reason: "\(hosts); no nameservers to ask")
        }

        var search = DNSSearch(servers: nameservers, configuration: configuration, deadline: deadline, budget: timeout)
        for name in Self.searchNames(for: host, domains: configuration.search, ndots: configuration.ndots) {
            if let found = search.lookup(name) {
                return Self.ordered(found.map { SocketAddress(family: $0.family, bytes: $0.bytes, port: port) })
            }
        }
        throw .resolve(host: host, reason: "\(hosts); \(search.summary)")
    }

    /// The names to ask DNS for, in order. Mirrors glibc res_search: an absolute name (trailing dot)
    /// alone; otherwise the name as-is first when it has at least `ndots` dots, then the name under
    /// each search domain, then the name as-is if not tried yet. Candidates too long to be a domain
    /// name are left out.
    static func searchNames(for host: String, domains: [String], ndots: Int) -> [DNSName] {
        if host.hasSuffix(".") { return DNSName(host).map { [$0] } ?? [] }
        let dots = host.utf8.count { $0 == UInt8(ascii: ".") }
        var candidates: [String] = []
        if dots >= ndots { candidates.append(host) }
        for domain in domains {
            var suffix = Substring(domain)
            while suffix.hasSuffix(".") { suffix = suffix.dropLast() }
            if !suffix.isEmpty { candidates.append("\(host).\(suffix)") }
        }
        if dots < ndots { candidates.append(host) }
        var seen = Set<DNSName>()
        return candidates.compactMap(DNSName.init).filter { seen.insert($0).inserted }
    }

    /// IPv4 before IPv6, each in the order found, without repeats.
    private static func ordered(_ addresses: [SocketAddress]) -> [SocketAddress] {
        var seen = Set<SocketAddress>()
        return (addresses.filter { $0.family == .v4 } + addresses.filter { $0.family == .v6 }).filter {
            seen.insert($0).inserted
        }
    }
}

// MARK: - Files

/// An address read from a hosts file.
struct HostsEntry: Sendable, Hashable {
    var family: SocketAddress.Family
    var bytes: [UInt8]
}

/// /etc/hosts as glibc's files backend reads it for getaddrinfo(AF_UNSPEC).
enum HostsFile {
    /// What the hosts file said about a name; the description is what an error reports.
    enum Lookup: CustomStringConvertible {
        case found([HostsEntry])
        case absent(path: String)
        case unreadable(path: String, reason: String)

        var description: String {
            switch self {
            case .found(let entries): "\(entries.count) address(es) in the hosts file"
            case .absent(let path): "not in \(path)"
            case .unreadable(let path, let reason): "\(path) unreadable (\(reason))"
            }
        }
    }

    static func lookup(_ host: String, path: String) -> Lookup {
        switch readTextFile(path) {
        case .unreadable(let reason): return .unreadable(path: path, reason: reason)
        case .text(let text):
            let found = addresses(of: host, in: text)
            return found.isEmpty ? .absent(path: path) : .found(found)
        }
    }

    /// Every address whose line names `host` (canonical name or alias, ASCII case-insensitive, a
    /// trailing dot ignored), in file order. `#` starts a comment; malformed lines and addresses
    /// with a zone are skipped.
    static func addresses(of host: String, in text: String) -> [HostsEntry] {
        var wanted = Substring(host)
        if wanted.hasSuffix(".") { wanted = wanted.dropLast() }
        let key = wanted.lowercased()
        var found: [HostsEntry] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let content = line.prefix { $0 != "#" }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard fields.count >= 2, let (family, bytes) = SocketAddress.parse(String(fields[0])) else { continue }
            if fields.dropFirst().contains(where: { $0.lowercased() == key }) {
                found.append(HostsEntry(family: family, bytes: bytes))
            }
        }
        return found
    }
}

/// The parts of resolv.conf(5) we honour: `nameserver`, `search`, `domain`, and `options`
/// `ndots:`, `timeout:`, `attempts:`, with glibc's limits and defaults. Lines starting with `#` or
/// `;` are comments, and so is the rest of a line from a word starting with either.
struct ResolvConf: Sendable, Hashable {
    /// glibc's MAXNS: later nameserver lines are ignored.
    static let maxNameservers = 3

    var nameservers: [SocketAddress] = []
    var search: [String] = []
    var ndots = 1
    /// The wait for one server's answer (glibc's RES_TIMEOUT, capped at 30 seconds).
    var timeout: Duration = .seconds(5)
    /// Rounds over the server list (glibc's RES_DFLRETRY, capped at 5).
    var attempts = 2
    /// Why the file could not be read, if it could not (the defaults apply then).
    var problem: String? = nil

    /// Reads `path`; a missing or unreadable file means glibc's defaults (the local host).
    static func load(_ path: String) -> ResolvConf {
        switch readTextFile(path) {
        case .text(let text): return ResolvConf(parsing: text)
        case .unreadable(let reason):
            var defaults = ResolvConf(parsing: "")
            defaults.problem = "\(path): \(reason)"
            return defaults
        }
    }

    init(parsing text: String) {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                .prefix { !$0.hasPrefix("#") && !$0.hasPrefix(";") }
            guard let keyword = words.first else { continue }
            let arguments = words.dropFirst().map(String.init)
            switch keyword {
            case "nameserver":
                if nameservers.count < Self.maxNameservers, let text = arguments.first,
                    let (family, bytes) = SocketAddress.parse(text)
                {
                    nameservers.append(SocketAddress(family: family, bytes: bytes, port: 53))
                }
            case "search": search = arguments
            case "domain": search = Array(arguments.prefix(1))
            case "options": arguments.forEach { apply(option: $0) }
            default: continue
            }
        }
        if nameservers.isEmpty { nameservers = [SocketAddress(family: .v4, bytes: [127, 0, 0, 1], port: 53)] }
    }

    private mutating func apply(option: String) {
        let parts = option.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let value = Int(parts[1]), value >= 0 else { return }
        switch parts[0] {
        case "ndots": ndots = min(value, 15)
        case "timeout": timeout = .seconds(min(max(value, 1), 30))
        case "attempts": attempts = min(max(value, 1), 5)
        default: return
        }
    }
}

/// A small text file's content, or why it could not be read.
private enum FileText {
    case text(String)
    case unreadable(String)
}

/// The whole of a small text file (capped at 16 MiB: a hosts file, not a disk).
private func readTextFile(_ path: String) -> FileText {
    do { return .text(String(decoding: try Platform.readFile(path, limit: 16 << 20), as: UTF8.self)) } catch {
        return .unreadable(Platform.describe(errno: error.errno))
    }
}

// MARK: - DNS lookups

/// One `resolve` call's walk over candidate names and servers, remembering what each said.
private struct DNSSearch {
    /// Once one family has answered with addresses, how long the other is still waited for
    /// (some resolvers drop AAAA queries; one family is enough to connect).
    static let otherFamilyGrace: Duration = .milliseconds(500)

    let servers: [SocketAddress]
    let configuration: ResolvConf
    let deadline: ContinuousClock.Instant
    let budget: Duration
    /// Whether `servers` came from resolv.conf (so its problems explain them).
    let usesConfiguredServers: Bool
    /// Per candidate name, what stopped it (in order of asking).
    private var outcomes: [(name: DNSName, outcome: String)] = []
    private var skipped: [DNSName] = []

    init(servers: [SocketAddress]?, configuration: ResolvConf, deadline: ContinuousClock.Instant, budget: Duration) {
        self.servers = servers ?? configuration.nameservers
        self.usesConfiguredServers = servers == nil
        self.configuration = configuration
        self.deadline = deadline
        self.budget = budget
    }

    /// The addresses of `name`, or nil after recording why there are none.
    mutating func lookup(_ name: DNSName) -> [HostsEntry]? {
        guard ContinuousClock.now < deadline else {
            skipped.append(name)
            return nil
        }
        var failures: [String] = []
        let tries = servers.count * configuration.attempts
        for attempt in 0..<tries {
            let now = ContinuousClock.now
            guard now < deadline else { break }
            let remaining = deadline - now
            let share = remaining / (tries - attempt)
            let wait = min(configuration.timeout, remaining, max(share, .milliseconds(500)))
            let server = servers[attempt % servers.count]
            switch ask(server, name, until: now + wait) {
            case .found(let entries): return entries
            case .final(let reason):
                outcomes.append((name, reason))
                return nil
            case .retry(let reason): if !failures.contains(reason) { failures.append(reason) }
            }
        }
        outcomes.append((name, failures.isEmpty ? "no time left to ask" : failures.joined(separator: " and ")))
        return nil
    }

    /// "DNS 10.96.0.10: NXDOMAIN for a, b; no A or AAAA records for c".
    var summary: String {
        var groups: [(outcome: String, names: [String])] = []
        for (name, outcome) in outcomes {
            if let index = groups.firstIndex(where: { $0.outcome == outcome }) {
                groups[index].names.append(name.description)
            } else {
                groups.append((outcome, [name.description]))
            }
        }
        var parts = groups.map { "\($0.outcome) for \($0.names.joined(separator: ", "))" }
        if !skipped.isEmpty {
            parts.append("not tried within the \(budget) budget: \(skipped.map(\.description).joined(separator: ", "))")
        }
        let asked = servers.map(Self.name).joined(separator: ", ")
        let defaults = usesConfiguredServers ? configuration.problem.map { " (default, \($0))" } ?? "" : ""
        return "DNS \(asked)\(defaults): \(parts.joined(separator: "; "))"
    }

    private enum Verdict {
        case found([HostsEntry])
        /// The name has no addresses (NXDOMAIN, or neither A nor AAAA): next candidate.
        case final(String)
        /// This server did not settle it: next server.
        case retry(String)
    }

    /// A and AAAA for `name` from one server, in parallel over one UDP socket (as glibc does),
    /// truncated answers asked again over TCP.
    private func ask(_ server: SocketAddress, _ name: DNSName, until deadline: ContinuousClock.Instant) -> Verdict {
        let types: [DNSRecordType] = [.a, .aaaa]
        var answers: [DNSRecordType: DNSAnswer]
        switch DNSTransport.udp(server, name, types, until: deadline, grace: Self.otherFamilyGrace) {
        case .failure(let error): return .retry("error talking to \(Self.name(server)) (\(error))")
        case .success(let received): answers = received
        }
        for type in types where answers[type] == .truncated {
            switch DNSTransport.tcp(server, name, type, until: deadline) {
            case .failure(let error): answers[type] = .malformed("truncated, and over TCP: \(error)")
            case .success(let answer): answers[type] = answer == .truncated ? .malformed("truncated over TCP") : answer
            }
        }
        return Self.verdict(types.map { answers[$0] }, types: types, server: server)
    }

    private static func verdict(_ answers: [DNSAnswer?], types: [DNSRecordType], server: SocketAddress) -> Verdict {
        var entries: [HostsEntry] = []
        for (type, answer) in zip(types, answers) {
            if case .addresses(let found) = answer, let family = type.family {
                entries += found.map { HostsEntry(family: family, bytes: $0) }
            }
        }
        if !entries.isEmpty { return .found(entries) }
        if answers.contains(.nameError) { return .final("NXDOMAIN") }
        if answers.allSatisfy({ $0 == .noData }) { return .final("no A or AAAA records") }
        for answer in answers {
            switch answer {
            case .serverFailure(let rcode): return .retry("\(rcodeName(rcode)) from \(name(server))")
            case .malformed(let reason): return .retry("bad answer from \(name(server)) (\(reason))")
            default: continue
            }
        }
        return .retry("no answer from \(name(server))")
    }

    /// "10.96.0.10" for the usual port, "127.0.0.1:5353" otherwise.
    private static func name(_ server: SocketAddress) -> String {
        server.port == 53 ? server.host : server.description
    }

    private static func rcodeName(_ rcode: UInt8) -> String {
        switch rcode {
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "RCODE \(rcode)"
        }
    }
}

/// The sockets: non-blocking, close-on-exec, bounded by a deadline.
private enum DNSTransport {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        static func errno(_ call: String, _ code: Int32) -> Failure {
            Failure(description: "\(call): \(String(cString: strerror(code)))")
        }
    }

    /// Sends one query per type and collects the answers that match until each type has one, a
    /// name error ends the question, or `deadline` passes (types without an answer are absent).
    static func udp(
        _ server: SocketAddress, _ name: DNSName, _ types: [DNSRecordType],
        until deadline: ContinuousClock.Instant, grace: Duration
    ) -> Result<[DNSRecordType: DNSAnswer], Failure> {
        let fd = openSocket(server, SOCK_DGRAM)
        guard fd >= 0 else { return .failure(.errno("socket", errno)) }
        defer { close(fd) }
        // Connected: the kernel drops datagrams from anyone else and reports ICMP refusals.
        guard server.withSockaddr({ connect(fd, $0, $1) }) == 0 else { return .failure(.errno("connect", errno)) }
        var ids: [DNSRecordType: UInt16] = [:]
        for type in types {
            var id = UInt16.random(in: .min ... .max)
            while ids.values.contains(id) { id = UInt16.random(in: .min ... .max) }
            ids[type] = id
            let query = DNSMessage.query(id: id, name: name, type: type)
            let sent = query.withUnsafeBytes { raw in retrying { send(fd, raw.baseAddress, raw.count, 0) } }
            guard sent == query.count else { return .failure(.errno("send", sent < 0 ? errno : EMSGSIZE)) }
        }
        var answers: [DNSRecordType: DNSAnswer] = [:]
        var deadline = deadline
        var packet = [UInt8](repeating: 0, count: 65536)
        while answers.count < types.count, !answers.values.contains(.nameError) {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { break }
            while true {
                let count = packet.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
                if count < 0 { return .failure(.errno("recv", errno)) }
                let received = Array(packet[0..<count])
                for type in types where answers[type] == nil {
                    if let id = ids[type], let answer = DNSMessage.answer(received, id: id, name: name, type: type) {
                        answers[type] = answer
                        if case .addresses = answer { deadline = min(deadline, .now + grace) }
                    }
                }
            }
        }
        return .success(answers)
    }

    /// One query over TCP (RFC 1035 4.2.2: each message after a two-byte length).
    static func tcp(
        _ server: SocketAddress, _ name: DNSName, _ type: DNSRecordType, until deadline: ContinuousClock.Instant
    )
        -> Result<DNSAnswer, Failure>
    {
        let fd = openSocket(server, SOCK_STREAM)
        guard fd >= 0 else { return .failure(.errno("socket", errno)) }
        defer { close(fd) }
        if server.withSockaddr({ connect(fd, $0, $1) }) != 0 {
            guard errno == EINPROGRESS else { return .failure(.errno("connect", errno)) }
            guard wait(fd, for: Int16(POLLOUT), until: deadline) else {
                return .failure(Failure(description: "connect timed out"))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
                return .failure(.errno("getsockopt", errno))
            }
            guard error == 0 else { return .failure(.errno("connect", error)) }
        }
        let id = UInt16.random(in: .min ... .max)
        let query = DNSMessage.query(id: id, name: name, type: type)
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        if let failure = write(fd, framed, until: deadline) { return .failure(failure) }
        let prefix: [UInt8]
        switch read(fd, count: 2, until: deadline) {
        case .failure(let failure): return .failure(failure)
        case .success(let bytes): prefix = bytes
        }
        switch read(fd, count: Int(prefix[0]) << 8 | Int(prefix[1]), until: deadline) {
        case .failure(let failure): return .failure(failure)
        case .success(let message):
            guard let answer = DNSMessage.answer(message, id: id, name: name, type: type) else {
                return .failure(Failure(description: "the answer does not match the query"))
            }
            return .success(answer)
        }
    }

    /// A non-blocking, close-on-exec socket of `server`'s family.
    private static func openSocket(_ server: SocketAddress, _ type: __socket_type) -> Int32 {
        let flags = Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return socket(server.family == .v4 ? AF_INET : AF_INET6, flags, 0)
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                retrying { raw.baseAddress.map { send(fd, $0 + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) } ?? 0 }
            }
            if count > 0 {
                offset += count
            } else if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
                return .errno("send", errno)
            } else if !wait(fd, for: Int16(POLLOUT), until: deadline) {
                return Failure(description: "send timed out")
            }
        }
        return nil
    }

    private static func read(_ fd: Int32, count: Int, until deadline: ContinuousClock.Instant)
        -> Result<[UInt8], Failure>
    {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = bytes.withUnsafeMutableBytes { raw in
                retrying { raw.baseAddress.map { recv(fd, $0 + offset, raw.count - offset, 0) } ?? 0 }
            }
            if received > 0 {
                offset += received
            } else if received == 0 {
                return .failure(Failure(description: "connection closed after \(offset) of \(count) bytes"))
            } else if errno != EAGAIN && errno != EWOULDBLOCK {
                return .failure(.errno("recv", errno))
            } else if !wait(fd, for: Int16(POLLIN), until: deadline) {
                return .failure(Failure(description: "no answer in time"))
            }
        }
        return .success(bytes)
    }

    /// poll() for `events` until `deadline`; false when it passed first. Errors and hangups count
    /// as ready: the following call reports them.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else { return false }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(
                seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000, Int64(Int32.max))
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(milliseconds))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    private static func retrying(_ call: () -> Int) -> Int {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}
