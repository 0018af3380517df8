import System

// rtnetlink plumbing: requests and their replies over System's NETLINK_ROUTE socket, messages
// built and parsed by hand with bounds checks. The values are the kernel's ABI
// (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h), which Glibc's Swift module does not
// expose. Everything is in host byte order, as netlink is.

/// The constants we use, named as in the kernel headers.
enum NL {
    // Message types (linux/netlink.h, linux/rtnetlink.h).
    static let NLMSG_NOOP: UInt16 = 1
    static let NLMSG_ERROR: UInt16 = 2
    static let NLMSG_DONE: UInt16 = 3
    static let NLMSG_OVERRUN: UInt16 = 4
    static let RTM_NEWLINK: UInt16 = 16
    static let RTM_GETLINK: UInt16 = 18
    static let RTM_NEWROUTE: UInt16 = 24
    static let RTM_DELROUTE: UInt16 = 25
    static let RTM_GETROUTE: UInt16 = 26

    // Header flags.
    static let NLM_F_REQUEST: UInt16 = 0x1
    static let NLM_F_MULTI: UInt16 = 0x2
    static let NLM_F_ACK: UInt16 = 0x4
    static let NLM_F_DUMP_INTR: UInt16 = 0x10
    static let NLM_F_DUMP: UInt16 = 0x300
    static let NLM_F_REPLACE: UInt16 = 0x100
    static let NLM_F_EXCL: UInt16 = 0x200
    static let NLM_F_CREATE: UInt16 = 0x400
    /// On NLMSG_ERROR: the original request is not echoed (NETLINK_CAP_ACK).
    static let NLM_F_CAPPED: UInt16 = 0x100
    /// On NLMSG_ERROR: extended-ack attributes follow (NETLINK_EXT_ACK).
    static let NLM_F_ACK_TLVS: UInt16 = 0x200
    static let NLMSGERR_ATTR_MSG: UInt16 = 1

    // Routes.
    static let RT_TABLE_MAIN: UInt8 = 254
    static let RTPROT_BOOT: UInt8 = 3
    static let RT_SCOPE_UNIVERSE: UInt8 = 0
    static let RTN_UNICAST: UInt8 = 1
    static let RTM_F_CLONED: UInt32 = 0x200
    static let RTA_DST: UInt16 = 1
    static let RTA_OIF: UInt16 = 4
    static let RTA_GATEWAY: UInt16 = 5
    static let RTA_PRIORITY: UInt16 = 6
    static let RTA_MULTIPATH: UInt16 = 9
    static let RTA_TABLE: UInt16 = 15
    static let RTA_VIA: UInt16 = 18
    static let RTA_NH_ID: UInt16 = 30

    // Links.
    static let IFLA_ADDRESS: UInt16 = 1
    static let IFLA_IFNAME: UInt16 = 3

    static let headerSize = 16
    static let rtmsgSize = 12
    static let ifinfomsgSize = 16
    static let nlmsgerrSize = 20

    /// NLMSG_ALIGN / RTA_ALIGN: both round up to 4 bytes.
    static func align(_ length: Int) -> Int { (length + 3) & ~3 }
}

/// A netlink call that failed: the step, the errno, and the kernel's own text when it sent one.
struct NetlinkError: Error, Sendable, Hashable {
    var operation: String
    var errno: Errno
    /// The extended-ack message ("Nexthop has invalid gateway"), or our reason for a bad reply.
    var message: String?
}

/// Reads host-order integers out of kernel bytes; nil when the bytes are too short.
struct ByteReader {
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    func u8(_ offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[bytes.startIndex + offset] : nil
    }

    func u16(_ offset: Int) -> UInt16? { load(offset, as: UInt16.self) }
    func u32(_ offset: Int) -> UInt32? { load(offset, as: UInt32.self) }
    func i32(_ offset: Int) -> Int32? { load(offset, as: Int32.self) }

    private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= bytes.count - size else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}

extension Array where Element == UInt8 {
    mutating func appendNative<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }

    mutating func padToAlignment() {
        append(contentsOf: repeatElement(0, count: NL.align(count) - count))
    }
}

