// Name resolution without NSS. A static glibc binary's getaddrinfo() dlopen()s the host's
// libnss_*.so for names, which must match the glibc we were built with; we are copied onto
// arbitrary hosts, so we read /etc/hosts and /etc/resolv.conf and speak DNS ourselves.
import System

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
    /// - Throws: `ResolveError` naming the host and what each source said.
    public func resolve(_ host: String, port: Int) throws(ResolveError) -> [SocketAddress] {
        if let literal = SocketAddress(literal: host, port: port) { return [literal] }
        let deadline = ContinuousClock.now + timeout
        if host.contains(":") || host.contains("%") || host.contains("[") {
            let zone = host.contains("%") ? " (IPv6 zone identifiers are not supported)" : ""
            throw ResolveError(host: host, reason: "not a valid IP address\(zone)")
        }
        guard DNSName(host) != nil else {
            throw ResolveError(
                host: host, reason: "not a valid host name (empty label, label over 63 bytes or name over 253)")
        }

        let hosts = HostsFile.lookup(host, path: hostsFile)
        if case .found(let found) = hosts {
            return Self.ordered(found.map { SocketAddress(family: $0.family, bytes: $0.bytes, port: port) })
        }
        let configuration = ResolvConf.load(resolvConf)
        guard nameservers?.isEmpty != true else {
            throw ResolveError(host: host, reason: "\(hosts); no nameservers to ask")
        }

        var search = DNSSearch(servers: nameservers, configuration: configuration, deadline: deadline, budget: timeout)
        for name in Self.searchNames(for: host, domains: configuration.search, ndots: configuration.ndots) {
            if let found = search.lookup(name) {
                return Self.ordered(found.map { SocketAddress(family: $0.family, bytes: $0.bytes, port: port) })
            }
        }
        throw ResolveError(host: host, reason: "\(hosts); \(search.summary)")
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
    do { return .text(String(decoding: try Files.read(path, limit: 16 << 20), as: UTF8.self)) } catch {
        return .unreadable(error.errno.description)
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

/// The sockets (System's: non-blocking, close-on-exec), every wait bounded by a deadline.
private enum DNSTransport {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// "recv: Connection refused": the call and its errno.
        static func system(_ error: SystemError) -> Failure { Failure(description: error.description) }
    }

    /// Sends one query per type and collects the answers that match until each type has one, a
    /// name error ends the question, or `deadline` passes (types without an answer are absent).
    static func udp(
        _ server: SocketAddress, _ name: DNSName, _ types: [DNSRecordType],
        until deadline: ContinuousClock.Instant, grace: Duration
    ) -> Result<[DNSRecordType: DNSAnswer], Failure> {
        // Connected: the kernel drops datagrams from anyone else and reports ICMP refusals.
        let socket: Socket
        do { socket = try Socket.connectUDP(server) } catch { return .failure(.system(error)) }
        var ids: [DNSRecordType: UInt16] = [:]
        for type in types {
            var id = UInt16.random(in: .min ... .max)
            while ids.values.contains(id) { id = UInt16.random(in: .min ... .max) }
            ids[type] = id
            let query = DNSMessage.query(id: id, name: name, type: type)
            do {
                let sent = try socket.send(query)
                guard sent == query.count else {
                    return .failure(.system(SystemError("send", errno: sent == nil ? .resourceTemporarilyUnavailable : .messageTooLong)))
                }
            } catch {
                return .failure(.system(error))
            }
        }
        var answers: [DNSRecordType: DNSAnswer] = [:]
        var deadline = deadline
        var packet = [UInt8](repeating: 0, count: 65536)
        while answers.count < types.count, !answers.values.contains(.nameError) {
            do {
                guard try socket.wait(for: .readable, until: deadline) else { break }
                while let count = try socket.receive(into: &packet) {
                    let received = Array(packet[0..<count])
                    for type in types where answers[type] == nil {
                        if let id = ids[type], let answer = DNSMessage.answer(received, id: id, name: name, type: type) {
                            answers[type] = answer
                            if case .addresses = answer { deadline = min(deadline, .now + grace) }
                        }
                    }
                }
            } catch {
                return .failure(.system(error))
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
        let socket: Socket
        do { socket = try Socket.connectTCP(server, deadline: deadline) } catch {
            switch error {
            case .failed(let failure): return .failure(.system(failure))
            case .timedOut: return .failure(Failure(description: "connect timed out"))
            }
        }
        let id = UInt16.random(in: .min ... .max)
        let query = DNSMessage.query(id: id, name: name, type: type)
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        if let failure = write(socket, framed, until: deadline) { return .failure(failure) }
        let prefix: [UInt8]
        switch read(socket, count: 2, until: deadline) {
        case .failure(let failure): return .failure(failure)
        case .success(let bytes): prefix = bytes
        }
        switch read(socket, count: Int(prefix[0]) << 8 | Int(prefix[1]), until: deadline) {
        case .failure(let failure): return .failure(failure)
        case .success(let message):
            guard let answer = DNSMessage.answer(message, id: id, name: name, type: type) else {
                return .failure(Failure(description: "the answer does not match the query"))
            }
            return .success(answer)
        }
    }

    private static func write(_ socket: Socket, _ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> Failure? {
        var offset = 0
        do {
            while offset < bytes.count {
                let count = try socket.send(bytes, from: offset)
                if let count, count > 0 {
                    offset += count
                } else if try !socket.wait(for: .writable, until: deadline) {
                    return Failure(description: "send timed out")
                }
            }
        } catch {
            return .system(error)
        }
        return nil
    }

    private static func read(_ socket: Socket, count: Int, until deadline: ContinuousClock.Instant) -> Result<[UInt8], Failure> {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        do {
            while offset < count {
                let received = try socket.receive(into: &bytes, at: offset)
                if let received, received > 0 {
                    offset += received
                } else if received == 0 {
                    return .failure(Failure(description: "connection closed after \(offset) of \(count) bytes"))
                } else if try !socket.wait(for: .readable, until: deadline) {
                    return .failure(Failure(description: "no answer in time"))
                }
            }
        } catch {
            return .failure(.system(error))
        }
        return .success(bytes)
    }
}
