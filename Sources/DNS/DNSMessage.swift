// DNS wire format (RFC 1035), just enough for A and AAAA lookups: one-question queries and
// bounds-checked answers. Every byte of an answer is hostile input: nothing here traps on it.
import System

/// The record types we ask for or follow.
enum DNSRecordType: UInt16, Sendable {
    case a = 1
    case cname = 5
    case aaaa = 28

    /// The `SocketAddress.Family` an address record of this type carries.
    var family: SocketAddress.Family? {
        switch self {
        case .a: .v4
        case .aaaa: .v6
        case .cname: nil
        }
    }
}

/// A domain name as lowercased labels, without the root label. Comparison is therefore
/// ASCII case-insensitive, as RFC 4343 asks.
struct DNSName: Sendable, Hashable, CustomStringConvertible {
    /// The longest encoded name (labels, their length bytes and the root byte).
    static let maxEncodedLength = 255
    static let maxLabelLength = 63

    private(set) var labels: [[UInt8]]

    /// Parses dotted text ("api.example.com", "api.example.com."); nil if a label is empty or
    /// longer than 63 bytes, or the whole name does not fit in 255 bytes.
    init?(_ text: String) {
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        guard !body.isEmpty else { return nil }
        var labels: [[UInt8]] = []
        for label in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= Self.maxLabelLength else { return nil }
            labels.append(Array(label.utf8))
        }
        self.init(labels: labels)
        guard encodedLength <= Self.maxEncodedLength else { return nil }
    }

    init(labels: [[UInt8]]) {
        self.labels = labels.map { $0.map(Self.lowercased) }
    }

    var encodedLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// Dotted text without the trailing dot (non-printable bytes as `\DDD`, as dig shows them).
    var description: String {
        labels.map { label in
            label.map { byte in
                byte > 0x20 && byte < 0x7f && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "\\")
                    ? String(UnicodeScalar(byte)) : "\\" + String("00\(byte)".suffix(3))
            }.joined()
        }.joined(separator: ".")
    }

    /// Appends the uncompressed wire form (length-prefixed labels, then the root byte).
    func encode(into bytes: inout [UInt8]) {
        for label in labels {
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}

/// What one answer to one query says, once it is known to answer that query.
enum DNSAnswer: Sendable, Hashable {
    /// Addresses of the asked type (after following CNAMEs); never empty.
    case addresses([[UInt8]])
    /// NOERROR but no address of that type (the name exists, or the CNAME chain dangles).
    case noData
    /// NXDOMAIN: the name does not exist.
    case nameError
    /// The TC bit: ask again over TCP.
    case truncated
    /// SERVFAIL, REFUSED, NOTIMP, FORMERR...: try another server.
    case serverFailure(rcode: UInt8)
    /// The packet answers this query but cannot be decoded.
    case malformed(String)
}

/// Building queries and reading answers.
enum DNSMessage {
    static let headerLength = 12
    /// The most CNAMEs followed (glibc follows a chain within one answer the same way).
    static let maxCNAMEChain = 16
    /// The most compression pointers followed inside one name: a loop ends here.
    static let maxPointerJumps = 64

    /// A standard query with recursion desired and one question of class IN.
    static func query(id: UInt16, name: DNSName, type: DNSRecordType) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + name.encodedLength + 4)
        append(id, to: &bytes)
        append(0x0100, to: &bytes)  // RD
        append(1, to: &bytes)  // QDCOUNT
        append(0, to: &bytes)
        append(0, to: &bytes)
        append(0, to: &bytes)
        name.encode(into: &bytes)
        append(type.rawValue, to: &bytes)
        append(1, to: &bytes)  // IN
        return bytes
    }

    /// Reads `packet` as the answer to the query (`id`, `name`, `type`); nil when it is not an
    /// answer to that query at all (wrong ID or question, not a response, too short), which
    /// callers ignore as stray or spoofed.
    static func answer(_ packet: [UInt8], id: UInt16, name: DNSName, type: DNSRecordType) -> DNSAnswer? {
        var reader = DNSReader(packet)
        guard let header = reader.header(), header.id == id, header.isResponse, header.opcode == 0 else { return nil }
        guard header.questionCount == 1, let question = reader.name(), let qtype = reader.u16(),
            let qclass = reader.u16(),
            question == name, qtype == type.rawValue, qclass == 1
        else { return nil }
        if header.truncated { return .truncated }
        switch header.rcode {
        case 0: break
        case 3: return .nameError
        default: return .serverFailure(rcode: header.rcode)
        }
        guard let records = reader.records(count: Int(header.answerCount)) else {
            return .malformed("undecodable answer section")
        }
        return addresses(in: records, for: name, type: type, packet: packet)
    }

    /// The addresses of `type` owned by `name` or by a name its CNAME chain leads to.
    private static func addresses(
        in records: [DNSReader.Record], for name: DNSName, type: DNSRecordType, packet: [UInt8]
    )
        -> DNSAnswer
    {
        var chain: Set<DNSName> = [name]
        var current = name
        for _ in 0..<maxCNAMEChain {
            guard let alias = records.first(where: { $0.type == DNSRecordType.cname.rawValue && $0.owner == current })
            else { break }
            var reader = DNSReader(packet, at: alias.dataOffset)
            guard let target = reader.name(), reader.offset <= alias.dataOffset + alias.dataLength else {
                return .malformed("bad CNAME for \(current)")
            }
            guard chain.insert(target).inserted else { return .malformed("CNAME loop at \(target)") }
            current = target
        }
        let length = type == .a ? 4 : 16
        let found = records.filter { $0.type == type.rawValue && $0.dataLength == length && chain.contains($0.owner) }
            .map { Array(packet[$0.dataOffset..<($0.dataOffset + length)]) }
        return found.isEmpty ? .noData : .addresses(found)
    }

    private static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xff))
    }
}