/// One routing attribute (struct rtattr and its payload).
struct NetlinkAttribute: Sendable, Hashable {
    var type: UInt16
    var value: [UInt8]

    init(type: UInt16, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    init(type: UInt16, u32 value: UInt32) {
        var bytes: [UInt8] = []
        bytes.appendNative(value)
        self.init(type: type, value: bytes)
    }

    var u32: UInt32? { value.count == 4 ? ByteReader(value[...]).u32(0) : nil }

    /// The attributes packed in `bytes`; nil if one overruns them.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [NetlinkAttribute]? {
        var attributes: [NetlinkAttribute] = []
        var offset = 0
        while bytes.count - offset >= 4 {
            let reader = ByteReader(bytes[(bytes.startIndex + offset)...])
            guard let length = reader.u16(0).map(Int.init), let type = reader.u16(2),
                length >= 4, length <= bytes.count - offset
            else { return nil }
            let start = bytes.startIndex + offset
            // Drop NLA_F_NESTED / NLA_F_NET_BYTEORDER from the type.
            attributes.append(NetlinkAttribute(type: type & 0x3FFF, value: Array(bytes[(start + 4)..<(start + length)])))
            offset += NL.align(length)
        }
        return attributes
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.appendNative(UInt16(4 + value.count))
        bytes.appendNative(type)
        bytes.append(contentsOf: value)
        bytes.padToAlignment()
    }
}

/// One message as received: the header fields we check and its payload.
struct NetlinkMessage: Sendable {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var payload: ArraySlice<UInt8>

    /// The messages in one datagram; nil if a header lies about its length.
    static func parse(_ datagram: [UInt8]) -> [NetlinkMessage]? {
        var messages: [NetlinkMessage] = []
        var offset = 0
        while datagram.count - offset >= NL.headerSize {
            let reader = ByteReader(datagram[offset...])
            guard let length = reader.u32(0).map(Int.init), let type = reader.u16(4),
                let flags = reader.u16(6), let sequence = reader.u32(8),
                length >= NL.headerSize, length <= datagram.count - offset
            else { return nil }
            messages.append(NetlinkMessage(type: type, flags: flags, sequence: sequence,
                                           payload: datagram[(offset + NL.headerSize)..<(offset + length)]))
            offset += NL.align(length)
        }
        return messages
    }