/// A cursor over a packet that returns nil instead of reading past its end.
struct DNSReader {
    struct Header {
        var id: UInt16
        var flags: UInt16
        var questionCount: UInt16
        var answerCount: UInt16

        var isResponse: Bool { flags & 0x8000 != 0 }
        var opcode: UInt8 { UInt8((flags >> 11) & 0x0f) }
        var truncated: Bool { flags & 0x0200 != 0 }
        var rcode: UInt8 { UInt8(flags & 0x000f) }
    }

    /// A resource record with its data left in the packet (CNAME data may point anywhere in it).
    struct Record {
        var owner: DNSName
        var type: UInt16
        var dataOffset: Int
        var dataLength: Int
    }

    let packet: [UInt8]
    private(set) var offset: Int

    init(_ packet: [UInt8], at offset: Int = 0) {
        self.packet = packet
        self.offset = offset
    }

    mutating func u16() -> UInt16? {
        guard offset >= 0, offset + 2 <= packet.count else { return nil }
        defer { offset += 2 }
        return UInt16(packet[offset]) << 8 | UInt16(packet[offset + 1])
    }

    mutating func header() -> Header? {
        guard let id = u16(), let flags = u16(), let qd = u16(), let an = u16(), u16() != nil, u16() != nil else {
            return nil
        }
        return Header(id: id, flags: flags, questionCount: qd, answerCount: an)
    }

    /// A possibly compressed name. The cursor ends after the name's bytes at its original place;
    /// pointers are followed at most `maxPointerJumps` times and the name is held to 255 bytes.
    mutating func name() -> DNSName? {
        var labels: [[UInt8]] = []
        var length = 1
        var position = offset
        var resume: Int? = nil
        var jumps = 0
        while true {
            guard position >= 0, position < packet.count else { return nil }
            let byte = packet[position]
            switch byte & 0xc0 {
            case 0x00:
                if byte == 0 {
                    offset = resume ?? position + 1
                    return DNSName(labels: labels)
                }
                let end = position + 1 + Int(byte)
                length += 1 + Int(byte)
                guard end <= packet.count, length <= DNSName.maxEncodedLength else { return nil }
                labels.append(Array(packet[(position + 1)..<end]))
                position = end
            case 0xc0:
                guard position + 1 < packet.count, jumps < DNSMessage.maxPointerJumps else { return nil }
                jumps += 1
                if resume == nil { resume = position + 2 }
                position = Int(byte & 0x3f) << 8 | Int(packet[position + 1])
            default:
                return nil  // 0x40 and 0x80: extended label types, never valid in an answer we asked for
            }
        }
    }

    /// `count` resource records of class IN, or nil if any record runs past the end.
    mutating func records(count: Int) -> [Record]? {
        var records: [Record] = []
        for _ in 0..<count {
            guard let owner = name(), let type = u16(), let recordClass = u16(), u16() != nil, u16() != nil,
                let length = u16().map(Int.init), offset + length <= packet.count
            else { return nil }
            // Only class IN means anything to us; other records are skipped, not errors.
            if recordClass == 1 {
                records.append(Record(owner: owner, type: type, dataOffset: offset, dataLength: length))
            }
            offset += length
        }
        return records
    }
}