    /// For NLMSG_ERROR: the (positive) errno, 0 for an ACK, and the extended-ack text if any.
    func errorCode() -> (errno: Errno, message: String?)? {
        let reader = ByteReader(payload)
        guard let code = reader.i32(0), payload.count >= NL.nlmsgerrSize else { return nil }
        var message: String?
        if flags & NL.NLM_F_ACK_TLVS != 0 {
            // struct nlmsgerr, then the request (unless capped), then the TLVs.
            var offset = NL.nlmsgerrSize
            if flags & NL.NLM_F_CAPPED == 0, let echoed = reader.u32(4) {
                offset = 4 + NL.align(Int(echoed))
            }
            if offset <= payload.count,
                let tlvs = NetlinkAttribute.parse(payload[(payload.startIndex + offset)...]),
                let text = tlvs.first(where: { $0.type == NL.NLMSGERR_ATTR_MSG })
            {
                message = String(decoding: text.value.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        // Kernel errors are negative errnos; anything else is not one we can name.
        return (code <= 0 && code != Int32.min ? Errno(rawValue: -code) : .protocolError, message)
    }
}

/// struct rtmsg plus its attributes: a route as the kernel reports or takes it.
struct RouteMessage: Sendable, Hashable {
    var family: UInt8
    var dstLength: UInt8 = 0
    var srcLength: UInt8 = 0
    var tos: UInt8 = 0
    var table: UInt8 = NL.RT_TABLE_MAIN
    var proto: UInt8 = NL.RTPROT_BOOT
    var scope: UInt8 = NL.RT_SCOPE_UNIVERSE
    var type: UInt8 = NL.RTN_UNICAST
    var flags: UInt32 = 0
    var attributes: [NetlinkAttribute] = []

    init(family: UInt8) { self.family = family }

    /// nil when the payload is too short or its attributes overrun it.
    init?(payload: ArraySlice<UInt8>) {
        let reader = ByteReader(payload)
        guard let family = reader.u8(0), let dstLength = reader.u8(1), let srcLength = reader.u8(2),
            let tos = reader.u8(3), let table = reader.u8(4), let proto = reader.u8(5),
            let scope = reader.u8(6), let type = reader.u8(7), let flags = reader.u32(8),
            let attributes = NetlinkAttribute.parse(payload.dropFirst(NL.rtmsgSize))
        else { return nil }
        self.family = family
        self.dstLength = dstLength
        self.srcLength = srcLength
        self.tos = tos
        self.table = table
        self.proto = proto
        self.scope = scope
        self.type = type
        self.flags = flags
        self.attributes = attributes
    }

    func attribute(_ type: UInt16) -> NetlinkAttribute? { attributes.first { $0.type == type } }

    /// RTA_TABLE when present (tables above 255), else rtm_table.
    var fullTable: UInt32 { attribute(NL.RTA_TABLE)?.u32 ?? UInt32(table) }

    var outputInterface: Int32? { attribute(NL.RTA_OIF)?.u32.map { Int32(bitPattern: $0) } }

    var gateway: [UInt8]? { attribute(NL.RTA_GATEWAY)?.value }

    var payload: [UInt8] {
        var bytes = [family, dstLength, srcLength, tos, table, proto, scope, type]
        bytes.appendNative(flags)
        for attribute in attributes { attribute.encode(into: &bytes) }
        return bytes
    }
}

/// Requests and replies on one NETLINK_ROUTE socket in the calling thread's network namespace,
/// matched by sequence number.
final class NetlinkSocket {
    private let socket: NetlinkRouteSocket
    private var sequence: UInt32

    /// Opens the socket; replies that do not arrive within `timeoutSeconds` fail with EAGAIN.
    init(timeoutSeconds: Int32 = 10) throws(NetlinkError) {
        do { socket = try NetlinkRouteSocket(timeoutSeconds: timeoutSeconds) } catch {
            throw NetlinkError(operation: error.operation, errno: error.errno)
        }
        sequence = UInt32.random(in: 1...0x7FFF_FFFF)
    }

    /// Sends a request and waits for its ACK; throws the kernel's error otherwise.
    func request(_ type: UInt16, flags: UInt16 = 0, payload: [UInt8], operation: String) throws(NetlinkError) {
        let sequence = try send(type, flags: NL.NLM_F_REQUEST | NL.NLM_F_ACK | flags, payload: payload, operation: operation)
        while true {
            for message in try receive(operation: operation) where message.sequence == sequence {
                if message.type == NL.NLMSG_ERROR { return try check(message, operation: operation) }
            }
        }
    }

    /// Sends a request whose answer is one message (RTM_GETLINK by name) and returns it.
    func get(_ type: UInt16, payload: [UInt8], operation: String) throws(NetlinkError) -> NetlinkMessage {
        let sequence = try send(type, flags: NL.NLM_F_REQUEST, payload: payload, operation: operation)
        while true {
            for message in try receive(operation: operation) where message.sequence == sequence {
                if message.type == NL.NLMSG_ERROR {
                    try check(message, operation: operation)
                    throw NetlinkError(operation: operation, errno: .protocolError, message: "ACK without an answer")
                }
                return message
            }
        }
    }

    /// The messages of a dump, retried (up to 5 times) when the kernel flags it as interrupted
    /// by a concurrent change.
    func dump(_ type: UInt16, payload: [UInt8], operation: String) throws(NetlinkError) -> [NetlinkMessage] {
        var attempt = 0
        while true {
            attempt += 1
            let (messages, interrupted) = try dumpOnce(type, payload: payload, operation: operation)
            if !interrupted { return messages }
            if attempt == 5 {
                throw NetlinkError(operation: operation, errno: .interrupted, message: "the dump kept changing under us")
            }
        }
    }

    private func dumpOnce(_ type: UInt16, payload: [UInt8], operation: String) throws(NetlinkError) -> ([NetlinkMessage], Bool) {
        let sequence = try send(type, flags: NL.NLM_F_REQUEST | NL.NLM_F_DUMP, payload: payload, operation: operation)
        var messages: [NetlinkMessage] = []
        var interrupted = false
        while true {
            for message in try receive(operation: operation) where message.sequence == sequence {
                if message.flags & NL.NLM_F_DUMP_INTR != 0 { interrupted = true }
                switch message.type {
                case NL.NLMSG_DONE:
                    // The payload holds the dump's own error (0 on success) on kernels that send one.
                    if let code = ByteReader(message.payload).i32(0), code < 0 {
                        throw NetlinkError(operation: operation, errno: Errno(rawValue: -code))
                    }
                    return (messages, interrupted)
                case NL.NLMSG_ERROR:
                    try check(message, operation: operation)
                    return (messages, interrupted)
                case NL.NLMSG_NOOP, NL.NLMSG_OVERRUN:
                    continue
                default:
                    messages.append(message)
                }
            }
        }
    }

    private func check(_ message: NetlinkMessage, operation: String) throws(NetlinkError) {
        guard let (code, text) = message.errorCode() else {
            throw NetlinkError(operation: operation, errno: .protocolError, message: "truncated NLMSG_ERROR")
        }
        if code.rawValue != 0 { throw NetlinkError(operation: operation, errno: code, message: text) }
    }

    private func send(_ type: UInt16, flags: UInt16, payload: [UInt8], operation: String) throws(NetlinkError) -> UInt32 {
        sequence &+= 1
        var message: [UInt8] = []
        message.appendNative(UInt32(NL.headerSize + payload.count))
        message.appendNative(type)
        message.appendNative(flags)
        message.appendNative(sequence)
        message.appendNative(UInt32(0))
        message.append(contentsOf: payload)
        do { try socket.send(message) } catch { throw NetlinkError(operation: operation, errno: error.errno) }
        return sequence
    }

    /// The messages of the next datagram.
    private func receive(operation: String) throws(NetlinkError) -> [NetlinkMessage] {
        let datagram: [UInt8]
        do { datagram = try socket.receive() } catch {
            throw NetlinkError(operation: operation, errno: error.errno,
                               message: error.errno == .resourceTemporarilyUnavailable ? "no reply from the kernel" : nil)
        }
        guard let messages = NetlinkMessage.parse(datagram) else {
            throw NetlinkError(operation: operation, errno: .protocolError, message: "malformed netlink reply")
        }
        return messages
    }
}

/// One hop of a route: the interface index and the gateway bytes (4 or 16), either may be absent.
struct RouteHop: Sendable, Hashable {
    var interfaceIndex: Int32?
    var gateway: [UInt8]?
}

extension RouteMessage {
    /// The route's hops: those of RTA_MULTIPATH (struct rtnexthop + attributes each), else the
    /// one of RTA_OIF/RTA_GATEWAY (or RTA_VIA). nil when RTA_MULTIPATH is malformed.
    var hops: [RouteHop]? {
        guard let multipath = attribute(NL.RTA_MULTIPATH) else {
            return [RouteHop(interfaceIndex: outputInterface, gateway: gateway ?? Self.viaAddress(attribute(NL.RTA_VIA)))]
        }
        var hops: [RouteHop] = []
        let bytes = multipath.value[...]
        var offset = 0
        while bytes.count - offset >= 8 {
            let reader = ByteReader(bytes[offset...])
            guard let length = reader.u16(0).map(Int.init), let index = reader.i32(4),
                length >= 8, length <= bytes.count - offset,
                let attributes = NetlinkAttribute.parse(bytes[(offset + 8)..<(offset + length)])
            else { return nil }
            let gateway = attributes.first { $0.type == NL.RTA_GATEWAY }?.value
                ?? Self.viaAddress(attributes.first { $0.type == NL.RTA_VIA })
            hops.append(RouteHop(interfaceIndex: index, gateway: gateway))
            offset += NL.align(length)
        }
        return hops
    }

    /// The address of a struct rtvia (u16 family, then the address).
    private static func viaAddress(_ via: NetlinkAttribute?) -> [UInt8]? {
        guard let via, via.value.count == 6 || via.value.count == 18 else { return nil }
        return Array(via.value.dropFirst(2))
    }
}

/// The link and route requests PodRoutes makes.
extension NetlinkSocket {
    /// The index of the interface called `name` (RTM_GETLINK with IFLA_IFNAME).
    func interfaceIndex(named name: String) throws(NetlinkError) -> Int32 {
        let operation = "RTM_GETLINK \(name)"
        guard !name.isEmpty, name.utf8.count < 16, !name.utf8.contains(0) else {
            throw NetlinkError(operation: operation, errno: .invalidArgument, message: "not a valid interface name")
        }
        var payload = [UInt8](repeating: 0, count: NL.ifinfomsgSize)  // AF_UNSPEC, index 0
        NetlinkAttribute(type: NL.IFLA_IFNAME, value: Array(name.utf8) + [0]).encode(into: &payload)
        let reply = try get(NL.RTM_GETLINK, payload: payload, operation: operation)
        guard reply.type == NL.RTM_NEWLINK, let index = ByteReader(reply.payload).i32(4), index > 0 else {
            throw NetlinkError(operation: operation, errno: .protocolError, message: "unexpected reply type \(reply.type)")
        }
        return index
    }

    /// Every interface's name by index (RTM_GETLINK dump).
    func interfaceNames() throws(NetlinkError) -> [Int32: String] {
        Dictionary(try links().map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every interface's hardware address by name, as `aa:bb:...` (RTM_GETLINK dump); interfaces
    /// without one (lo has zeros, a tun none) are left out.
    func hardwareAddresses() throws(NetlinkError) -> [String: String] {
        var macs: [String: String] = [:]
        for link in try links() where link.address.contains(where: { $0 != 0 }) {
            macs[link.name] = link.address.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined(separator: ":")
        }
        return macs
    }

    /// One RTM_GETLINK dump: each interface's index, name and hardware address (empty if none).
    private func links() throws(NetlinkError) -> [(index: Int32, name: String, address: [UInt8])] {
        let messages = try dump(NL.RTM_GETLINK, payload: [UInt8](repeating: 0, count: NL.ifinfomsgSize),
                                operation: "RTM_GETLINK dump")
        return messages.compactMap { message in
            guard message.type == NL.RTM_NEWLINK, let index = ByteReader(message.payload).i32(4),
                  let attributes = NetlinkAttribute.parse(message.payload.dropFirst(NL.ifinfomsgSize)),
                  let name = attributes.first(where: { $0.type == NL.IFLA_IFNAME })
            else { return nil }
            return (index, String(decoding: name.value.prefix(while: { $0 != 0 }), as: UTF8.self),
                    attributes.first(where: { $0.type == NL.IFLA_ADDRESS })?.value ?? [])
        }
    }

    /// The default routes (dst_len 0, no source prefix, unicast) of the main table for `family`
    /// (AF_INET or AF_INET6), as RTM_GETROUTE dumps them. Cloned (cache) entries are skipped.
    func mainDefaultRoutes(family: UInt8) throws(NetlinkError) -> [RouteMessage] {
        let messages = try dump(NL.RTM_GETROUTE, payload: RouteMessage(family: family).headerOnly,
                                operation: family == SocketAddress.Family.v4.netlinkFamily ? "RTM_GETROUTE dump (IPv4)" : "RTM_GETROUTE dump (IPv6)")
        var routes: [RouteMessage] = []
        for message in messages where message.type == NL.RTM_NEWROUTE {
            guard let route = RouteMessage(payload: message.payload) else {
                throw NetlinkError(operation: "RTM_GETROUTE dump", errno: .protocolError, message: "malformed route message")
            }
            guard route.family == family, route.dstLength == 0, route.srcLength == 0,
                route.type == NL.RTN_UNICAST, route.fullTable == UInt32(NL.RT_TABLE_MAIN),
                route.flags & NL.RTM_F_CLONED == 0
            else { continue }
            routes.append(route)
        }
        return routes
    }
}

extension RouteMessage {
    /// Just the struct rtmsg (no attributes), as a dump request carries it.
    var headerOnly: [UInt8] {
        var copy = self
        copy.attributes = []
        copy.table = 0
        copy.proto = 0
        copy.type = 0
        return copy.payload
    }
}
